/**
 * Who may call: the Authorization header (Bearer, or DPoP with its proof) turned into a verified token, or into
 * the refusal to send (status, `WWW-Authenticate` challenges, body). No node:http here: the adapter (http.ts)
 * only writes what this returns, so the rules are testable without a socket.
 */
import { bearerChallenge } from './metadata.js';
import {
  checkDpopProof,
  dpopChallenge,
  DpopError,
  memoryReplayCache,
  nonceIssuer,
  type NonceIssuer,
  type ReplayCache,
} from './dpop.js';
import { BearerError, type TokenVerifier, type VerifiedToken } from './verify.js';

/** `allowed`: Bearer and DPoP-bound tokens; `required`: DPoP-bound tokens only. */
export type DpopMode = 'off' | 'allowed' | 'required';

export interface DpopSettings {
  mode: DpopMode;
  /** Ask every proof for a server nonce (RFC 9449 §8): bounds replays across replicas to one nonce slot. */
  nonce?: boolean;
  replay?: ReplayCache;
  nonces?: NonceIssuer;
}

export interface AuthenticateOptions {
  verifier: TokenVerifier;
  /** The resource URL: what a DPoP proof's `htu` must name. */
  resource: string;
  resourceMetadata: string;
  scopes: string[];
  dpop?: DpopSettings;
  /**
   * Client ids whose service-account tokens (client credentials, no end user) may call. Default none: any
   * client that registered anonymously can get such a token with this audience and scope (docs/security.md).
   */
  machineClients?: readonly string[];
}

export interface Refusal {
  status: number;
  headers: Record<string, string | string[]>;
  body: { error: string; error_description: string };
  /** Why, for the request log (no token content). */
  reason: string;
}

export type AuthOutcome = { verified: VerifiedToken } | { refusal: Refusal };

interface Credentials {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** `Bearer <token>` (RFC 6750 §2.1) or `DPoP <token>` (RFC 9449 §7.1); schemes are case-insensitive. */
export function credentialsOf(header: string | undefined): Credentials | undefined {
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}

/** The authenticator of one server: settings resolved once (replay cache, nonce issuer), then one call per request. */
export function createAuthenticator(options: AuthenticateOptions) {
  const dpopMode = options.dpop?.mode ?? 'off';
  const replay = options.dpop?.replay ?? memoryReplayCache();
  const nonces = options.dpop?.nonce ? (options.dpop.nonces ?? nonceIssuer()) : undefined;
  const refuse = refusals(options, dpopMode, nonces);
  const machineClients = new Set(options.machineClients ?? []);

  return async function authenticate(request: {
    method: string;
    headers: { authorization?: string | undefined; dpop?: string | string[] | undefined };
  }): Promise<AuthOutcome> {
    const found = credentialsOf(request.headers.authorization);
    // With DPoP off, a DPoP header is as foreign as any other scheme: answered as before DPoP existed.
    const credentials = found && (found.scheme === 'Bearer' || dpopMode !== 'off') ? found : undefined;
    if (!credentials) return { refusal: refuse.missing(missingReason(request.headers.authorization, dpopMode)) };
    let verified: VerifiedToken;
    try {
      verified = await options.verifier.verify(credentials.token);
    } catch (error) {
      return { refusal: refuse.token(asBearerError(error)) };
    }
    const binding =
      bindingProblem(credentials.scheme, verified, dpopMode) ?? machineClientProblem(verified, machineClients);
    if (binding) return { refusal: refuse.token(binding) };
    if (credentials.scheme === 'DPoP') {
      try {
        await checkDpopProof(
          {
            proof: request.headers.dpop,
            method: request.method,
            url: options.resource,
            accessToken: credentials.token,
            jkt: verified.jkt!,
          },
          { replay, ...(nonces ? { nonces } : {}) },
        );
      } catch (error) {
        if (error instanceof DpopError) return { refusal: refuse.proof(error) };
        throw error;
      }
    }
    return { verified };
  };
}

function missingReason(header: string | undefined, mode: DpopMode): string {
  if (mode === 'off') return header ? 'Authorization header is not a Bearer token' : 'no bearer token';
  return header ? 'Authorization header is not Bearer or DPoP' : 'no access token';
}

/** The scheme must match the token: a bound token only with DPoP (else a stolen token works as Bearer), and back. */
function bindingProblem(
  scheme: Credentials['scheme'],
  verified: VerifiedToken,
  mode: DpopMode,
): BearerError | undefined {
  if (verified.jkt && scheme === 'Bearer')
    return new BearerError('invalid_token', 'DPoP-bound token presented as a Bearer token');
  if (!verified.jkt && scheme === 'DPoP') return new BearerError('invalid_token', 'token is not DPoP-bound');
  if (!verified.jkt && mode === 'required')
    return new BearerError('invalid_token', 'this server requires DPoP-bound tokens');
  return undefined;
}

/**
 * A service-account token has no user behind it, and any confidential client the realm let register (anonymous
 * DCR with `grant_types: ["client_credentials"]`) gets one carrying this audience and scope: only the machine
 * clients the configuration names may call with one. `azp` is Keycloak's own record of the client.
 */
function machineClientProblem(verified: VerifiedToken, allowed: ReadonlySet<string>): BearerError | undefined {
  if (!verified.serviceAccount || allowed.has(verified.clientId)) return undefined;
  return new BearerError(
    'invalid_token',
    'service-account token from a client that is not a configured machine client',
  );
}

function asBearerError(error: unknown): BearerError {
  return error instanceof BearerError
    ? error
    : new BearerError('temporarily_unavailable', 'verification failed', { cause: error });
}

/** The three ways a request is refused, each with the challenges RFC 6750 §3 and RFC 9449 §7.1 ask for. */
function refusals(options: AuthenticateOptions, mode: DpopMode, nonces: NonceIssuer | undefined) {
  const { resourceMetadata, scopes } = options;
  const challenges = (error?: { code: string; message: string }, dpopError?: DpopError): string[] => {
    const bearerError =
      error && error.code !== 'temporarily_unavailable'
        ? { error: error.code as 'invalid_token', description: error.message }
        : {};
    const list = [bearerChallenge({ resourceMetadata, scopes, ...bearerError })];
    if (mode !== 'off') list.push(dpopChallenge(dpopError));
    return list;
  };
  const headers = (list: string[]) => ({
    'content-type': 'application/json',
    'www-authenticate': list,
    'cache-control': 'no-store',
  });
  return {
    missing(reason: string): Refusal {
      const wanted = mode === 'off' ? 'Bearer token required' : 'Bearer or DPoP access token required';
      const body = { error: 'unauthorized', error_description: wanted };
      return { status: 401, headers: headers(challenges()), body, reason };
    },
    token(error: BearerError): Refusal {
      const status = error.code === 'insufficient_scope' ? 403 : error.code === 'temporarily_unavailable' ? 503 : 401;
      const body = { error: error.code, error_description: error.message };
      return { status, headers: headers(challenges(error)), body, reason: error.message };
    },
    proof(error: DpopError): Refusal {
      const refusal: Refusal = {
        status: 401,
        headers: headers(challenges(undefined, error)),
        body: { error: error.code, error_description: error.message },
        reason: error.message,
      };
      if (error.code === 'use_dpop_nonce' && nonces) refusal.headers['dpop-nonce'] = nonces.current();
      return refusal;
    },
  };
}
