/**
 * DPoP (RFC 9449) proof checking for the reference server: pure apart from the clock and the replay cache,
 * no HTTP. A DPoP-bound access token (Keycloak puts the key's thumbprint in `cnf.jkt`) is only usable with a
 * fresh proof signed by that key for this very request, so a token that leaks from a log is useless alone.
 *
 * The checks follow RFC 9449 §4.3 in order: one well-formed proof JWT, `typ` dpop+jwt, an asymmetric `alg`,
 * a public `jwk` in the header that verifies the signature, `htm` = the request method, `htu` = the request
 * URL (no query or fragment), `iat` within the window, the server's nonce when it asks for one, `ath` = the
 * token's hash, the key's thumbprint = the token's `cnf.jkt`, and a `jti` not seen before (replay).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import { ALLOWED_ALGORITHMS } from './verify.js';

/** The algorithms a proof may be signed with: asymmetric only (RFC 9449 §11.6), as for access tokens. */
export const DPOP_ALGORITHMS: readonly string[] = ALLOWED_ALGORITHMS;

/** Seconds a proof stays acceptable after (and before, for clock skew) its `iat`. */
export const DPOP_PROOF_WINDOW_SECONDS = 60;

/** Longest proof accepted: an ES256 proof is ~600 bytes, an RSA one ~1.5 KB. */
const MAX_PROOF_LENGTH = 8 * 1024;

/** RFC 9449 §7.1: a bad proof; `use_dpop_nonce`: retry with the nonce in the DPoP-Nonce header (§9). */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

export class DpopError extends Error {
  constructor(
    readonly code: DpopErrorCode,
    /** Short and safe to show to the client: never contains the proof or the token. */
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DpopError';
  }
}

/**
 * Remembers proof ids for as long as their proof could be accepted. The in-memory one is per process: replicas
 * behind a load balancer each keep their own, so a proof replayed to another replica within the window passes
 * there unless the replicas share a cache (implement this interface over Redis or similar) or a nonce (below).
 */
export interface ReplayCache {
  /** True the first time `jti` is seen before `expiresAt` (seconds), false when it was seen already. */
  firstUse(jti: string, expiresAt: number): boolean | Promise<boolean>;
}

/** The per-process replay cache: bounded, oldest entries evicted first, expired ones swept on the way. */
export function memoryReplayCache(maxEntries = 100_000): ReplayCache {
  const seen = new Map<string, number>();
  return {
    firstUse(jti, expiresAt) {
      const now = Date.now() / 1000;
      if ((seen.get(jti) ?? 0) > now) return false;
      for (const [id, until] of seen) {
        if (until > now && seen.size < maxEntries) break;
        seen.delete(id);
      }
      seen.set(jti, expiresAt);
      return true;
    },
  };
}

/**
 * Server nonces (RFC 9449 §8) without server state: an HMAC of the current time slot, so every replica that
 * shares `secret` accepts every other's nonce, and a nonce ages out after two slots. With nonces on, a proof
 * can only be replayed within one slot, which bounds what a per-replica replay cache leaves open.
 */
export function nonceIssuer(secret: Buffer = randomBytes(32), slotSeconds = 60): NonceIssuer {
  const nonceFor = (slot: number) => createHmac('sha256', secret).update(String(slot)).digest('base64url');
  const slotNow = () => Math.floor(Date.now() / 1000 / slotSeconds);
  return {
    current: () => nonceFor(slotNow()),
    accepts: (nonce) => nonce === nonceFor(slotNow()) || nonce === nonceFor(slotNow() - 1),
  };
}

export interface NonceIssuer {
  current(): string;
  accepts(nonce: string): boolean;
}

export interface ProofRequest {
  /** The DPoP header's value(s), as node:http gives it (an array when sent twice: refused). */
  proof: string | string[] | undefined;
  method: string;
  /** The URL the client sent the request to: the resource URL (no query or fragment). */
  url: string;
  /** The access token the proof comes with. */
  accessToken: string;
  /** The token's `cnf.jkt`: the thumbprint of the key it is bound to. */
  jkt: string;
}

export interface DpopCheckOptions {
  replay: ReplayCache;
  nonces?: NonceIssuer;
  windowSeconds?: number;
}

/** Checks one proof against its request and token; resolves when the request may proceed, throws DpopError. */
export async function checkDpopProof(request: ProofRequest, options: DpopCheckOptions): Promise<void> {
  const proof = singleProof(request.proof);
  const jwk = proofKey(proof);
  const payload = await verifiedPayload(proof, jwk);
  const window = options.windowSeconds ?? DPOP_PROOF_WINDOW_SECONDS;
  checkRequestBinding(payload, request, window);
  if (options.nonces && !(typeof payload.nonce === 'string' && options.nonces.accepts(payload.nonce))) {
    throw new DpopError('use_dpop_nonce', payload.nonce === undefined ? 'nonce required' : 'nonce stale or unknown');
  }
  if (payload.ath !== accessTokenHash(request.accessToken))
    throw new DpopError('invalid_dpop_proof', 'proof ath does not match the access token');
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== request.jkt)
    throw new DpopError('invalid_dpop_proof', 'proof key is not the key the token is bound to');
  if (!(await options.replay.firstUse(String(payload.jti), Number(payload.iat) + window)))
    throw new DpopError('invalid_dpop_proof', 'proof replayed (jti seen before)');
}

/** base64url(SHA-256(token)): the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

function singleProof(header: string | string[] | undefined): string {
  if (Array.isArray(header)) throw new DpopError('invalid_dpop_proof', 'more than one DPoP header');
  if (!header) throw new DpopError('invalid_dpop_proof', 'DPoP proof missing');
  if (header.length > MAX_PROOF_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(header))
    throw new DpopError('invalid_dpop_proof', 'DPoP proof malformed');
  return header;
}

/** The header's public key, after typ and alg are checked; a private key in it is refused (§4.3 step 7). */
function proofKey(proof: string): JWK {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (error) {
    throw new DpopError('invalid_dpop_proof', 'DPoP proof header malformed', { cause: error });
  }
  if (header.typ !== 'dpop+jwt') throw new DpopError('invalid_dpop_proof', 'proof typ is not dpop+jwt');
  if (typeof header.alg !== 'string' || !DPOP_ALGORITHMS.includes(header.alg))
    throw new DpopError('invalid_dpop_proof', 'proof signing algorithm not allowed');
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object') throw new DpopError('invalid_dpop_proof', 'proof carries no jwk');
  if ('d' in jwk || 'p' in jwk || 'k' in jwk)
    throw new DpopError('invalid_dpop_proof', 'proof jwk is not a public key');
  return jwk;
}

async function verifiedPayload(proof: string, jwk: JWK): Promise<Record<string, unknown>> {
  try {
    const { payload } = await jwtVerify(proof, jwk, {
      algorithms: [...DPOP_ALGORITHMS],
      typ: 'dpop+jwt',
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
    });
    return payload;
  } catch (error) {
    const reason =
      error instanceof joseErrors.JWSSignatureVerificationFailed
        ? 'proof signature invalid'
        : error instanceof joseErrors.JWTClaimValidationFailed
          ? `proof claim ${error.claim} missing or invalid`
          : 'DPoP proof invalid';
    throw new DpopError('invalid_dpop_proof', reason, { cause: error });
  }
}

/** htm, htu and iat: the proof was made for this request, now. */
function checkRequestBinding(payload: Record<string, unknown>, request: ProofRequest, window: number): void {
  if (payload.htm !== request.method) throw new DpopError('invalid_dpop_proof', 'proof htm is not this method');
  const htu = typeof payload.htu === 'string' ? normalizedHtu(payload.htu) : undefined;
  if (htu === undefined || htu !== normalizedHtu(request.url))
    throw new DpopError('invalid_dpop_proof', 'proof htu is not this URL');
  const iat = Number(payload.iat);
  if (!Number.isFinite(iat) || Math.abs(Date.now() / 1000 - iat) > window)
    throw new DpopError('invalid_dpop_proof', 'proof iat outside the accepted window');
}

/**
 * RFC 9449 §4.3 step 9: compare without query and fragment, after RFC 3986 syntax- and scheme-based
 * normalization (scheme and host case, default port, empty path); WHATWG URL parsing does exactly those.
 */
export function normalizedHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** `DPoP algs="…"` plus `error`/`error_description` when a proof was refused (RFC 9449 §7.1). */
export function dpopChallenge(error?: DpopError | { code: string; message: string }): string {
  const params = [`algs="${DPOP_ALGORITHMS.join(' ')}"`];
  if (error) params.push(`error="${error.code}"`, `error_description="${error.message.replace(/["\\\r\n]/g, ' ')}"`);
  return `DPoP ${params.join(', ')}`;
}
