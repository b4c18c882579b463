/**
 * What Keycloak's answers to the authorization and token requests say, as findings: the callback's `iss`
 * (RFC 9207) against the discovered issuer, and the token endpoint's errors (`invalid_target` under RFC 8707
 * resource indicators explained, not mistaken for a redirect_uri or PKCE mismatch). Pure, like steps.ts.
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
export function checkResponseIssuer(iss: string | undefined, expectedIssuer: string | undefined, advertised: boolean): IssVerdict {
  if (expectedIssuer === undefined) return iss === undefined ? { ok: true, advertised } : { ok: true, iss, advertised };
  if (iss === undefined) return advertised ? { ok: false, problem: 'missing', expected: expectedIssuer } : { ok: true, advertised };
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
  const record = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; errorCode?: unknown; message?: unknown };
  for (const value of [record.code, record.errorCode]) if (typeof value === 'string' && /^[a-z_]+$/.test(value)) return value;
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
export function invalidTargetFix(text: string, resource: string, issuer: string | undefined, endpoint: 'authorize' | 'token' = 'token'): string {
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

/** The `e2e.token` failure for an error from `finishAuth`: `invalid_target` explained, else the spec's fix. */
export function readTokenError(error: unknown, message: string, resource: string, issuer: string | undefined): Finding {
  return oauthErrorCode(error) === 'invalid_target' ? fail(STEP.token, message, invalidTargetFix(message, resource, issuer)) : fail(STEP.token, message);
}
