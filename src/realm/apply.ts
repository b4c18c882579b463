/**
 * Executes a plan against Keycloak, change by change, in the plan's order (realm → scopes → mappers →
 * default scopes → registration policies → user). Every step is idempotent on its own, so a run that
 * was interrupted half-way is completed by the next `apply`.
 */
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import { KeycloakError } from '../errors.js';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import { AUDIENCE_MAPPER_NAME, POLICY_TYPE, SCOPE_ATTRIBUTES, audienceMapperConfig, type DesiredRealm } from './desired.js';
import { readLiveRealm, type LiveRealm } from './live.js';
import { planRealm, testUserProfile, type Change, type Plan } from './plan.js';

export interface ComputedPlan {
  plan: Plan;
  live: LiveRealm;
}

export async function computePlan(session: AdminSession, desired: DesiredRealm): Promise<ComputedPlan> {
  const live = await readLiveRealm(session, desired);
  return { plan: planRealm(desired, live, session.baseUrl), live };
}

/**
 * Applies `computed`. A realm that must be created comes first; the rest is then planned again from
 * the live realm, because Keycloak creates default policies (with ids we need) together with a realm.
 * Returns the changes that were made.
 */
export async function applyPlan(
  session: AdminSession,
  desired: DesiredRealm,
  computed: ComputedPlan,
  onChange?: (change: Change) => void,
): Promise<Change[]> {
  const done: Change[] = [];
  let { plan, live } = computed;
  const realmCreate = plan.changes.find((c) => c.kind === 'realm' && c.action === 'create');
  if (realmCreate) {
    await keycloakCall(
      () => session.client.realms.create({ realm: desired.realm, enabled: true }),
      (status) => (status === 409 ? `Realm "${desired.realm}" was created by someone else meanwhile; run apply again.` : undefined),
      `Creating realm "${desired.realm}"`,
    );
    done.push(realmCreate);
    onChange?.(realmCreate);
    ({ plan, live } = await computePlan(session, desired));
  }
  const scopeIds = new Map([...live.scopes].map(([name, scope]) => [name, scope.id]));
  for (const change of plan.changes) {
    await executeChange(session, desired, live, scopeIds, change);
    done.push(change);
    onChange?.(change);
  }
  return done;
}

async function executeChange(
  session: AdminSession,
  desired: DesiredRealm,
  live: LiveRealm,
  scopeIds: Map<string, string>,
  change: Change,
): Promise<void> {
  const { client } = session;
  const realm = desired.realm;
  const what = `${change.action} ${change.kind} "${change.name}"`;
  const call = <T>(fn: () => Promise<T>) => keycloakCall(fn, undefined, `Could not ${what}`);
  const scopeId = (name: string) => {
    const id = scopeIds.get(name);
    if (!id) throw new KeycloakError(`Could not ${what}: client scope "${name}" has no id (was it deleted meanwhile?). Run apply again.`);
    return id;
  };

  switch (change.kind) {
    case 'realm':
      await call(() => client.realms.update({ realm }, { enabled: true }));
      return;
    case 'client-scope': {
      if (change.action === 'create') {
        const { id } = await call(() =>
          client.clientScopes.create({
            realm,
            name: change.name,
            protocol: 'openid-connect',
            attributes: { ...SCOPE_ATTRIBUTES, 'consent.screen.text': `Use the MCP server's tools (${change.name})` },
          }),
        );
        scopeIds.set(change.name, id);
      } else {
        const current = live.scopes.get(change.name)!;
        const { mappers: _mappers, ...representation } = current;
        await call(() =>
          client.clientScopes.update(
            { realm, id: current.id },
            { ...representation, protocol: 'openid-connect', attributes: { ...current.attributes, ...SCOPE_ATTRIBUTES } },
          ),
        );
      }
      return;
    }
    case 'audience-mapper': {
      const scope = change.scope!;
      const audience = desired.scopes.find((s) => s.name === scope)!.audience;
      const config = audienceMapperConfig(audience);
      if (change.action === 'create') {
        await call(() =>
          client.clientScopes.addProtocolMapper(
            { realm, id: scopeId(scope) },
            { name: AUDIENCE_MAPPER_NAME, protocol: 'openid-connect', protocolMapper: 'oidc-audience-mapper', config: { ...config, 'id.token.claim': 'false' } },
          ),
        );
      } else {
        const current = live.scopes.get(scope)!.mappers.find((m) => m.id === change.id)!;
        await call(() =>
          client.clientScopes.updateProtocolMapper({ realm, id: scopeId(scope), mapperId: change.id! }, { ...current, config: { ...current.config, ...config } }),
        );
      }
      return;
    }
    case 'default-scope':
      await call(() => client.clientScopes.addDefaultClientScope({ realm, id: scopeId(change.scope!) }));
      return;
    case 'registration-policy':
      await executePolicy(session, realm, live, change, call);
      return;
    case 'test-user':
      await executeTestUser(session, desired, change, call);
      return;
  }
}

async function executePolicy(
  session: AdminSession,
  realm: string,
  live: LiveRealm,
  change: Change,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const { client } = session;
  if (change.action === 'delete') {
    await call(() => client.components.del({ realm, id: change.id! }));
    return;
  }
  // Each field of a policy change is one config key with its complete new value list.
  const values = Object.fromEntries(change.fields.map((field) => [field.field, field.to as string[]]));
  if (change.action === 'create') {
    const config: Record<string, string[]> = { ...values };
    if (change.providerId === 'trusted-hosts') {
      config['host-sending-registration-request-must-match'] = ['true'];
      config['client-uris-must-match'] = ['true'];
    }
    const component: ComponentRepresentation = {
      name: change.name,
      providerId: change.providerId!,
      providerType: POLICY_TYPE,
      parentId: live.id!,
      subType: 'anonymous',
      config,
    };
    await call(() => client.components.create({ realm, ...component }));
    return;
  }
  const current = live.anonymousPolicies.find((p) => p.id === change.id)!;
  await call(() => client.components.update({ realm, id: change.id! }, { ...current, config: { ...current.config, ...values } }));
}

async function executeTestUser(
  session: AdminSession,
  desired: DesiredRealm,
  change: Change,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const { client } = session;
  const realm = desired.realm;
  const wanted = desired.testUser!;
  const profile = testUserProfile(wanted.username);
  let id = change.id;
  if (change.action === 'create') {
    ({ id } = await call(() =>
      client.users.create({ realm, username: wanted.username, enabled: true, emailVerified: true, requiredActions: [], ...profile }),
    ));
  } else {
    const update: Record<string, unknown> = {};
    for (const field of change.fields) if (field.field !== 'password') update[field.field] = field.to;
    if (Object.keys(update).length) {
      const current = await call(() => client.users.findOne({ realm, id: id! }));
      await call(() => client.users.update({ realm, id: id! }, { ...current, ...update }));
    }
  }
  if (change.fields.some((f) => f.field === 'password') && wanted.password) {
    await call(() => client.users.resetPassword({ realm, id: id!, credential: { type: 'password', value: wanted.password!, temporary: false } }));
  }
}
