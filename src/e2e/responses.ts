/**
 * What Keycloak's answers to the authorization and token requests say, as findings: the callback's `iss`
 * (RFC 9207) against the discovered issuer, and the token endpoint's errors (`invalid_target` under RFC 8707
 * resource indicators explained, not mistaken for a redirect_uri or PKCE mismatch), and the issuer of the
 * authorization server metadata (RFC 8414 §3.3). Pure, like steps.ts, but for watchAsMetadata's fetch wrapper.
 */
import { command } from '../ui/invocation.js';
import type { Finding } from '../findings.js';
import { fail, pass, STEP, warn } from './steps.js';

/** Who compared the callback's `iss`: the flow itself (the v1 SDK does not), or the v2 SDK in `finishAuth`. */
export type IssChecker = 'flow' | 'sdk-v2';

/** What the callback's `iss` says against the issuer the client discovered (RFC 9207 §2.4, the MCP spec's table). */
export type IssVerdict =
  | { ok: true; iss?: string; advertised: boolean }
  | { ok: false; problem: 'missing' | 'mismatch'; expected: string; received?: string };

/**
 * RFC 9207 §2.4 as the MCP SDK v2 applies it: compare `iss` by simple string equality when present; when
 * absent, refuse if the metadata advertises `authorization_response_iss_parameter_supported`. Without an
 * issuer to compare with (no validated metadata), there is nothing to check.
 */
export function checkResponseIssuer(
  iss: string | undefined,
  expectedIssuer: string | undefined,
  advertised: boolean,
): IssVerdict {
  if (expectedIssuer === undefined) return iss === undefined ? { ok: true, advertised } : { ok: true, iss, advertised };
  if (iss === undefined)
    return advertised ? { ok: false, problem: 'missing', expected: expectedIssuer } : { ok: true, advertised };
  if (iss !== expectedIssuer) return { ok: false, problem: 'mismatch', expected: expectedIssuer, received: iss };
  return { ok: true, iss, advertised };
}

/** An attacker may choose a mismatching `iss` (RFC 9207 mix-up): show it JSON-encoded and short, never raw. */
function shown(value: string): string {
  const encoded = JSON.stringify(value);
  return encoded.length > 200 ? `${encoded.slice(0, 199)}…` : encoded;
}

function checkedBy(checker: IssChecker): string {
  return checker === 'flow'
    ? 'checked by the e2e flow before finishAuth (the v1 SDK does not check iss)'
    : 'checked by @modelcontextprotocol/client (v2) in finishAuth, before it redeemed the code';
}

/** The `e2e.iss` finding for a verdict, naming which step compared it. `clientId` names the client whose responses lack iss. */
export function readResponseIssuer(verdict: IssVerdict, checker: IssChecker, clientId?: string): Finding {
  if (verdict.ok) {
    if (verdict.iss !== undefined) return pass(STEP.iss, `iss ${verdict.iss} equals the issuer; ${checkedBy(checker)}`);
    return warn(
      STEP.iss,
      `no iss in the redirect, and the metadata does not advertise authorization_response_iss_parameter_supported: clients cannot detect a mix-up attack; ${checkedBy(checker)}`,
      'Serve Keycloak\u2019s own metadata: every supported Keycloak (26.0 and later) advertises iss and sends it.',
    );
  }
  if (verdict.problem === 'missing') {
    const client = clientId ? `client ${clientId}` : 'the registered client';
    return fail(
      STEP.iss,
      `the redirect carried no iss although the metadata advertises authorization_response_iss_parameter_supported; ${checkedBy(checker)}`,
      `Turn off "Exclude Issuer From Authentication Response" for ${client} (Clients → the client → Advanced → OpenID Connect Compatibility Modes; attribute exclude.issuer.from.auth.response = "false").`,
    );
  }
  return fail(
    STEP.iss,
    `the redirect carried iss ${shown(verdict.received ?? '')}, but the issuer is ${verdict.expected}; ${checkedBy(checker)}`,
    'A response from another server (mix-up) or a proxy that rewrites Keycloak\u2019s redirect: make Keycloak\u2019s hostname (KC_HOSTNAME) the public URL clients use, so the metadata issuer and the iss of its responses are one URL.',
  );
}

/** The OAuth error code of an SDK error: v2's `code`, v1's `errorCode`, else `error=…` or a bare code in the message. */
export function oauthErrorCode(error: unknown): string | undefined {
  const record = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    errorCode?: unknown;
    message?: unknown;
  };
  for (const value of [record.code, record.errorCode])
    if (typeof value === 'string' && /^[a-z_]+$/.test(value)) return value;
  const text = typeof record.message === 'string' ? record.message : typeof error === 'string' ? error : '';
  return /\b(invalid_target)\b/.exec(text)?.[1];
}

/** Keycloak's own words when token and authorization request named different resources. */
const RESOURCE_NOT_MATCHING = /not matching the original request/i;

/**
 * The fix for an `invalid_target` answer (RFC 8707), which only a Keycloak running with resource indicators
 * sends: the `resource` the client sent names no client of the realm whose `resource_url` attribute equals it
 * (mcp-keycloak's `apply` creates that resource client), or the token request's `resource` differs from the
 * authorization request's. `text` is the error message (Keycloak's error_description).
 */
export function invalidTargetFix(
  text: string,
  resource: string,
  issuer: string | undefined,
  endpoint: 'authorize' | 'token' = 'token',
): string {
  if (endpoint === 'authorize') {
    // Keycloak's authorization endpoint refuses only a `resource` it cannot parse; an unknown one fails at the token endpoint.
    return `Keycloak (resource indicators, RFC 8707) refused the authorization request's \`resource\`: it must be an absolute URI without a fragment. The MCP URL, exactly as ${resource}, is what clients should send.`;
  }
  if (RESOURCE_NOT_MATCHING.test(text)) {
    return `The client sent a different \`resource\` to the token endpoint than in the authorization request (RFC 8707); Keycloak with resource indicators refuses that. Clients must send ${resource} in both.`;
  }
  const realm = issuer ? /\/realms\/([^/]+)\/?$/.exec(issuer)?.[1] : undefined;
  const where = realm ? `realm ${decodeURIComponent(realm)}` : 'the realm';
  return `Keycloak runs with resource indicators (RFC 8707) and no client of ${where} has resource_url = ${resource}: run \`${command('apply')}\` (it creates the resource client).`;
}

/** What the flow knows about the failed token request beyond the error: Keycloak's HTTP status, the client's grant types. */
export interface TokenRequestFacts {
  status?: number;
  /** The `grant_types` the client registered (or its metadata document lists); undefined when unknown. */
  grantTypes?: readonly string[];
}

/**
 * The fix for HTTP 500 from Keycloak's token endpoint to a request with `resource`. Keycloak 26.6 and 26.7
 * (seen on 26.7.3) started with resource indicators throw a NullPointerException in
 * ResourceIndicatorsPostProcessor when the token they are about to issue comes without a refresh token
 * (keycloak#50251: a client registered without the `refresh_token` grant gets "Use refresh tokens" off) or
 * without any audience (keycloak#49077, fixed in 26.8.0). Its answer only says "consult the server log".
 */
export function tokenServerErrorFix(facts: TokenRequestFacts, resource: string): string {
  const keycloak =
    'Keycloak 26.6/26.7 with resource indicators answers 500 (a NullPointerException in ResourceIndicatorsPostProcessor) to a token request with `resource`';
  if (facts.grantTypes && !facts.grantTypes.includes('refresh_token')) {
    return `${keycloak} when the token comes without a refresh token (keycloak#50251): this client registered grant_types ${JSON.stringify(facts.grantTypes)}, without refresh_token, so Keycloak turned off its refresh tokens. Register with "refresh_token" among grant_types (as VS Code and the MCP SDKs do), or turn on "Use refresh tokens" for the client (Clients → the client → Advanced → OpenID Connect Compatibility Modes).`;
  }
  return `${keycloak} when the token comes without a refresh token (keycloak#50251: the client's "Use refresh tokens" is off) or without an audience (keycloak#49077, fixed in 26.8.0: the client lacks the scope whose Audience mapper adds ${resource}; run \`${command('doctor')}\` for the realm). Keycloak's log names which.`;
}

const DPOP_TOKEN_FIX = `The realm requires DPoP-bound tokens of this client (\`${command('apply --require-dpop')}\`: Keycloak's dpop-bind-enforcer), so its token request must carry a DPoP proof (RFC 9449). A client that sends none (the v1 MCP SDK) cannot sign in here: apply without --require-dpop, or use a DPoP client (the v2 SDK with dpop(); \`${command('doctor --e2e')}\` sends proofs when the config sets requireDpop or the PRM requires DPoP).`;

/** The `e2e.token` failure for an error from `finishAuth`: `invalid_target`, Keycloak's 500 and a missing DPoP proof explained, else the spec's fix. */
export function readTokenError(
  error: unknown,
  message: string,
  resource: string,
  issuer: string | undefined,
  facts: TokenRequestFacts = {},
): Finding {
  if (oauthErrorCode(error) === 'invalid_target')
    return fail(STEP.token, message, invalidTargetFix(message, resource, issuer));
  // dpop-bind-enforcer (apply --require-dpop) refuses a token request without a proof: "DPoP proof is missing".
  if (oauthErrorCode(error) === 'invalid_dpop_proof' || /\bDPoP proof\b/i.test(message))
    return fail(STEP.token, message, DPOP_TOKEN_FIX);
  if (facts.status === 500)
    return fail(
      STEP.token,
      `Keycloak answered HTTP 500 to the token request: ${message}`,
      tokenServerErrorFix(facts, resource),
    );
  return fail(STEP.token, message);
}

/**
 * RFC 8414 §3.3: the `issuer` in authorization server metadata must be the issuer identifier the metadata URL
 * was built from (path-inserted `/.well-known/oauth-authorization-server/…` or `/.well-known/openid-configuration/…`,
 * or OpenID's appended `…/.well-known/openid-configuration`), with the SDK's one tolerance of a trailing `/`.
 * Returns why `issuer` is refused, or undefined when it matches (or `url` is no metadata URL). The v2 SDK applies
 * this rule itself; for v1, which does not, the flow does (mix-up defence: a poisoned issuer's endpoints are never used).
 */
export function metadataIssuerProblem(url: string, issuer: unknown): string | undefined {
  const parsed = new URL(url);
  const inserted = /^\/\.well-known\/(?:oauth-authorization-server|openid-configuration)(\/.*)?$/.exec(parsed.pathname);
  const appended = /^(.*)\/\.well-known\/openid-configuration$/.exec(parsed.pathname);
  const path = inserted ? (inserted[1] ?? '') : appended ? appended[1]! : undefined;
  if (path === undefined) return undefined;
  const expected = `${parsed.origin}${path}`;
  if (typeof issuer === 'string' && (issuer === expected || issuer === `${expected}/` || `${issuer}/` === expected))
    return undefined;
  return `the authorization server metadata at ${parsed.origin}${parsed.pathname} names the issuer ${shown(String(issuer))}, not ${expected} (RFC 8414 §3.3): its endpoints were not used`;
}

/**
 * Watches the authorization server metadata the SDK fetches: notes whether it advertises
 * `authorization_response_iss_parameter_supported` (the v1 SDK's schema for OpenID discovery, what it reads from
 * Keycloak before 26.4, drops that field), and with `checkIssuer` (v1, which does not) refuses a document whose
 * `issuer` is not the one its URL was built from, before the SDK can use its endpoints.
 */
export function watchAsMetadata(seen: { value: boolean }, checkIssuer: boolean, inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (response.status === 200 && /\/\.well-known\/(openid-configuration|oauth-authorization-server)/.test(url)) {
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as Record<string, unknown> | undefined;
      const problem = checkIssuer && body ? metadataIssuerProblem(url, body.issuer) : undefined;
      if (problem) throw new Error(problem);
      if (body?.authorization_response_iss_parameter_supported === true) seen.value = true;
    }
    return response;
  };
}
