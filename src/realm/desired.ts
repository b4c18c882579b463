/**
 * What a realm must look like for MCP clients to sign in, derived from the config alone (pure).
 * Names here are the stable identities by which `plan` finds objects in Keycloak.
 */
import type { Config, DcrMode } from '../config/schema.js';

/** Our Audience mapper's name on each scope; an existing audience mapper with the right URL is adopted too. */
export const AUDIENCE_MAPPER_NAME = 'mcp-audience';
export const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
export const PROVIDER = {
  trustedHosts: 'trusted-hosts',
  allowedScopes: 'allowed-client-templates',
  webOrigins: 'registration-web-origins',
} as const;
/** The names Keycloak gives these policies in a new realm; used when we must create one. */
export const POLICY_NAME = {
  [PROVIDER.trustedHosts]: 'Trusted Hosts',
  [PROVIDER.allowedScopes]: 'Allowed Client Scopes',
  [PROVIDER.webOrigins]: 'Allowed Registration Web Origins',
} as const;

export interface DesiredScope {
  name: string;
  /** The MCP server URL the Audience mapper puts into `aud`. */
  audience: string;
}

export interface DesiredRealm {
  realm: string;
  scopes: DesiredScope[];
  dcr: {
    mode: DcrMode;
    trustedHosts: string[];
    webOrigins?: string[];
  };
  testUser?: { username: string; password?: string };
}

export function desiredRealm(config: Config, testUserPassword?: string): DesiredRealm {
  const desired: DesiredRealm = {
    realm: config.realm,
    scopes: config.resources.flatMap((resource) => resource.scopes.map((name) => ({ name, audience: resource.url }))),
    dcr: { mode: config.dcr.mode, trustedHosts: config.dcr.trustedHosts },
  };
  if (config.dcr.webOrigins) desired.dcr.webOrigins = config.dcr.webOrigins;
  if (config.testUser) {
    desired.testUser = testUserPassword
      ? { username: config.testUser.username, password: testUserPassword }
      : { username: config.testUser.username };
  }
  return desired;
}

/** Attributes we own on a client scope; other attributes are the user's. */
export const SCOPE_ATTRIBUTES = {
  'include.in.token.scope': 'true',
  'display.on.consent.screen': 'true',
} as const;

/** Config we own on the Audience mapper (Keycloak stores booleans as strings). */
export function audienceMapperConfig(audience: string): Record<string, string> {
  return {
    'included.custom.audience': audience,
    'included.client.audience': '',
    'access.token.claim': 'true',
    'introspection.token.claim': 'true',
  };
}
