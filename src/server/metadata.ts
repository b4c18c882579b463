/**
 * What the server tells clients about its protection: the RFC 9728 Protected Resource Metadata and
 * the RFC 6750 `WWW-Authenticate` challenge that points at it. Pure functions of the configuration.
 */
import { DPOP_ALGORITHMS } from './dpop.js';
import type { BearerErrorCode } from './verify.js';

const PRM_PREFIX = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: ['header'];
  resource_name: string;
  /** RFC 9449 §5.1 / RFC 9728 §2: the proof algorithms accepted, when DPoP is on. */
  dpop_signing_alg_values_supported?: string[];
  /** RFC 9728 §2: true when only DPoP-bound tokens are accepted. */
  dpop_bound_access_tokens_required?: boolean;
}

/**
 * The document: `resource` is the configured URL and the issuer is Keycloak's, both byte for byte.
 * `scopes_supported` lists the base scopes, then the step-up scopes some tools need (`stepUpScopes`):
 * RFC 9728 §2 asks for the scopes "used in authorization requests to request access to this protected
 * resource", and those are too. Clients take the first challenge's `scope` (base only), not this list, as
 * what to request first (MCP 2025-11-25 scope selection), so listing them does not widen first tokens.
 */
export function protectedResourceMetadata(
  resource: string,
  issuer: string,
  scopes: string[],
  stepUpScopes: string[] = [],
  dpop: 'off' | 'allowed' | 'required' = 'off',
): ProtectedResourceMetadata {
  const metadata: ProtectedResourceMetadata = {
    resource,
    authorization_servers: [issuer],
    scopes_supported: [...new Set([...scopes, ...stepUpScopes])],
    // Query-string and form-body tokens leak into logs and caches; only the header is accepted.
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-keycloak reference MCP server',
  };
  if (dpop !== 'off') {
    metadata.dpop_signing_alg_values_supported = [...DPOP_ALGORITHMS];
    metadata.dpop_bound_access_tokens_required = dpop === 'required';
  }
  return metadata;
}

/**
 * RFC 9728 §3.1: the well-known path is inserted between the host and the resource's path, so
 * `http://h:8000/mcp` → `http://h:8000/.well-known/oauth-protected-resource/mcp`.
 */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${PRM_PREFIX}${path}`;
}

/** Paths on this server that answer with the metadata: path-inserted, and the root one for older clients. */
export function metadataPaths(resource: string): string[] {
  const inserted = new URL(metadataUrl(resource)).pathname;
  return inserted === PRM_PREFIX ? [PRM_PREFIX] : [inserted, PRM_PREFIX];
}

/** Characters that may appear inside a quoted-string of an auth-param, with `"` and `\` escaped. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`;
}

export interface Challenge {
  resourceMetadata: string;
  scopes: string[];
  error?: Exclude<BearerErrorCode, 'temporarily_unavailable'>;
  description?: string;
}

/**
 * `Bearer resource_metadata="…", scope="…"`, plus `error`/`error_description` when a token was sent
 * (RFC 6750 §3: no error code when the request carried no credentials).
 */
export function bearerChallenge(challenge: Challenge): string {
  const params = [
    `resource_metadata=${quote(challenge.resourceMetadata)}`,
    `scope=${quote(challenge.scopes.join(' '))}`,
  ];
  if (challenge.error) params.push(`error=${quote(challenge.error)}`);
  if (challenge.error && challenge.description) params.push(`error_description=${quote(challenge.description)}`);
  return `Bearer ${params.join(', ')}`;
}
