/**
 * Reads what `plan` compares against: only the objects the desired state names, in as few requests
 * as the admin API allows (all reads, no writes), and without loading the admin client (see
 * keycloak/admin-client.ts). Client scopes come with their protocol mappers in the list answer, so
 * no scope needs a read of its own.
 */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type RealmRepresentation from '@keycloak/keycloak-admin-client/lib/defs/realmRepresentation.js';
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import { requestKeycloak } from '../keycloak/answer.js';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import { realmUrls } from '../keycloak/urls.js';
import type { ClientPolicy, ClientProfile } from './cimd.js';
import { readLiveMachineClients } from './machine-live.js';
import { POLICY_TYPE, type DesiredRealm } from './desired.js';
import { isSharedRealm, ourAudienceOf } from './isolation.js';
import type { LiveRealm } from './live-types.js';

export type { LiveRealm, LiveScope } from './live-types.js';

/** Password checks started before the admin login, each waiting for the first read of its desired realm. */
const earlyChecks = new WeakMap<DesiredRealm, Promise<boolean>>();

/** Starts the test user's password check; handled now, since nobody awaits it when the realm or the user is missing. */
function startPasswordCheck(baseUrl: string, desired: DesiredRealm): Promise<boolean> | undefined {
  const { testUser } = desired;
  if (!testUser?.password) return undefined;
  const check = passwordWorks(baseUrl, desired.realm, testUser.username, testUser.password);
  check.catch(() => undefined);
  return check;
}

/**
 * Starts the test user's password check at once, for the next `readLiveRealm` of this `desired` to
 * use. It needs no admin token, so it can go out alongside the admin login (session.ts
 * `alongsideLogin`): Keycloak hashes a password for each, and the two then take the time of one.
 */
export function checkPasswordEarly(baseUrl: string, desired: DesiredRealm): void {
  const check = startPasswordCheck(baseUrl, desired);
  if (check) earlyChecks.set(desired, check);
}

/**
 * Reads the live counterpart of `desired`: 5 requests when the realm exists (7 with a test user and
 * its password), plus one per MCP server (its resource client) and 2 with our client policies (anonymous registration or CIMD); 1 or 2 when it does
 * not. The lists wait for the realm to be found; the password
 * check, which makes Keycloak hash and is the slowest, went out with the login (`checkPasswordEarly`)
 * or goes out with the realm read, and is only consulted when the user exists. A read after apply
 * changed the realm checks the password afresh.
 */
export async function readLiveRealm(
  session: AdminSession,
  desired: DesiredRealm,
  options: { clientPolicies?: boolean } = {},
): Promise<LiveRealm> {
  const realm = desired.realm;
  const path = encodeURIComponent(realm);
  const { testUser } = desired;
  const passwordCheck = earlyChecks.get(desired) ?? startPasswordCheck(session.baseUrl, desired);
  earlyChecks.delete(desired);
  const found = await session.read<RealmRepresentation>(path, `reading realm "${realm}"`);
  const live: LiveRealm = {
    exists: Boolean(found),
    scopes: new Map(),
    defaultScopes: new Set(),
    optionalScopes: new Set(),
    anonymousPolicies: [],
    resourceClients: new Map(),
  };
  if (!found) return live;
  live.id = found.id!;
  live.enabled = found.enabled ?? false;

  // Alongside the lists below: the client profiles and policies, 2 reads more when ours are desired.
  const cimdReads =
    desired.cimd || desired.anonymous || options.clientPolicies
      ? Promise.all([
          session.read<{ profiles?: ClientProfile[] }>(
            `${path}/client-policies/profiles`,
            `reading the client profiles of realm "${realm}"`,
          ),
          session.read<{ policies?: ClientPolicy[] }>(
            `${path}/client-policies/policies`,
            `reading the client policies of realm "${realm}"`,
          ),
        ])
      : undefined;
  cimdReads?.catch(() => undefined); // awaited below; an early failure of the lists must not leave it unhandled
  const list = async <T>(suffix: string, what: string, query?: Record<string, string>) =>
    (await session.read<T[]>(`${path}/${suffix}`, what, query)) ?? [];
  // Optional scopes matter for step-up scopes and in a realm of several MCP servers (isolation.ts); a realm found
  // to hold another server's scope only after this read gets the list read then.
  const optionalsRead = desired.scopes.some((scope) => scope.optional) || desired.resourceClients.length >= 2;
  const [allScopes, defaults, optionals, components, users, ...resourceClients] = await Promise.all([
    list<ClientScopeRepresentation>('client-scopes', `listing the client scopes of realm "${realm}"`),
    list<ClientScopeRepresentation>(
      'default-default-client-scopes',
      `listing the default client scopes of realm "${realm}"`,
    ),
    optionalsRead
      ? list<ClientScopeRepresentation>(
          'default-optional-client-scopes',
          `listing the optional client scopes of realm "${realm}"`,
        )
      : [],
    list<ComponentRepresentation>('components', `listing the client registration policies of realm "${realm}"`, {
      type: POLICY_TYPE,
    }),
    testUser
      ? list<UserRepresentation>('users', `looking up test user "${testUser.username}" in realm "${realm}"`, {
          username: testUser.username,
          exact: 'true',
        })
      : [],
    // `clientId` without `search=true` is an exact match: one request per MCP server, however many DCR clients the realm holds.
    ...desired.resourceClients.map(({ url }) =>
      list<ClientRepresentation>('clients', `looking up the resource client "${url}" in realm "${realm}"`, {
        clientId: url,
      }),
    ),
  ]);
  if (desired.machineClients)
    live.machineClients = await readLiveMachineClients(session, realm, desired.machineClients);
  if (cimdReads) {
    const [profiles, policies] = await cimdReads;
    live.clientProfiles = profiles?.profiles ?? [];
    live.clientPolicies = policies?.policies ?? [];
  }
  desired.resourceClients.forEach(({ url }, i) => {
    const client = (resourceClients[i] as ClientRepresentation[]).find((c) => c.clientId === url);
    if (client) live.resourceClients.set(url, client);
  });
  const wanted = new Set(desired.scopes.map((scope) => scope.name));
  for (const scope of allScopes) {
    if (!scope.name || !scope.id) continue;
    const read = { ...scope, id: scope.id, name: scope.name, mappers: scope.protocolMappers ?? [] };
    // Another MCP server's scope (our Audience mapper) is kept too: it makes the realm a shared one (isolation.ts).
    if (wanted.has(scope.name) || ourAudienceOf(read)) live.scopes.set(scope.name, read);
  }
  for (const scope of defaults) if (scope.name) live.defaultScopes.add(scope.name);
  const lateOptionals =
    !optionalsRead && isSharedRealm(desired, live)
      ? await list<ClientScopeRepresentation>(
          'default-optional-client-scopes',
          `listing the optional client scopes of realm "${realm}"`,
        )
      : [];
  for (const scope of [...optionals, ...lateOptionals]) if (scope.name) live.optionalScopes.add(scope.name);
  live.anonymousPolicies = components.filter((component) => component.subType === 'anonymous');
  // Keycloak stores usernames in lower case.
  const user = testUser && users.find((u) => u.username === testUser.username.toLowerCase());
  if (user) live.testUser = passwordCheck ? { user, passwordWorks: await passwordCheck } : { user };
  return live;
}

/**
 * Whether the test user can log in with the configured password: the only way to compare a password
 * without resetting it. Uses the realm's built-in public `admin-cli` client (direct grants on).
 */
export async function passwordWorks(
  baseUrl: string,
  realm: string,
  username: string,
  password: string,
): Promise<boolean> {
  const response = await keycloakCall(
    () =>
      requestKeycloak(realmUrls(baseUrl, realm).token, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'admin-cli',
          username,
          password,
          scope: 'openid',
        }),
      }),
    undefined,
    `checking the password of test user "${username}" in realm "${realm}"`,
  );
  return response.ok;
}
