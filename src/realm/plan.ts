/**
 * The pure diff between the desired realm and the live one. The plan is data (versioned JSON,
 * documented in the README): `plan` renders it, `apply` executes it, tests assert on it. Objects apply
 * owns end up existing exactly once: copies found beyond one are planned for deletion, with the reason.
 */
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { audienceMapperDrift, ownedAudienceMappers } from './audience.js';
import type {
  AudienceMapperChange,
  Change,
  ChangeAction,
  ClientScopeChange,
  FieldChange,
  RealmChange,
  ResourceClientChange,
  TestUserChange,
} from './change.js';
import {
  AUDIENCE_MAPPER_NAME,
  RESOURCE_URL_ATTRIBUTE,
  SCOPE_ATTRIBUTES,
  audienceMapperConfig,
  resourceClientRepresentation,
  type DesiredRealm,
  type DesiredResourceClient,
  type DesiredScope,
} from './desired.js';
import type { LiveRealm, LiveScope } from './live.js';
import { planCimd } from './cimd-plan.js';
import { planPolicies } from './policies.js';
import { isolationReason, mcpServersOf, placeScopes, planOtherServersScopes } from './isolation.js';
import { planMachineClient } from './machine-clients.js';

// The Change types live in change.ts; these are the ones the plan's readers (ui, doctor, commands) use.
export type { Change, ChangeAction, ChangeKind, FieldChange } from './change.js';
export { configValues } from './policies.js';

const PLAN_FORMAT_VERSION = 1;

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  keycloakUrl: string;
  realm: string;
  changes: Change[];
  summary: Record<ChangeAction, number>;
}

/** Everything apply would change, in the order it would change it (realm → scopes → resource clients → registration policies → client profiles and policies → user). */
export function planRealm(desired: DesiredRealm, live: LiveRealm, keycloakUrl: string): Plan {
  const servers = mcpServersOf(desired, live).length;
  const changes: Change[] = [
    ...planRealmItself(desired, live),
    ...placeScopes(desired, live).flatMap((scope) => planScope(scope, live, servers)),
    ...planOtherServersScopes(desired, live),
    ...desired.resourceClients.flatMap((client) => planResourceClient(client, live)),
    ...planPolicies(desired, live),
    ...planCimd(desired.cimd, desired.anonymous, live.clientProfiles, live.clientPolicies),
    ...planMachineClients(desired, live),
    ...planTestUser(desired, live),
  ];
  const summary = { create: 0, update: 0, delete: 0 };
  for (const change of changes) summary[change.action]++;
  return { formatVersion: PLAN_FORMAT_VERSION, keycloakUrl, realm: desired.realm, changes, summary };
}

function planRealmItself(desired: DesiredRealm, live: LiveRealm): RealmChange[] {
  const name = desired.realm;
  if (!live.exists)
    return [{ action: 'create', kind: 'realm', name, fields: [{ field: 'enabled', from: null, to: true }] }];
  if (live.enabled) return [];
  return [
    {
      action: 'update',
      kind: 'realm',
      name,
      ...(live.id === undefined ? {} : { id: live.id }),
      fields: [{ field: 'enabled', from: false, to: true }],
    },
  ];
}

function planScope(desired: DesiredScope, live: LiveRealm, servers: number): Change[] {
  const scope = live.scopes.get(desired.name);
  const changes: Change[] = [...planScopeItself(desired, scope), ...planAudienceMappers(desired, scope?.mappers ?? [])];
  if (desired.optional || desired.isolated) {
    // A step-up scope among the defaults would be granted up front, which is what step-up avoids; a shared
    // realm's base scope there would name its server in every other server's tokens (isolation.ts).
    if (!live.optionalScopes.has(desired.name) || live.defaultScopes.has(desired.name)) {
      const moving = live.defaultScopes.has(desired.name);
      const why = desired.optional
        ? 'a step-up scope is granted only to a client that asks for it'
        : isolationReason(servers);
      const fields = [
        ...(moving ? [{ field: 'realm default client scopes', from: desired.name, to: `(removed: ${why})` }] : []),
        { field: 'realm optional client scopes', from: null, to: desired.name },
      ];
      changes.push({
        action: moving ? 'update' : 'create',
        kind: 'optional-scope',
        name: desired.name,
        scope: desired.name,
        fields,
      });
    }
  } else if (!live.defaultScopes.has(desired.name)) {
    changes.push({
      action: 'create',
      kind: 'default-scope',
      name: desired.name,
      scope: desired.name,
      fields: [{ field: 'realm default client scopes', from: null, to: desired.name }],
    });
  }
  return changes;
}

function planScopeItself(desired: DesiredScope, scope: LiveScope | undefined): ClientScopeChange[] {
  if (!scope) {
    return [
      {
        action: 'create',
        kind: 'client-scope',
        name: desired.name,
        fields: [
          { field: 'protocol', from: null, to: 'openid-connect' },
          ...Object.entries(SCOPE_ATTRIBUTES).map(([field, to]) => ({ field, from: null, to })),
        ],
      },
    ];
  }
  const fields: FieldChange[] = [];
  if (scope.protocol !== 'openid-connect')
    fields.push({ field: 'protocol', from: scope.protocol ?? null, to: 'openid-connect' });
  for (const [field, to] of Object.entries(SCOPE_ATTRIBUTES)) {
    const from = scope.attributes?.[field];
    if (from !== to) fields.push({ field, from: from ?? null, to });
  }
  return fields.length ? [{ action: 'update', kind: 'client-scope', name: desired.name, id: scope.id, fields }] : [];
}

/** Ours created or repaired, and copies of ours beyond one deleted (see `ownedAudienceMappers`). */
function planAudienceMappers(desired: DesiredScope, mappers: ProtocolMapperRepresentation[]): AudienceMapperChange[] {
  const scope = desired.name;
  const { kept, duplicates } = ownedAudienceMappers(mappers, desired.audience);
  const changes: AudienceMapperChange[] = [];
  if (!kept) {
    changes.push({
      action: 'create',
      kind: 'audience-mapper',
      name: `${scope} › ${AUDIENCE_MAPPER_NAME}`,
      scope,
      fields: Object.entries(audienceMapperConfig(desired.audience))
        .filter(([, to]) => to !== '')
        .map(([field, to]) => ({ field, from: null, to })),
    });
    return changes;
  }
  // Mappers read from Keycloak always have ids; one without cannot be addressed, so it is not planned on.
  const keptName = `${scope} › ${kept.name ?? AUDIENCE_MAPPER_NAME}`;
  const drift = audienceMapperDrift(kept, desired.audience);
  if (drift.length && kept.id)
    changes.push({ action: 'update', kind: 'audience-mapper', name: keptName, id: kept.id, scope, fields: drift });
  for (const duplicate of duplicates) {
    if (!duplicate.id) continue;
    changes.push({
      action: 'delete',
      kind: 'audience-mapper',
      name: `${scope} › ${duplicate.name ?? AUDIENCE_MAPPER_NAME}`,
      id: duplicate.id,
      scope,
      fields: [
        { field: 'included.custom.audience', from: duplicate.config?.['included.custom.audience'] ?? null, to: null },
      ],
      reason: `duplicate of "${kept.name ?? AUDIENCE_MAPPER_NAME}"${kept.id ? ` ${kept.id}` : ''}, which apply keeps`,
    });
  }
  return changes;
}

/** Ours created; an existing client with this clientId (ours or the user's) only gets the right `resource_url`. */
function planResourceClient(desired: DesiredResourceClient, live: LiveRealm): ResourceClientChange[] {
  const existing = live.resourceClients.get(desired.url);
  if (!existing) {
    const { attributes, ...representation } = resourceClientRepresentation(desired.url);
    return [
      {
        action: 'create',
        kind: 'resource-client',
        name: desired.url,
        fields: [
          ...(['clientId', 'publicClient', 'standardFlowEnabled'] as const).map((field) => ({
            field,
            from: null,
            to: representation[field],
          })),
          { field: RESOURCE_URL_ATTRIBUTE, from: null, to: attributes[RESOURCE_URL_ATTRIBUTE] },
        ],
      },
    ];
  }
  const from = existing.attributes?.[RESOURCE_URL_ATTRIBUTE] ?? null;
  if (from === desired.url || !existing.id) return [];
  return [
    {
      action: 'update',
      kind: 'resource-client',
      name: desired.url,
      id: existing.id,
      fields: [{ field: RESOURCE_URL_ATTRIBUTE, from, to: desired.url }],
    },
  ];
}

/** Each machine client created, or repaired with its credentials file (machine-clients.ts). */
function planMachineClients(desired: DesiredRealm, live: LiveRealm): Change[] {
  return (desired.machineClients ?? []).flatMap((machine): Change[] => {
    const found = live.machineClients?.get(machine.clientId);
    const planned = planMachineClient(machine, found);
    if (!planned) return [];
    const name = machine.clientId;
    const id = found?.client?.id;
    if (planned.action === 'create' || !id)
      return [{ action: 'create', kind: 'machine-client', name, fields: planned.fields }];
    return [{ action: 'update', kind: 'machine-client', name, id, fields: planned.fields }];
  });
}

/** What a user needs so that both password and browser logins work ("Account is not fully set up" otherwise). */
export function testUserProfile(username: string) {
  return { email: `${username}@example.com`, firstName: username, lastName: 'Test' };
}

function planTestUser(desired: DesiredRealm, live: LiveRealm): TestUserChange[] {
  const wanted = desired.testUser;
  if (!wanted) return [];
  const profile = testUserProfile(wanted.username);
  const existing = live.testUser?.user;
  if (!existing?.id) {
    return [
      {
        action: 'create',
        kind: 'test-user',
        name: wanted.username,
        fields: [
          { field: 'enabled', from: null, to: true },
          { field: 'emailVerified', from: null, to: true },
          ...Object.entries(profile).map(([field, to]) => ({ field, from: null, to })),
          { field: 'password', from: null, to: '(set)' },
        ],
      },
    ];
  }
  const fields: FieldChange[] = [];
  if (!existing.enabled) fields.push({ field: 'enabled', from: existing.enabled ?? false, to: true });
  if (!existing.emailVerified) fields.push({ field: 'emailVerified', from: existing.emailVerified ?? false, to: true });
  for (const [field, to] of Object.entries(profile) as [keyof typeof profile, string][]) {
    if (!existing[field]) fields.push({ field, from: null, to });
  }
  if (existing.requiredActions?.length)
    fields.push({ field: 'requiredActions', from: existing.requiredActions, to: [] });
  if (live.testUser?.passwordWorks === false) fields.push({ field: 'password', from: '(does not work)', to: '(set)' });
  return fields.length ? [{ action: 'update', kind: 'test-user', name: wanted.username, id: existing.id, fields }] : [];
}
