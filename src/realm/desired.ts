/**
 * What a realm must look like for MCP clients to sign in, derived from the config alone (pure).
 * Names here are the stable identities by which `plan` finds objects in Keycloak.
 */
import { cimdDomainsOfClients } from '../clients/provision.js';
import type { Config, DcrMode } from '../config/schema.js';
import { desiredAnonymous, desiredCimd, type DesiredAnonymous, type DesiredCimd } from './cimd.js';
import { desiredMachineClients, type DesiredMachineClient } from './machine-clients.js';
import type { PolicyProvider } from './change.js';

/** Our Audience mapper's name on each scope; an existing audience mapper with the right URL is adopted too. */
export const AUDIENCE_MAPPER_NAME = 'mcp-audience';
export const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
export const PROVIDER = {
  trustedHosts: 'trusted-hosts',
  allowedScopes: 'allowed-client-templates',
  webOrigins: 'registration-web-origins',
} as const;
/** The registration policy providers apply manages (each policy is found by its providerId): change.ts names them. */
export type { PolicyProvider };
// PROVIDER and change.ts's PolicyProvider must list the same ids: a compile-time check both ways.
const _sameProviders: [PolicyProvider, (typeof PROVIDER)[keyof typeof PROVIDER]] extends [
  (typeof PROVIDER)[keyof typeof PROVIDER],
  PolicyProvider,
]
  ? true
  : never = true;
void _sameProviders;
/** The names Keycloak gives these policies in a new realm; used when we must create one. */
export const POLICY_NAME = {
  [PROVIDER.trustedHosts]: 'Trusted Hosts',
  [PROVIDER.allowedScopes]: 'Allowed Client Scopes',
  [PROVIDER.webOrigins]: 'Allowed Registration Web Origins',
} as const;

/**
 * Keycloak's anonymous Trusted Hosts policy in a new realm: no host trusted, both checks on. `apply`
 * starts from it when it must create the policy (then sets the hosts); `destroy` goes back to it.
 */
export const DEFAULT_TRUSTED_HOSTS: Readonly<Record<string, string[]>> = {
  'trusted-hosts': [],
  'host-sending-registration-request-must-match': ['true'],
  'client-uris-must-match': ['true'],
};

export interface DesiredScope {
  name: string;
  /** The MCP server URL the Audience mapper puts into `aud`. */
  audience: string;
  /**
   * A step-up scope (named in `toolScopes`, not in `scopes`): among the realm's optional client scopes,
   * not its defaults, so a client gets it only when it asks for it (after a 403 insufficient_scope).
   */
  optional?: boolean;
  /**
   * A base scope (in `scopes`) that is optional anyway, because the realm holds two or more MCP servers: set by
   * `placeScopes` (isolation.ts) from the live realm, never by the config alone.
   */
  isolated?: boolean;
}

/** A resource's scopes: its own (realm defaults), then the step-up scopes its tools need besides (optional). */
function scopesOf(resource: Config['resources'][number]): DesiredScope[] {
  const own = resource.scopes.map((name) => ({ name, audience: resource.url }));
  const stepUp = [...new Set(Object.values(resource.toolScopes ?? {}).flat())].filter(
    (name) => !resource.scopes.includes(name),
  );
  return [...own, ...stepUp.map((name) => ({ name, audience: resource.url, optional: true }))];
}

/**
 * The client that stands for one MCP server as an OAuth resource (RFC 8707). Keycloak's resource
 * indicators feature keeps a token's `aud` only when a client whose clientId is in `aud` carries the
 * requested `resource` as its `resource_url` attribute, and answers `invalid_target` otherwise. With
 * clientId = resource_url = the MCP URL, the custom audience our mappers put in `aud` is that client's
 * clientId: tokens carry the MCP URL with the feature on or off, with or without `resource`.
 */
export interface DesiredResourceClient {
  /** The MCP server URL: the client's clientId and its `resource_url`. */
  url: string;
}

export interface DesiredRealm {
  realm: string;
  scopes: DesiredScope[];
  resourceClients: DesiredResourceClient[];
  dcr: {
    mode: DcrMode;
    trustedHosts: string[];
    webOrigins?: string[];
  };
  testUser?: { username: string; password?: string };
  /** Client ID Metadata Documents, when the config asks for them (see cimd.ts). */
  cimd?: DesiredCimd;
  /** The anonymous-clients profile and policy (PKCE, code flow only, DPoP when asked): with anonymous registration or CIMD. */
  anonymous?: DesiredAnonymous;
  /** Client-credentials clients (machine-clients.ts); absent when the config names none. */
  machineClients?: DesiredMachineClient[];
}

/** The desired realm for `config`; the test user gets `testUserPassword` when one is given. */
export function desiredRealm(config: Config, testUserPassword?: string): DesiredRealm {
  const desired: DesiredRealm = {
    realm: config.realm,
    scopes: config.resources.flatMap(scopesOf),
    resourceClients: config.resources.map((resource) => ({ url: resource.url })),
    dcr: { mode: config.dcr.mode, trustedHosts: config.dcr.trustedHosts },
  };
  if (config.dcr.webOrigins) desired.dcr.webOrigins = config.dcr.webOrigins;
  const cimd = desiredCimd(config.cimd, cimdDomainsOfClients(config.clients));
  if (cimd) desired.cimd = cimd;
  const anonymous = desiredAnonymous(config.dcr.mode !== 'off', Boolean(cimd), config.requireDpop === true);
  if (anonymous) desired.anonymous = anonymous;
  if (config.machineClients?.length) desired.machineClients = desiredMachineClients(config);
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

/**
 * Config we own on the Audience mapper (Keycloak stores booleans as strings; '' means unset). The first
 * three decide whether access tokens carry the audience at all; introspection only affects what a
 * resource server that introspects sees.
 */
export function audienceMapperConfig(audience: string): Record<string, string> {
  return {
    'included.custom.audience': audience,
    // Keycloak puts the client audience instead of the custom one when both are set.
    'included.client.audience': '',
    'access.token.claim': 'true',
    'introspection.token.claim': 'true',
  };
}

/** The keys of `audienceMapperConfig` without which access tokens lack `aud` = the MCP URL. */
export const AUDIENCE_ESSENTIAL_KEYS: readonly string[] = [
  'included.custom.audience',
  'included.client.audience',
  'access.token.claim',
];

/** The attribute Keycloak's resource indicators compare the `resource` parameter with (exact string). */
export const RESOURCE_URL_ATTRIBUTE = 'resource_url';
/** Marks a resource client apply created, so that `destroy` removes only those (one the user made is left). */
export const CREATED_BY_ATTRIBUTE = 'mcp-keycloak.created';

/**
 * A resource client as apply creates it: no flow of its own (nobody signs in as the MCP server), no
 * secret handed out, only there to be named in `aud` and to carry `resource_url`.
 */
export function resourceClientRepresentation(url: string) {
  return {
    clientId: url,
    name: 'MCP server (resource)',
    description:
      'The MCP server as an OAuth resource (RFC 8707): its resource_url is what clients send as `resource`. Made by mcp-keycloak.',
    protocol: 'openid-connect',
    enabled: true,
    publicClient: false,
    bearerOnly: false,
    standardFlowEnabled: false,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    attributes: { [RESOURCE_URL_ATTRIBUTE]: url, [CREATED_BY_ATTRIBUTE]: 'true' },
  };
}
