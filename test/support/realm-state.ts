/**
 * Reading a realm's MCP objects back through the admin API, for tests that assert "exactly one of each,
 * with the right config" after races and duplicates, and VS Code's real registration request.
 */
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { configSchema } from '../../src/config/schema.js';
import { connectAdmin, type AdminSession } from '../../src/keycloak/session.js';
import { desiredRealm, type DesiredRealm } from '../../src/realm/desired.js';
import { adminClient, keycloak, uniqueRealm } from './keycloak.js';

export const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';

/** VS Code's Dynamic Client Registration body (from its source; see the facts file). */
export const VSCODE_REGISTRATION = {
  client_name: 'Visual Studio Code',
  client_uri: 'https://code.visualstudio.com',
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  redirect_uris: [
    'https://insiders.vscode.dev/redirect',
    'https://vscode.dev/redirect',
    'http://127.0.0.1/',
    'http://127.0.0.1:33418/',
  ],
  scope: 'mcp:run',
  token_endpoint_auth_method: 'none',
  application_type: 'native',
};

/**
 * The hosts a Trusted Hosts policy must list for VS Code's registration from loopback to pass: the
 * sending host and every host in its redirect and client URIs (checked live on Keycloak 26.7).
 */
export const VSCODE_TRUSTED_HOSTS = ['127.0.0.1', 'vscode.dev', 'insiders.vscode.dev', 'code.visualstudio.com'];

/** Registers like VS Code; a client that got in deletes itself again. Returns the status and Keycloak's words. */
export async function registerLikeVsCode(realm: string): Promise<{ status: number; error?: string }> {
  const response = await fetch(`${keycloak().url}/realms/${realm}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(VSCODE_REGISTRATION),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status === 201) {
    await fetch(String(body.registration_client_uri), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(body.registration_access_token)}` },
    });
    return { status: 201 };
  }
  return { status: response.status, error: String(body.error_description ?? body.error) };
}

/** The realm's anonymous registration policies of one provider. */
export async function anonymousPolicies(realm: string, providerId: string): Promise<ComponentRepresentation[]> {
  const client = await adminClient();
  const all = await client.components.find({ realm, type: POLICY_TYPE });
  return all.filter((p) => p.subType === 'anonymous' && p.providerId === providerId);
}

/** Creates one more anonymous policy, as a second apply or an administrator would. */
export async function addAnonymousPolicy(
  realm: string,
  name: string,
  providerId: string,
  config: Record<string, string[]>,
): Promise<void> {
  const client = await adminClient();
  const parentId = (await client.realms.findOne({ realm }))?.id;
  await client.components.create({
    realm,
    name,
    providerId,
    providerType: POLICY_TYPE,
    parentId,
    subType: 'anonymous',
    config,
  });
}

/** The realm's client scopes called `name` (Keycloak keeps at most one). */
export async function scopesNamed(realm: string, name: string) {
  const client = await adminClient();
  return (await client.clientScopes.find({ realm })).filter((s) => s.name === name);
}

/** The Audience mappers on the client scope `scope`. */
export async function audienceMappersOn(realm: string, scope: string): Promise<ProtocolMapperRepresentation[]> {
  const client = await adminClient();
  const [found] = await scopesNamed(realm, scope);
  if (!found?.id) return [];
  const mappers = await client.clientScopes.listProtocolMappers({ realm, id: found.id });
  return mappers.filter((m) => m.protocolMapper === 'oidc-audience-mapper');
}

export async function defaultScopeNames(realm: string): Promise<string[]> {
  const client = await adminClient();
  return (await client.clientScopes.listDefaultClientScopes({ realm } as never)).map((s) => s.name ?? '');
}

/** An admin session and desired state through the engine's own API, for driving `applyPlan` directly. */
export async function engine(
  realm: string,
  options: { resource?: string; dcr?: Record<string, unknown>; testUser?: string; password?: string } = {},
): Promise<{ session: AdminSession; desired: DesiredRealm }> {
  const { url, adminUsername, adminPassword } = keycloak();
  const config = configSchema.parse({
    keycloakUrl: url,
    realm,
    admin: { username: adminUsername },
    ...(options.resource ? { resources: [{ url: options.resource, scopes: ['mcp:run'] }] } : {}),
    ...(options.dcr ? { dcr: options.dcr } : {}),
    ...(options.testUser ? { testUser: { username: options.testUser } } : {}),
  });
  return { session: await connectAdmin(config, { adminPassword }), desired: desiredRealm(config, options.password) };
}

/** Everything apply owns for scope mcp:run, read back: compare with `convergedObjects` (one of each, right config). */
export async function ownedObjects(realm: string) {
  const scopes = await scopesNamed(realm, 'mcp:run');
  const mappers = await audienceMappersOn(realm, 'mcp:run');
  return {
    scopes: scopes.map((s) => ({
      protocol: s.protocol,
      include: s.attributes?.['include.in.token.scope'],
      consent: s.attributes?.['display.on.consent.screen'],
    })),
    mappers: mappers.map((m) => ({
      name: m.name,
      audience: m.config?.['included.custom.audience'],
      access: m.config?.['access.token.claim'],
    })),
    isDefault: (await defaultScopeNames(realm)).includes('mcp:run'),
    allowed: (await anonymousPolicies(realm, 'allowed-client-templates')).map(
      (p) => p.config?.['allowed-client-scopes']?.includes('mcp:run') ?? false,
    ),
    trustedHosts: (await anonymousPolicies(realm, 'trusted-hosts')).map((p) =>
      [...(p.config?.['trusted-hosts'] ?? [])].sort(),
    ),
  };
}

/** What `ownedObjects` reads for a converged realm, in `trustedHosts` mode when hosts are given. */
export function convergedObjects(resource: string, trustedHosts?: string[]) {
  return {
    scopes: [{ protocol: 'openid-connect', include: 'true', consent: 'true' }],
    mappers: [{ name: 'mcp-audience', audience: resource, access: 'true' }],
    isDefault: true,
    allowed: [true],
    trustedHosts: trustedHosts ? [[...trustedHosts].sort()] : [],
  };
}

/** Creates a realm with Keycloak's defaults only (its Trusted Hosts policy included), as one made by hand; its name goes into `realms` for clean-up. */
export async function bareRealm(prefix: string, realms: string[]): Promise<string> {
  const realm = uniqueRealm(prefix);
  realms.push(realm);
  await (await adminClient()).realms.create({ realm, enabled: true });
  return realm;
}
