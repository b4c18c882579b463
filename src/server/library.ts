/**
 * `mcp-keycloak/server`: the reference server's token checks, for your own MCP server. The same verifier `serve`
 * runs (signature against the realm's keys, `iss` and `aud` byte for byte, expiry, access-token type, scope),
 * DPoP proofs (RFC 9449), the Protected Resource Metadata and the `WWW-Authenticate` challenges, with no CLI, no
 * config file and no MCP SDK of its own: put `keycloakAuth(…).authenticate` in front of whatever serves MCP.
 * docs/library.md shows it in front of node:http and Express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuthenticator, type DpopSettings } from './authenticate.js';
import { metadataPaths, metadataUrl, protectedResourceMetadata, type ProtectedResourceMetadata } from './metadata.js';
import { createJwtVerifier, remoteKeys, type TokenVerifier, type VerifiedToken } from './verify.js';

export {
  createAuthenticator,
  credentialsOf,
  type AuthOutcome,
  type DpopMode,
  type DpopSettings,
  type Refusal,
} from './authenticate.js';
export {
  accessTokenHash,
  checkDpopProof,
  DPOP_ALGORITHMS,
  dpopChallenge,
  DpopError,
  memoryReplayCache,
  nonceIssuer,
  type NonceIssuer,
  type ReplayCache,
} from './dpop.js';
export { createIntrospectionVerifier } from './introspect.js';
export {
  bearerChallenge,
  metadataPaths,
  metadataUrl,
  protectedResourceMetadata,
  type ProtectedResourceMetadata,
} from './metadata.js';
export {
  ALLOWED_ALGORITHMS,
  BearerError,
  createJwtVerifier,
  isServiceAccountToken,
  remoteKeys,
  type TokenVerifier,
  type VerifiedToken,
} from './verify.js';

export interface KeycloakAuthOptions {
  /** The realm's issuer, byte for byte as Keycloak's discovery document says, e.g. `http://localhost:8080/realms/mcp-demo`. */
  issuer: string;
  /** Your MCP endpoint's URL: the token audience and the metadata's `resource`. */
  resource: string;
  /** Scopes that grant access; a token needs at least one. */
  scopes: string[];
  /** Default: Keycloak's `<issuer>/protocol/openid-connect/certs`. */
  jwksUri?: string;
  /** DPoP-bound tokens: off by default. */
  dpop?: DpopSettings;
  /** Another verifier (e.g. `createIntrospectionVerifier`), instead of local JWT validation. */
  verifier?: TokenVerifier;
  /**
   * Client ids (`azp`) whose service-account tokens (OAuth client credentials, no end user) are accepted.
   * Default none: such tokens are refused, since any client that registered anonymously can get one.
   */
  machineClients?: string[];
}

export interface KeycloakAuth {
  /** The Protected Resource Metadata (RFC 9728) to serve at each of `metadataPaths`. */
  metadata: ProtectedResourceMetadata;
  /** Where clients look for it: the path-inserted well-known path, and the root one. */
  metadataPaths: string[];
  /**
   * Checks the request's token. Resolves to the verified token, or, when the request may not proceed, to
   * `undefined` after answering it (401/403/503 with the challenges) on `res`.
   */
  authenticate(req: IncomingMessage, res: ServerResponse): Promise<VerifiedToken | undefined>;
}

/** Token checks for one MCP endpoint protected by one Keycloak realm. */
export function keycloakAuth(options: KeycloakAuthOptions): KeycloakAuth {
  const verifier =
    options.verifier ??
    createJwtVerifier({
      issuer: options.issuer,
      audience: options.resource,
      scopes: options.scopes,
      keys: remoteKeys(options.jwksUri ?? `${options.issuer}/protocol/openid-connect/certs`),
    });
  const check = createAuthenticator({
    verifier,
    resource: options.resource,
    resourceMetadata: metadataUrl(options.resource),
    scopes: options.scopes,
    ...(options.dpop ? { dpop: options.dpop } : {}),
    ...(options.machineClients ? { machineClients: options.machineClients } : {}),
  });
  return {
    metadata: protectedResourceMetadata(options.resource, options.issuer, options.scopes, [], options.dpop?.mode),
    metadataPaths: metadataPaths(options.resource),
    async authenticate(req, res) {
      const outcome = await check({ method: req.method ?? 'GET', headers: req.headers });
      if ('verified' in outcome) return outcome.verified;
      res.writeHead(outcome.refusal.status, outcome.refusal.headers);
      res.end(JSON.stringify(outcome.refusal.body));
      return undefined;
    },
  };
}
