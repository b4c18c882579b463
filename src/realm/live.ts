/**
 * Reads what `plan` compares against: only the objects the desired state names, in as few requests
 * as the admin API allows (all reads, no writes).
 */
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import { POLICY_TYPE, type DesiredRealm } from './desired.js';

export interface LiveScope extends ClientScopeRepresentation {
  id: string;
  name: string;
  mappers: ProtocolMapperRepresentation[];
}

export interface LiveRealm {
  exists: boolean;
  id?: string;
  enabled?: boolean;
  /** Client scopes by name (only those the desired state names). */
  scopes: Map<string, LiveScope>;
  /** Names of the realm's default default client scopes. */
  defaultScopes: Set<string>;
  /** The realm's anonymous client-registration policies. */
  anonymousPolicies: ComponentRepresentation[];
  testUser?: { user: UserRepresentation; passwordWorks?: boolean };
}

export async function readLiveRealm(session: AdminSession, desired: DesiredRealm): Promise<LiveRealm> {
  const { client } = session;
  const realm = desired.realm;
  const found = await keycloakCall(() => client.realms.findOne({ realm }), undefined, `Reading realm "${realm}"`);
  const live: LiveRealm = { exists: Boolean(found), scopes: new Map(), defaultScopes: new Set(), anonymousPolicies: [] };
  if (!found) return live;
  live.id = found.id!;
  live.enabled = found.enabled ?? false;

  const wanted = new Set(desired.scopes.map((scope) => scope.name));
  const [allScopes, defaults, components] = await Promise.all([
    keycloakCall(() => client.clientScopes.find({ realm }), undefined, 'Listing client scopes'),
    // The admin client types this payload as `void & {realm?}`, which no object satisfies: hence the cast.
    keycloakCall(() => client.clientScopes.listDefaultClientScopes({ realm } as never), undefined, 'Listing default client scopes'),
    keycloakCall(() => client.components.find({ realm, type: POLICY_TYPE }), undefined, 'Listing client registration policies'),
  ]);
  for (const scope of defaults) if (scope.name) live.defaultScopes.add(scope.name);
  live.anonymousPolicies = components.filter((component) => component.subType === 'anonymous');
  await Promise.all(
    allScopes
      .filter((scope) => scope.name && scope.id && wanted.has(scope.name))
      .map(async (scope) => {
        const mappers = await keycloakCall(
          () => client.clientScopes.listProtocolMappers({ realm, id: scope.id! }),
          undefined,
          `Listing mappers of scope "${scope.name}"`,
        );
        live.scopes.set(scope.name!, { ...scope, id: scope.id!, name: scope.name!, mappers });
      }),
  );

  if (desired.testUser) {
    const username = desired.testUser.username;
    const users = await keycloakCall(() => client.users.find({ realm, username, exact: true }), undefined, 'Looking up the test user');
    const user = users.find((u) => u.username === username.toLowerCase());
    if (user) {
      live.testUser = { user };
      if (desired.testUser.password) {
        live.testUser.passwordWorks = await passwordWorks(session.baseUrl, realm, username, desired.testUser.password);
      }
    }
  }
  return live;
}

/**
 * Whether the test user can log in with the configured password: the only way to compare a password
 * without resetting it. Uses the realm's built-in public `admin-cli` client (direct grants on).
 */
export async function passwordWorks(baseUrl: string, realm: string, username: string, password: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username, password, scope: 'openid' }),
  });
  await response.body?.cancel();
  return response.ok;
}
