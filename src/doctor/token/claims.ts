/**
 * Compares a token's claims with what the MCP server expects, one finding per claim, each mismatch
 * explained in one sentence (e.g. "aud is http://localhost:8000/mcp/ but the server is
 * http://localhost:8000/mcp: a trailing slash"). Pure: the clock is a parameter.
 */
import { fail, pass, warn, type Finding } from '../../findings.js';
import { explainUrlDifference, realmOf } from '../url-diff.js';
import { CLOCK_TOLERANCE_SECONDS, audienceContains, scopesOf } from '../../server/verify.js';
import { isoTime } from './decode.js';

export interface Expected {
  issuer: string;
  resource: string;
  /** The token needs at least one of them (each carries the audience). */
  scopes: string[];
  /** Fix for realm-side causes (an `mcp-keycloak apply …` command). */
  applyFix: string;
}

const RESET =
  'Get a fresh token: in VS Code run "Authentication: Remove Dynamic Authentication Providers" and reconnect.';

/** One finding per claim (iss, aud, scope, exp, nbf, typ, azp), each mismatch explained in one sentence. */
export function compareClaims(
  claims: Record<string, unknown>,
  expected: Expected,
  nowSeconds = Math.floor(Date.now() / 1000),
): Finding[] {
  return [
    iss(claims, expected),
    aud(claims, expected),
    scope(claims, expected),
    exp(claims, nowSeconds),
    nbf(claims, nowSeconds),
    typ(claims),
    azp(claims),
  ];
}

function iss(claims: Record<string, unknown>, expected: Expected): Finding {
  const title = 'Token iss is this realm';
  const value = claims.iss;
  if (value === expected.issuer) return pass('token.iss', title, { actual: String(value) });
  const actual = typeof value === 'string' ? value : '(no iss)';
  const otherRealm = typeof value === 'string' ? realmOf(value) : undefined;
  const expectedRealm = realmOf(expected.issuer);
  const why =
    typeof value !== 'string'
      ? 'The token has no issuer, so no server can trust it.'
      : otherRealm && expectedRealm && otherRealm !== expectedRealm
        ? `iss is ${value} but the server expects ${expected.issuer}: the token comes from realm "${otherRealm}", not "${expectedRealm}".`
        : `iss is ${value} but the server expects ${expected.issuer}: ${explainUrlDifference(value, expected.issuer)}. Keycloak writes the URL it was reached at; clients and server must use the same Keycloak URL.`;
  return fail('token.iss', title, {
    expected: expected.issuer,
    actual,
    why,
    fix: `${RESET} Make sure the client signs in through ${expected.issuer}.`,
  });
}

function aud(claims: Record<string, unknown>, expected: Expected): Finding {
  const title = 'Token aud contains the MCP URL';
  const value = claims.aud;
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value.map(String) : [];
  if (audienceContains(value, expected.resource)) return pass('token.aud', title, { actual: list.join(', ') });
  const near = list
    .map((a) => ({ a, d: explainUrlDifference(a, expected.resource) }))
    .find(({ a }) => /^https?:\/\//.test(a));
  const why =
    list.length === 0
      ? `The token has no aud, so the server cannot tell it was issued for ${expected.resource}.`
      : near
        ? `aud is ${near.a} but the server is ${expected.resource}: ${near.d}.`
        : `aud is ${list.join(', ')} but the server is ${expected.resource}: the token was issued without the ${expected.scopes.join('/')} scope's Audience mapper.`;
  return fail('token.aud', title, {
    expected: expected.resource,
    actual: list.length ? list.join(', ') : '(no aud)',
    why,
    fix: `${expected.applyFix}, then get a fresh token.`,
  });
}

function scope(claims: Record<string, unknown>, expected: Expected): Finding {
  const title = 'Token scope contains the required scope';
  const granted = scopesOf(claims);
  if (expected.scopes.some((s) => granted.includes(s)))
    return pass('token.scope', title, { actual: granted.join(' ') });
  return fail('token.scope', title, {
    expected: expected.scopes.join(' or '),
    actual: granted.length ? granted.join(' ') : '(empty)',
    why: `scope is "${granted.join(' ')}" without ${expected.scopes.join(' or ')}: include-in-token-scope is off, or the client did not get the scope (not requested, not a default scope, or not allowed).`,
    fix: `${expected.applyFix}, then get a fresh token.`,
  });
}

function exp(claims: Record<string, unknown>, now: number): Finding {
  const title = 'Token is not expired';
  const value = claims.exp;
  if (typeof value !== 'number')
    return fail('token.exp', title, {
      expected: 'an exp claim',
      actual: '(no exp)',
      why: 'A token without expiry would be valid forever; the server refuses it.',
    });
  const at = isoTime(value);
  if (value > now) return pass('token.exp', title, { actual: `expires ${at} (in ${value - now} s)` });
  const ago = now - value;
  const grace =
    ago <= CLOCK_TOLERANCE_SECONDS
      ? ` (the server's ${CLOCK_TOLERANCE_SECONDS} s clock tolerance accepts it for ${CLOCK_TOLERANCE_SECONDS - ago} s more)`
      : '';
  return fail('token.exp', title, {
    expected: `exp after now (${isoTime(now)})`,
    actual: `expired ${at}, ${ago} s ago`,
    why: `The token expired ${ago} s ago${grace}; after that the server answers 401 invalid_token and the client must refresh it.`,
    fix: RESET,
  });
}

function nbf(claims: Record<string, unknown>, now: number): Finding {
  const title = 'Token is already valid (nbf)';
  const value = claims.nbf;
  if (value === undefined) return pass('token.nbf', title, { actual: 'no nbf' });
  if (typeof value === 'number' && value <= now + CLOCK_TOLERANCE_SECONDS)
    return pass('token.nbf', title, { actual: `valid since ${isoTime(value)}` });
  return fail('token.nbf', title, {
    expected: `nbf at or before now (${isoTime(now)})`,
    actual: typeof value === 'number' ? isoTime(value) : String(value),
    why: 'The token is not valid yet: the clocks of Keycloak and this machine disagree.',
    fix: 'Synchronise the clocks (NTP) of the Keycloak host and the MCP server host.',
  });
}

function typ(claims: Record<string, unknown>): Finding {
  const title = 'It is an access token';
  if (claims.typ === undefined || claims.typ === 'Bearer')
    return pass('token.typ', title, { actual: `typ ${String(claims.typ ?? '(none)')}` });
  // Keycloak types a token bound to a DPoP key (RFC 9449) "DPoP": still an access token.
  if (claims.typ === 'DPoP')
    return pass('token.typ', title, { actual: 'typ DPoP (an access token bound to a DPoP key)' });
  return fail('token.typ', title, {
    expected: 'typ Bearer',
    actual: `typ ${String(claims.typ)}`,
    why: `This is ${claims.typ === 'ID' ? 'an ID token' : claims.typ === 'Refresh' ? 'a refresh token' : `a "${String(claims.typ)}" token`}; MCP servers accept access tokens only.`,
    fix: 'Send the access_token from the token response, not the id_token or refresh_token.',
  });
}

function azp(claims: Record<string, unknown>): Finding {
  const title = 'Token names the client it was issued to (azp)';
  const value = claims.azp ?? claims.client_id;
  if (typeof value === 'string') return pass('token.azp', title, { actual: value });
  return warn('token.azp', title, {
    expected: 'azp',
    actual: '(none)',
    why: 'Without azp the server cannot log which client called it.',
  });
}
