/**
 * The pure diff between the desired realm and the live one. The plan is data (versioned JSON,
 * documented in the README): `plan` renders it, `apply` executes it, tests assert on it.
 * Multi-valued config is compared as sets: Keycloak does not keep their order.
 */
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import {
  AUDIENCE_MAPPER_NAME,
  POLICY_NAME,
  PROVIDER,
  SCOPE_ATTRIBUTES,
  audienceMapperConfig,
  type DesiredRealm,
  type DesiredScope,
} from './desired.js';
import type { LiveRealm } from './live.js';

export const PLAN_FORMAT_VERSION = 1;

export type ChangeKind = 'realm' | 'client-scope' | 'audience-mapper' | 'default-scope' | 'registration-policy' | 'test-user';
export type ChangeAction = 'create' | 'update' | 'delete';

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface Change {
  action: ChangeAction;
  kind: ChangeKind;
  /** Human name: the realm, the scope, "scope › mapper", the policy's name, the username. */
  name: string;
  /** Keycloak's id of the existing object (absent for creations). */
  id?: string;
  /** For mappers and default scopes: the client scope they belong to. */
  scope?: string;
  /** For registration policies: Keycloak's providerId. */
  providerId?: string;
  fields: FieldChange[];
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  keycloakUrl: string;
  realm: string;
  changes: Change[];
  summary: Record<ChangeAction, number>;
}

export function planRealm(desired: DesiredRealm, live: LiveRealm, keycloakUrl: string): Plan {
  const changes: Change[] = [
    ...planRealmItself(desired, live),
    ...desired.scopes.flatMap((scope) => planScope(scope, live)),
    ...planPolicies(desired, live),
    ...planTestUser(desired, live),
  ];
  const summary = { create: 0, update: 0, delete: 0 };
  for (const change of changes) summary[change.action]++;
  return { formatVersion: PLAN_FORMAT_VERSION, keycloakUrl, realm: desired.realm, changes, summary };
}

function planRealmItself(desired: DesiredRealm, live: LiveRealm): Change[] {
  if (!live.exists) return [{ action: 'create', kind: 'realm', name: desired.realm, fields: [{ field: 'enabled', from: null, to: true }] }];
  if (!live.enabled) return [{ action: 'update', kind: 'realm', name: desired.realm, id: live.id!, fields: [{ field: 'enabled', from: false, to: true }] }];
  return [];
}

function planScope(desired: DesiredScope, live: LiveRealm): Change[] {
  const changes: Change[] = [];
  const scope = live.scopes.get(desired.name);
  if (!scope) {
    changes.push({
      action: 'create',
      kind: 'client-scope',
      name: desired.name,
      fields: [
        { field: 'protocol', from: null, to: 'openid-connect' },
        ...Object.entries(SCOPE_ATTRIBUTES).map(([field, to]) => ({ field, from: null, to })),
      ],
    });
  } else {
    const fields: FieldChange[] = [];
    if (scope.protocol !== 'openid-connect') fields.push({ field: 'protocol', from: scope.protocol ?? null, to: 'openid-connect' });
    for (const [field, to] of Object.entries(SCOPE_ATTRIBUTES)) {
      const from = scope.attributes?.[field];
      if (from !== to) fields.push({ field, from: from ?? null, to });
    }
    if (fields.length) changes.push({ action: 'update', kind: 'client-scope', name: desired.name, id: scope.id, fields });
  }

  const mapper = scope ? findAudienceMapper(scope.mappers, desired.audience) : undefined;
  const wanted = audienceMapperConfig(desired.audience);
  const mapperName = mapper?.name ?? AUDIENCE_MAPPER_NAME;
  if (!mapper) {
    changes.push({
      action: 'create',
      kind: 'audience-mapper',
      name: `${desired.name} › ${AUDIENCE_MAPPER_NAME}`,
      scope: desired.name,
      fields: Object.entries(wanted)
        .filter(([, to]) => to !== '')
        .map(([field, to]) => ({ field, from: null, to })),
    });
  } else {
    const fields = Object.entries(wanted)
      .map(([field, to]) => ({ field, from: mapper.config?.[field] ?? '', to }))
      .filter(({ from, to }) => from !== to)
      .map(({ field, from, to }) => ({ field, from: from === '' ? null : from, to: to === '' ? null : to }));
    if (fields.length) {
      changes.push({ action: 'update', kind: 'audience-mapper', name: `${desired.name} › ${mapperName}`, id: mapper.id!, scope: desired.name, fields });
    }
  }

  if (!live.defaultScopes.has(desired.name)) {
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

/** Ours by name; else adopt any audience mapper that already carries exactly this URL (e.g. one made by hand). */
function findAudienceMapper(mappers: ProtocolMapperRepresentation[], audience: string): ProtocolMapperRepresentation | undefined {
  return (
    mappers.find((m) => m.name === AUDIENCE_MAPPER_NAME && m.protocolMapper === 'oidc-audience-mapper') ??
    mappers.find((m) => m.protocolMapper === 'oidc-audience-mapper' && m.config?.['included.custom.audience'] === audience)
  );
}

/** When the realm does not exist yet, Keycloak will create these anonymous policies with it. */
function predictedPolicies(live: LiveRealm): ComponentRepresentation[] {
  if (live.exists) return live.anonymousPolicies;
  return [
    { name: POLICY_NAME[PROVIDER.trustedHosts], providerId: PROVIDER.trustedHosts, subType: 'anonymous', config: {} },
    { name: POLICY_NAME[PROVIDER.allowedScopes], providerId: PROVIDER.allowedScopes, subType: 'anonymous', config: {} },
  ];
}

/** Keycloak stores component config values as string arrays (a lone string in some old exports). */
export function configValues(component: ComponentRepresentation, key: string): string[] {
  const value = component.config?.[key] as string | string[] | undefined;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && new Set(a).size === new Set([...a, ...b]).size;

function planPolicies(desired: DesiredRealm, live: LiveRealm): Change[] {
  if (desired.dcr.mode === 'off') return [];
  const policies = predictedPolicies(live);
  const byProvider = (providerId: string) => policies.filter((p) => p.providerId === providerId);
  const changes: Change[] = [];
  const policyChange = (action: ChangeAction, policy: ComponentRepresentation, providerId: string, fields: FieldChange[]): Change => {
    const change: Change = { action, kind: 'registration-policy', name: policy.name ?? POLICY_NAME[providerId as keyof typeof POLICY_NAME], providerId, fields };
    if (policy.id) change.id = policy.id;
    return change;
  };

  // Allowed Client Scopes: our scopes must be allowed; scopes allowed already are kept.
  const scopeNames = desired.scopes.map((s) => s.name);
  for (const policy of byProvider(PROVIDER.allowedScopes)) {
    const current = configValues(policy, 'allowed-client-scopes');
    const missing = scopeNames.filter((name) => !current.includes(name));
    const fields: FieldChange[] = [];
    if (missing.length) fields.push({ field: 'allowed-client-scopes', from: current, to: [...current, ...missing] });
    // Absent means on. Off, Keycloak refuses any registration that asks for a default scope too, such
    // as the SDK clients' `offline_access`, even when our scope is allowed.
    const allowDefaults = configValues(policy, 'allow-default-scopes');
    if (allowDefaults.length > 0 && allowDefaults[0] !== 'true') fields.push({ field: 'allow-default-scopes', from: allowDefaults, to: ['true'] });
    if (fields.length) changes.push(policyChange('update', policy, PROVIDER.allowedScopes, fields));
  }

  const trusted = byProvider(PROVIDER.trustedHosts);
  if (desired.dcr.mode === 'anonymous') {
    for (const policy of trusted) {
      changes.push(policyChange('delete', policy, PROVIDER.trustedHosts, [{ field: 'trusted-hosts', from: configValues(policy, 'trusted-hosts'), to: null }]));
    }
  } else {
    const hosts = desired.dcr.trustedHosts;
    const [first] = trusted;
    if (!first) {
      changes.push(
        policyChange('create', { name: POLICY_NAME[PROVIDER.trustedHosts] }, PROVIDER.trustedHosts, [
          { field: 'trusted-hosts', from: null, to: hosts },
        ]),
      );
    } else {
      const current = configValues(first, 'trusted-hosts');
      if (!sameSet(current, hosts)) changes.push(policyChange('update', first, PROVIDER.trustedHosts, [{ field: 'trusted-hosts', from: current, to: hosts }]));
    }
  }

  if (desired.dcr.webOrigins) {
    const origins = desired.dcr.webOrigins;
    const [first] = byProvider(PROVIDER.webOrigins);
    if (!first) {
      changes.push(
        policyChange('create', { name: POLICY_NAME[PROVIDER.webOrigins] }, PROVIDER.webOrigins, [{ field: 'web-origins', from: null, to: origins }]),
      );
    } else {
      const current = configValues(first, 'web-origins');
      if (!sameSet(current, origins)) changes.push(policyChange('update', first, PROVIDER.webOrigins, [{ field: 'web-origins', from: current, to: origins }]));
    }
  }
  return changes;
}

/** What a user needs so that both password and browser logins work ("Account is not fully set up" otherwise). */
export function testUserProfile(username: string) {
  return { email: `${username}@example.com`, firstName: username, lastName: 'Test' };
}

function planTestUser(desired: DesiredRealm, live: LiveRealm): Change[] {
  const wanted = desired.testUser;
  if (!wanted) return [];
  const profile = testUserProfile(wanted.username);
  const existing = live.testUser?.user;
  if (!existing) {
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
  if (existing.requiredActions?.length) fields.push({ field: 'requiredActions', from: existing.requiredActions, to: [] });
  if (live.testUser?.passwordWorks === false) fields.push({ field: 'password', from: '(does not work)', to: '(set)' });
  return fields.length ? [{ action: 'update', kind: 'test-user', name: wanted.username, id: existing.id!, fields }] : [];
}
