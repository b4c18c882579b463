/**
 * Reads what `plan` compares against: only the objects the desired state names, in as few requests
 * as the admin API allows (all reads, no writes), and without loading the admin client (see
 * keycloak/admin-client.ts). Client scopes come with their protocol mappers in the list answer, so
 * no scope needs a read of its own.
 */
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import type RealmRepresentation from '@keycloak/keycloak-admin-client/lib/defs/realmRepresentation.js';
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import { keycloakRequest } from '../keycloak/request.js';
import type { AdminSession } from '../keycloak/session.js';
import { realmUrls } from '../keycloak/urls.js';
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

/**
 * Reads the live counterpart of `desired`: 5 requests (7 with a test user and its password). None
 * depends on another's answer, so all go out at once: the password check, which makes Keycloak hash,
 * is the slowest, and waiting for the realm first would only add a round trip for the common case
 * of a realm that exists. When it does not, the other answers (404s) are dropped.
 */
export async function readLiveRealm(session: AdminSession, desired: DesiredRealm): Promise<LiveRealm> {
  const realm = desired.realm;
  const path = encodeURIComponent(realm);
  const list = async <T>(suffix: string, what: string, query?: Record<string, string>) => (await session.read<T[]>(`${path}/${suffix}`, what, query)) ?? [];
  const realmRead = session.read<RealmRepresentation>(path, `reading realm "${realm}"`);
  const reads = Promise.all([
    list<ClientScopeRepresentation>('client-scopes', `listing the client scopes of realm "${realm}"`),
    list<ClientScopeRepresentation>('default-default-client-scopes', `listing the default client scopes of realm "${realm}"`),
    list<ComponentRepresentation>('components', `listing the client registration policies of realm "${realm}"`, { type: POLICY_TYPE }),
    desired.testUser ? readTestUser(session, realm, desired.testUser) : undefined,
  ]);
  // Marked as handled now: when the realm is missing, these fail and nobody awaits them.
  reads.catch(() => undefined);
  const found = await realmRead;
  const live: LiveRealm = { exists: Boolean(found), scopes: new Map(), defaultScopes: new Set(), anonymousPolicies: [] };
  if (!found) return live;
  live.id = found.id!;
  live.enabled = found.enabled ?? false;

  const [allScopes, defaults, components, testUser] = await reads;
  const wanted = new Set(desired.scopes.map((scope) => scope.name));
  for (const scope of allScopes) {
    if (!scope.name || !scope.id || !wanted.has(scope.name)) continue;
    live.scopes.set(scope.name, { ...scope, id: scope.id, name: scope.name, mappers: scope.protocolMappers ?? [] });
  }
  for (const scope of defaults) if (scope.name) live.defaultScopes.add(scope.name);
  live.anonymousPolicies = components.filter((component) => component.subType === 'anonymous');
  if (testUser) live.testUser = testUser;
  return live;
}

/** The test user and whether its password works; both asked at once (a missing user makes the check moot). */
async function readTestUser(
  session: AdminSession,
  realm: string,
  wanted: { username: string; password?: string },
): Promise<LiveRealm['testUser']> {
  const { username, password } = wanted;
  const check = password ? passwordWorks(session.baseUrl, realm, username, password) : undefined;
  check?.catch(() => undefined);
  const users = await session.read<UserRepresentation[]>(`${encodeURIComponent(realm)}/users`, `looking up test user "${username}" in realm "${realm}"`, {
    username,
    exact: 'true',
  });
  // Keycloak stores usernames in lower case.
  const user = users?.find((u) => u.username === username.toLowerCase());
  if (!user) return undefined;
  return check ? { user, passwordWorks: await check } : { user };
}

/**
 * Whether the test user can log in with the configured password: the only way to compare a password
 * without resetting it. Uses the realm's built-in public `admin-cli` client (direct grants on).
 */
export async function passwordWorks(baseUrl: string, realm: string, username: string, password: string): Promise<boolean> {
  const response = await keycloakRequest(`checking the password of test user "${username}" in realm "${realm}"`, realmUrls(baseUrl, realm).token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username, password, scope: 'openid' }),
  });
  return response.ok;
}
