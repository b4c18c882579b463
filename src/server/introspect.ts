/**
 * Opt-in RFC 7662 introspection: asks Keycloak about every token it has not seen recently. It is what
 * opaque tokens need, and it notices revocation (logout, disabled user) that local JWT validation
 * cannot see until the token expires. The price is a round trip to Keycloak per new token, so answers
 * are cached briefly, never past the token's own expiry.
 */
import { createHash } from 'node:crypto';
import { requestTimeoutMs, sendToKeycloak } from '../keycloak/http.js';
import {
  audienceContains,
  BearerError,
  boundKeyOf,
  isAccessTokenType,
  isServiceAccountToken,
  checkScope,
  jwtShaped,
  scopesOf,
  type ExpectedToken,
  type TokenVerifier,
  type VerifiedToken,
} from './verify.js';

export interface IntrospectionOptions extends ExpectedToken {
  endpoint: string;
  clientId: string;
  clientSecret: string;
  /** How long an answer (positive or negative) is reused; 0 introspects every request. Default 30 s. */
  cacheTtlMs?: number;
  /** Upper bound on cached tokens; the oldest entry goes first. */
  cacheSize?: number;
  /**
   * Local checks a token must pass before Keycloak is asked (the JWT verifier: signature, issuer,
   * audience, expiry, scope). Without it, every distinct junk string costs Keycloak a request.
   */
  precheck?: TokenVerifier;
  /** Introspection calls in flight at once (default 8); more wait their turn. */
  maxConcurrent?: number;
}

interface CacheEntry {
  until: number;
  result: VerifiedToken | BearerError;
}

export const DEFAULT_INTROSPECTION_CACHE_MS = 30_000;
/** Enough for a server's real traffic (answers are cached), small enough that Keycloak never sees a stampede. */
const DEFAULT_MAX_CONCURRENT_INTROSPECTIONS = 8;
/** Longest wait for one introspection answer while a client waits (capped by --timeout). */
const INTROSPECTION_TIMEOUT_MS = 5000;
/** Calls allowed to wait for a slot; beyond this the request gets 503 at once. */
const MAX_WAITING_INTROSPECTIONS = 256;

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before going into Basic credentials. */
function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * Fails fast on bad introspection credentials: Keycloak answers a junk token with `active: false` for
 * a valid client and 401 for a wrong one. Returns the error line, or undefined when all is well.
 */
export async function checkIntrospectionClient(
  endpoint: string,
  clientId: string,
  clientSecret: string,
): Promise<string | undefined> {
  const response = await sendToKeycloak(endpoint, {
    method: 'POST',
    headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: 'start-up-check' }),
  });
  if (response.ok) return undefined;
  return `Keycloak rejected the introspection client "${clientId}" (${response.status}): check it is a confidential client of the realm and its secret.`;
}

/** A verifier that asks Keycloak's introspection endpoint about each new token (precheck, cache, concurrency limit). */
export function createIntrospectionVerifier(options: IntrospectionOptions): TokenVerifier {
  const ttl = options.cacheTtlMs ?? DEFAULT_INTROSPECTION_CACHE_MS;
  const maxEntries = options.cacheSize ?? 10_000;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<VerifiedToken | BearerError>>();
  const limit = createLimiter(
    options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_INTROSPECTIONS,
    MAX_WAITING_INTROSPECTIONS,
  );
  const basic = basicAuth(options.clientId, options.clientSecret);

  async function introspect(token: string): Promise<VerifiedToken> {
    let response: Response;
    try {
      // A client is waiting for this answer: at most 5 s, less when --timeout says so. A POST, so never retried.
      response = await sendToKeycloak(
        options.endpoint,
        {
          method: 'POST',
          headers: {
            authorization: basic,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        },
        { timeoutMs: Math.min(INTROSPECTION_TIMEOUT_MS, requestTimeoutMs()) },
      );
    } catch (error) {
      throw new BearerError('temporarily_unavailable', 'cannot reach the introspection endpoint', { cause: error });
    }
    if (!response.ok) {
      // 401 here means *our* client credentials are wrong: a server problem, not the caller's token.
      throw new BearerError('temporarily_unavailable', `introspection endpoint answered ${response.status}`);
    }
    const answer: unknown = await response.json().catch(() => undefined);
    if (!answer || typeof answer !== 'object' || Array.isArray(answer))
      throw new BearerError('temporarily_unavailable', 'introspection endpoint answered no JSON object');
    const data = answer as Record<string, unknown>;
    if (data.active !== true) throw new BearerError('invalid_token', 'token is not active');
    if (data.iss !== undefined && data.iss !== options.issuer)
      throw new BearerError('invalid_token', 'token issuer is not this realm');
    if (!audienceContains(data.aud, options.audience))
      throw new BearerError('invalid_token', 'token audience does not include this resource');
    // Keycloak also introspects refresh and ID tokens; only access tokens (`typ: Bearer`) may call tools.
    if (!isAccessTokenType(data)) throw new BearerError('invalid_token', 'not an access token');
    const scopes = scopesOf(data);
    checkScope(scopes, options);
    const clientId = typeof data.client_id === 'string' ? data.client_id : typeof data.azp === 'string' ? data.azp : '';
    const verified: VerifiedToken = { clientId, scopes };
    if (typeof data.sub === 'string') verified.sub = data.sub;
    if (typeof data.exp === 'number') verified.expiresAt = data.exp;
    const jkt = boundKeyOf(data);
    if (jkt) verified.jkt = jkt;
    if (isServiceAccountToken(data, true)) verified.serviceAccount = true;
    return verified;
  }

  /** Precheck, then one introspection call; a refusal is returned (to be cached and shared), an outage thrown. */
  async function check(token: string, key: string): Promise<VerifiedToken | BearerError> {
    if (options.precheck) await options.precheck.verify(token);
    let result: VerifiedToken | BearerError;
    try {
      result = await limit(() => introspect(token));
    } catch (error) {
      // Outages are not cached: the next request should try again.
      if (!(error instanceof BearerError) || error.code === 'temporarily_unavailable') throw error;
      result = error;
    }
    if (ttl > 0) {
      const now = Date.now();
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      const expiry = result instanceof BearerError ? Infinity : (result.expiresAt ?? Infinity) * 1000;
      cache.set(key, { until: Math.min(now + ttl, expiry), result });
    }
    return result;
  }

  return {
    async verify(token) {
      // Not a JWT, or absurdly long: Keycloak would only answer `active: false`, so it is not asked.
      if (!jwtShaped(token)) throw new BearerError('invalid_token', 'token malformed');
      // Keyed by a hash so the cache never holds usable tokens.
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = ttl > 0 ? cache.get(key) : undefined;
      if (hit) {
        const now = Date.now();
        if (hit.until > now) {
          if (hit.result instanceof BearerError) throw hit.result;
          if (hit.result.expiresAt === undefined || hit.result.expiresAt * 1000 > now) return hit.result;
        }
        cache.delete(key);
      }
      // Concurrent requests with the same token share one introspection call.
      let flight = inFlight.get(key);
      if (!flight) {
        flight = check(token, key).finally(() => inFlight.delete(key));
        inFlight.set(key, flight);
      }
      const result = await flight;
      if (result instanceof BearerError) throw result;
      return result;
    },
  };
}

/**
 * Runs at most `max` tasks at once and lets at most `maxWaiting` more wait, in order; beyond that a
 * task is refused at once (503) rather than queued without bound.
 */
function createLimiter(max: number, maxWaiting: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running < max) running++;
    else if (waiting.length >= maxWaiting)
      throw new BearerError('temporarily_unavailable', 'too many tokens waiting for introspection');
    // A finished task hands its slot straight to the next waiter, so `running` never exceeds `max`.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
