/**
 * Bearer token verification, the pure core of the reference server: no HTTP, no logging. It answers
 * "may this token call this resource?" with a `VerifiedToken` or a `BearerError` that carries the
 * RFC 6750 error code the HTTP adapter turns into a status and a `WWW-Authenticate` challenge.
 *
 * Local JWT validation (the default) checks, in this order: signature with an allow-list of asymmetric
 * algorithms against the realm's JWKS, `iss` byte for byte, `aud` containing the resource URL byte for
 * byte, `exp`/`nbf` with a small clock tolerance, that it is an access token, then the scope.
 */
import { createHash } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  errors as joseErrors,
  jwtVerify,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

/**
 * Asymmetric algorithms only. HS* would let anyone holding the realm's *public* key forge tokens
 * (the classic key-confusion attack), and `none` needs no key at all; both must never be accepted.
 */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Seconds of clock skew tolerated on `exp`/`nbf`: enough for unsynchronised hosts, short next to a 5-minute token. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Longest token accepted. Keycloak access tokens are 1–4 KB, more with many roles; the 16 KB header
 * limit bounds them anyway, this refuses junk before any parsing.
 */
const MAX_TOKEN_LENGTH = 12 * 1024;

/** Three base64url segments (the last may be empty) within MAX_TOKEN_LENGTH: the shape of every Keycloak access token. */
export function jwtShaped(token: string): boolean {
  return token.length <= MAX_TOKEN_LENGTH && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** RFC 6750 §3.1 error codes, plus our own for "the check could not run" (not the client's fault). */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

export class BearerError extends Error {
  constructor(
    readonly code: BearerErrorCode,
    /** Short and safe to show to the client: never contains the token. */
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BearerError';
  }
}

export interface VerifiedToken {
  sub?: string;
  /** The OAuth client the token was issued to (`azp` in Keycloak tokens, `client_id` in introspection). */
  clientId: string;
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  /** `cnf.jkt` (RFC 9449 §6.1): the token is DPoP-bound to the key with this thumbprint. */
  jkt?: string;
  /** Issued to a client's service account (client credentials): no end user signed in (`isServiceAccountToken`). */
  serviceAccount?: boolean;
}

/**
 * Keycloak 26 starts a token's `jti` with its context: session type, token type, then the grant's shortcut
 * (`trrtcc:`, `onrtcc:` for client credentials, `onrtac:` for the authorization code). Written by Keycloak's
 * code, not by a mapper, so a client cannot change it.
 */
const CLIENT_CREDENTIALS_JTI = /^[a-z]{4}cc:/;

/**
 * Whether a token (or introspection answer) was issued to a client's service account, with no user behind it.
 * Any one marker suffices: the `jti` context of the client_credentials grant (Keycloak 26+), the service
 * account's username `service-account-<clientId>` (`preferred_username`, or `username` when introspected), or
 * the `client_id` claim that Keycloak's `service_account` client scope adds to the token (not when
 * `introspected`: Keycloak's introspection answer names `client_id` for every token). Several, because a client
 * that registers anonymously may add mappers of the allowed types that overwrite a claim, never all of them.
 */
export function isServiceAccountToken(claims: Record<string, unknown>, introspected = false): boolean {
  if (typeof claims.jti === 'string' && CLIENT_CREDENTIALS_JTI.test(claims.jti)) return true;
  for (const name of [claims.preferred_username, claims.username]) {
    if (typeof name === 'string' && name.startsWith('service-account-')) return true;
  }
  return !introspected && typeof claims.client_id === 'string' && typeof claims.azp === 'string';
}

/**
 * Keycloak marks access tokens `typ: Bearer`, and DPoP-bound ones `typ: DPoP` (with `cnf.jkt`); ID and refresh
 * tokens carry other values and must never call tools.
 */
export function isAccessTokenType(claims: Record<string, unknown>): boolean {
  if (claims.typ === undefined || claims.typ === 'Bearer') return true;
  return claims.typ === 'DPoP' && boundKeyOf(claims) !== undefined;
}

/** The DPoP key thumbprint a token (or introspection answer) is bound to, if any. */
export function boundKeyOf(claims: Record<string, unknown>): string | undefined {
  const cnf = claims.cnf;
  if (!cnf || typeof cnf !== 'object') return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' && jkt.length > 0 ? jkt : undefined;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export interface ExpectedToken {
  /** The realm issuer, compared byte for byte (no trailing-slash or case normalisation). */
  issuer: string;
  /** The MCP resource URL; `aud` must contain exactly this string. */
  audience: string;
  /** Scopes that grant access: a token needs at least one of them (each carries this audience). */
  scopes: string[];
}

export interface JwtVerifierOptions extends ExpectedToken {
  /** Key source: `remoteKeys(jwksUri)` in production, a local JWKS in unit tests. */
  keys: JWTVerifyGetKey;
  clockToleranceSeconds?: number;
  /**
   * How many verified tokens to remember (default 1000; 0 disables). A client reuses one access token
   * for many calls; re-checking the same bytes against the same keys gives the same answer, so a hit
   * skips the signature check (~200 µs of WebCrypto) and only re-checks expiry.
   */
  cacheSize?: number;
}

/**
 * The realm's JWKS, fetched lazily and cached. jose refetches when a token names an unknown `kid`
 * (key rotation), but at most once per `cooldownDuration`, so a flood of forged `kid`s cannot turn
 * the server into a load generator against Keycloak.
 */
export function remoteKeys(
  jwksUri: string,
  options: { cooldownMs?: number; fetch?: FetchImplementation } = {},
): ReturnType<typeof createRemoteJWKSet> {
  return createRemoteJWKSet(new URL(jwksUri), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 5000,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
}

/** Space-separated `scope` (RFC 6749, Keycloak) or an `scp` array (some other issuers). */
export function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === 'string');
  return [];
}

/** `aud` may be a string or an array (RFC 7519 §4.1.3); either way it must hold the resource exactly. */
export function audienceContains(aud: unknown, resource: string): boolean {
  return typeof aud === 'string' ? aud === resource : Array.isArray(aud) && aud.includes(resource);
}

/** The scope rule, shared by the JWT and introspection verifiers so both answer 403 the same way. */
export function checkScope(granted: string[], expected: ExpectedToken): void {
  if (!expected.scopes.some((scope) => granted.includes(scope))) {
    throw new BearerError('insufficient_scope', `token lacks the scope ${expected.scopes.join(' or ')}`);
  }
}

/** Validates JWT access tokens locally: signature (realm keys), issuer, audience, expiry, scope; caches successes. */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const { keys, issuer, audience } = options;
  const clockTolerance = options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
  const cacheSize = options.cacheSize ?? 1000;
  // Keyed by a hash so the cache never holds usable tokens; only successes are cached.
  const cache = new Map<string, VerifiedToken & { expiresAt: number }>();
  return {
    async verify(token) {
      if (!jwtShaped(token)) throw new BearerError('invalid_token', 'token malformed');
      const key = cacheSize > 0 ? createHash('sha256').update(token).digest('base64url') : '';
      const hit = cacheSize > 0 ? cache.get(key) : undefined;
      if (hit) {
        if (hit.expiresAt + clockTolerance >= Date.now() / 1000) return hit;
        cache.delete(key);
      }
      const verified = await verifyUncached(token);
      if (cacheSize > 0 && verified.expiresAt !== undefined) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(key, verified as VerifiedToken & { expiresAt: number });
      }
      return verified;
    },
  };

  async function verifyUncached(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer,
        audience,
        clockTolerance,
        // A token without an expiry would be valid forever.
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw describeJoseError(error);
    }
    if (!isAccessTokenType(payload))
      throw new BearerError('invalid_token', `not an access token (typ ${String(payload.typ)})`);
    const scopes = scopesOf(payload);
    checkScope(scopes, options);
    const clientId =
      typeof payload.azp === 'string' ? payload.azp : typeof payload.client_id === 'string' ? payload.client_id : '';
    const verified: VerifiedToken = { clientId, scopes };
    if (payload.sub !== undefined) verified.sub = payload.sub;
    if (payload.exp !== undefined) verified.expiresAt = payload.exp;
    const jkt = boundKeyOf(payload);
    if (jkt) verified.jkt = jkt;
    if (isServiceAccountToken(payload)) verified.serviceAccount = true;
    return verified;
  }
}

/** Turns jose's error zoo into one short reason per failure; the token itself is never quoted. */
function describeJoseError(error: unknown): BearerError {
  const e = joseErrors;
  if (error instanceof e.JWTExpired) return new BearerError('invalid_token', 'token expired', { cause: error });
  if (error instanceof e.JWTClaimValidationFailed) {
    const claim = error.claim;
    const reason =
      claim === 'aud'
        ? 'token audience does not include this resource'
        : claim === 'iss'
          ? 'token issuer is not this realm'
          : claim === 'nbf'
            ? 'token is not valid yet (nbf)'
            : claim === 'exp'
              ? 'token has no expiry'
              : `token claim ${claim} is invalid`;
    return new BearerError('invalid_token', reason, { cause: error });
  }
  if (error instanceof e.JOSEAlgNotAllowed)
    return new BearerError('invalid_token', 'token signing algorithm not allowed', { cause: error });
  if (error instanceof e.JWKSNoMatchingKey)
    return new BearerError('invalid_token', 'token signed with an unknown key', { cause: error });
  if (error instanceof e.JWSSignatureVerificationFailed)
    return new BearerError('invalid_token', 'token signature invalid', { cause: error });
  if (error instanceof e.JWKSTimeout || error instanceof e.JWKSInvalid || isFetchFailure(error)) {
    return new BearerError('temporarily_unavailable', 'cannot fetch the realm signing keys', { cause: error });
  }
  if (error instanceof e.JOSEError) return new BearerError('invalid_token', 'token malformed', { cause: error });
  return new BearerError('invalid_token', 'token rejected', { cause: error });
}

/** Network errors from fetch, or jose's "Expected 200 OK from the JSON Web Key Set HTTP response". */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof TypeError && /fetch/i.test(error.message)) return true;
  return error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC' && /Key Set/i.test(error.message);
}
