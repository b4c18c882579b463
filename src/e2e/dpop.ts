/**
 * DPoP (RFC 9449) in the e2e flow: whether the client binds its tokens to a key, and what the token step says
 * about the binding. The v2 SDK does the protocol itself once the provider implements `dpop()`: a proof on every
 * token request, and `Authorization: DPoP` with a fresh proof on every MCP request when Keycloak answered
 * `token_type: DPoP` (its `withDpopFromProvider`, which also retries a `use_dpop_nonce` challenge). The v1 SDK
 * (1.x) knows no DPoP: it ignores `dpop()` and stays a bearer client.
 */
import { DpopSession, type OAuthDiscoveryState, type StoredOAuthTokens } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { parseWwwAuthenticate } from '../oauth/www-authenticate.js';
import type { TraceEntry } from './trace.js';

/**
 * `true`: always send proofs; `false`: never (a bearer-only client, to see what such a client meets);
 * `auto`: when the MCP server asks for DPoP: its Protected Resource Metadata says `dpop_bound_access_tokens_required`
 * (RFC 9728 §2), or its 401 offers the `DPoP` scheme (RFC 9449 §7.1: it accepts DPoP-bound tokens).
 */
export type DpopChoice = boolean | 'auto';

/**
 * Whether the client binds its tokens now, by the choice and what discovery found so far. Keycloak's own metadata
 * is no signal: it lists dpop_signing_alg_values_supported whether or not the realm or the server want DPoP.
 */
export function dpopWanted(
  choice: DpopChoice,
  discovery: OAuthDiscoveryState | undefined,
  challengeOffersDpop = false,
): boolean {
  if (choice !== 'auto') return choice;
  const prm = discovery?.resourceMetadata as { dpop_bound_access_tokens_required?: unknown } | undefined;
  return prm?.dpop_bound_access_tokens_required === true || challengeOffersDpop;
}

/** Whether a 401 of the MCP endpoint offered the DPoP scheme (`WWW-Authenticate: DPoP …`, alone or beside Bearer). */
export function offersDpop(entries: TraceEntry[], mcpPath: string): boolean {
  return entries.some(
    (entry) =>
      entry.url === mcpPath &&
      entry.status === 401 &&
      entry.challenge !== undefined &&
      parseWwwAuthenticate(entry.challenge).some((c) => c.scheme.toLowerCase() === 'dpop'),
  );
}

/**
 * The client's DPoP key, one per store: a token is bound to the key it was requested with (`cnf.jkt`), so the
 * key must live as long as the tokens and the registration do, as the SDK's docs ask.
 */
export class DpopKeyHolder {
  private session?: Promise<DpopSession>;

  get(): Promise<DpopSession> {
    this.session ??= DpopSession.create();
    return this.session;
  }

  /** Whether a key was ever made (the client sent proofs). */
  get created(): boolean {
    return this.session !== undefined;
  }
}

/** The token step's words on the binding: `token_type DPoP` and `cnf.jkt` equal to the client's key, or why not. */
export async function describeBinding(tokens: StoredOAuthTokens, keys: DpopKeyHolder): Promise<string> {
  if (!keys.created) return '';
  const thumbprint = (await keys.get()).thumbprint;
  let jkt: unknown;
  try {
    jkt = (decodeJwt(tokens.access_token).cnf as { jkt?: unknown } | undefined)?.jkt;
  } catch {
    jkt = undefined; // an opaque token: only introspection shows cnf
  }
  if (tokens.token_type.toLowerCase() !== 'dpop')
    return '; a DPoP proof was sent, but Keycloak issued a Bearer token (not bound)';
  if (jkt === thumbprint) return `; bound to the client's DPoP key (cnf.jkt ${thumbprint})`;
  return `; token_type DPoP, but cnf.jkt is ${JSON.stringify(jkt ?? null)}, not the client's key ${thumbprint}`;
}
