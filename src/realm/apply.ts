/**
 * Executes a plan against Keycloak, change by change, in the plan's order (realm → scopes → mappers →
 * default scopes → registration policies → user), then reads the realm back and goes on until the plan
 * is empty. Another writer (a second apply, an administrator) is not an error: a create that meets 409
 * or an update that meets 404 means the realm moved, so apply reads it again and plans afresh; a delete
 * that meets 404 is done already. A write whose outcome is unknown (a 5xx, a reset, no answer) is
 * settled by reading the realm back: made (by anyone) is done, not made is the write's worded error.
 * Every step is idempotent, so an interrupted run is completed by the next.
 */
import { KeycloakError } from '../errors.js';
import { keycloakCall, outcomeUnknown } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import { AUDIENCE_MAPPER_TYPE } from './audience.js';
import { cimdObjects, withObject, type ClientPolicy, type ClientProfile } from './cimd.js';
import type { AudienceMapperChange, Change, ClientPolicyChange, DefaultScopeChange, OptionalScopeChange, RegistrationPolicyChange, ResourceClientChange, TestUserChange } from './change.js';
import {
  AUDIENCE_MAPPER_NAME,
  DEFAULT_TRUSTED_HOSTS,
  POLICY_TYPE,
  PROVIDER,
  RESOURCE_URL_ATTRIBUTE,
  SCOPE_ATTRIBUTES,
  audienceMapperConfig,
  resourceClientRepresentation,
  type DesiredRealm,
} from './desired.js';
import { readLiveRealm, type LiveRealm } from './live.js';
import { planRealm, testUserProfile, type Plan } from './plan.js';

export interface ComputedPlan {
  plan: Plan;
  live: LiveRealm;
}

/** Reads the live realm and diffs it against `desired` (reads only). */
export async function computePlan(session: AdminSession, desired: DesiredRealm): Promise<ComputedPlan> {
  const live = await readLiveRealm(session, desired);
  return { plan: planRealm(desired, live, session.baseUrl), live };
}

/**
 * What became of one change: `done` (we wrote it), `already` (someone else did: nothing to report) or
 * `replan` (the realm is not what the plan was computed from: read it again before going on).
 */
type Outcome = 'done' | 'already' | 'replan';

/** Passes (execute, read back) before apply gives up on a realm that keeps changing under it. */
const MAX_PASSES = 5;

/**
 * Applies `computed` and returns the changes this run made, in order. Changes found done by another
 * writer are not among them. Throws when the realm still differs after MAX_PASSES passes.
 */
export async function applyPlan(
  session: AdminSession,
  desired: DesiredRealm,
  computed: ComputedPlan,
  onChange?: (change: Change) => void,
): Promise<Change[]> {
  const done: Change[] = [];
  let { plan, live } = computed;
  for (let pass = 1; ; pass++) {
    const moved = await executePass(session, desired, live, plan.changes, (change) => {
      done.push(change);
      onChange?.(change);
    });
    if (!moved) return done;
    ({ plan, live } = await computePlan(session, desired));
    if (plan.changes.length === 0) return done;
    if (pass === MAX_PASSES) {
      const pending = plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).join(', ');
      throw new KeycloakError(
        `Realm "${desired.realm}" kept changing while apply ran: after ${MAX_PASSES} passes it still needs ${pending}. ` +
          'Another apply or an administrator may be editing it; run apply again once they are done.',
      );
    }
  }
}

/** Executes `changes` until one needs a fresh plan; returns whether the realm may differ from `live` now. */
async function executePass(
  session: AdminSession,
  desired: DesiredRealm,
  live: LiveRealm,
  changes: Change[],
  record: (change: Change) => void,
): Promise<boolean> {
  const executor = new Executor(session, desired, live);
  let moved = false;
  for (const change of changes) {
    let outcome: Outcome;
    try {
      outcome = await executor.execute(change);
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      outcome = await settle(session, desired, change, error);
    }
    if (outcome === 'done') {
      moved = true;
      record(change);
    }
    // The rest of a plan for a missing realm was made against policies Keycloak creates with the realm.
    if (outcome === 'replan' || change.kind === 'realm') return true;
  }
  return moved;
}

/**
 * Settles a write whose outcome is unknown (a 5xx, a reset after sending, no answer in time) by reading
 * the realm back: if a fresh plan still holds the change, it was not made and `error` stands; otherwise
 * it was made, by this run or by another writer (Keycloak answers the loser of two concurrent deletes
 * 500 at times, not 404). Which of them cannot be told, so, as for a 404, it is not listed as ours,
 * and the pass goes on from the realm as it now is.
 */
async function settle(session: AdminSession, desired: DesiredRealm, change: Change, error: unknown): Promise<Outcome> {
  let fresh: ComputedPlan;
  try {
    fresh = await computePlan(session, desired);
  } catch {
    // Keycloak cannot be read either: the write's own error says what happened first.
    throw error;
  }
  if (fresh.plan.changes.some((planned) => sameChange(planned, change))) throw error;
  return 'replan';
}

/** Whether two changes are the same write: kind, action, object (name, scope, id when it has one). */
function sameChange(a: Change, b: Change): boolean {
  const idOf = (change: Change) => ('id' in change ? change.id : undefined);
  const scopeOf = (change: Change) => ('scope' in change ? change.scope : undefined);
  return a.kind === b.kind && a.action === b.action && a.name === b.name && scopeOf(a) === scopeOf(b) && idOf(a) === idOf(b);
}

/** The words for a change in error messages: "creating client scope "mcp:run"". */
export function describeChange(change: Change): string {
  const verb = { create: 'creating', update: 'updating', delete: 'deleting' }[change.action];
  switch (change.kind) {
    case 'realm':
      return change.action === 'create' ? `creating realm "${change.name}"` : `enabling realm "${change.name}"`;
    case 'client-scope':
      return `${verb} client scope "${change.name}"`;
    case 'audience-mapper':
      return `${verb} audience mapper "${change.name}"`;
    case 'default-scope':
      return `adding client scope "${change.scope}" to the realm's default client scopes`;
    case 'optional-scope':
      return change.action === 'update'
        ? `moving client scope "${change.scope}" from the realm's default to its optional client scopes`
        : `adding client scope "${change.scope}" to the realm's optional client scopes`;
    case 'resource-client':
      return change.action === 'create' ? `creating resource client "${change.name}"` : `setting resource_url on client "${change.name}"`;
    case 'registration-policy':
      return `${verb} registration policy "${change.name}"`;
    case 'client-profile':
      return `${verb} client profile "${change.name}"`;
    case 'client-policy':
      return `${verb} client policy "${change.name}"`;
    case 'test-user':
      return `${verb} test user "${change.name}"`;
  }
}

/** A write that succeeded with its value, or met a status the caller expected from another writer. */
type Written<T> = { ok: true; value: T } | { ok: false; status: number };

/** Runs one write; a status in `expected` (a conflict with another writer) is returned, not thrown. */
async function write<T>(what: string, call: () => Promise<T>, expected: number[]): Promise<Written<T>> {
  try {
    return { ok: true, value: await keycloakCall(call, undefined, what) };
  } catch (error) {
    if (error instanceof KeycloakError && error.status !== undefined && expected.includes(error.status)) return { ok: false, status: error.status };
    throw error;
  }
}

/** A create meets 409 when the object exists meanwhile, 404 when its parent went away: both need a fresh plan. */
const created = (written: Written<unknown>): Outcome => (written.ok ? 'done' : 'replan');
/** An update that meets 404 finds its object deleted meanwhile: the fresh plan recreates it. */
const updated = created;
/** A delete that meets 404 finds it done by someone else. */
const deleted = (written: Written<unknown>): Outcome => (written.ok ? 'done' : 'already');
const CREATE = [404, 409];
const UPDATE = [404];
const DELETE = [404];

class Executor {
  private readonly realm: string;
  /** Scope ids by name: the live ones, plus the ones created during this pass. */
  private readonly scopeIds: Map<string, string>;

  constructor(
    private readonly session: AdminSession,
    private readonly desired: DesiredRealm,
    private readonly live: LiveRealm,
  ) {
    this.realm = desired.realm;
    this.scopeIds = new Map([...live.scopes].map(([name, scope]) => [name, scope.id]));
  }

  async execute(change: Change): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    const what = describeChange(change);
    switch (change.kind) {
      case 'realm':
        if (change.action === 'create') return created(await write(what, () => client.realms.create({ realm, enabled: true }), [409]));
        return updated(await write(what, () => client.realms.update({ realm }, { enabled: true }), UPDATE));
      case 'client-scope': {
        if (change.action === 'create') {
          const representation = { name: change.name, protocol: 'openid-connect', attributes: { ...SCOPE_ATTRIBUTES, 'consent.screen.text': `Use the MCP server's tools (${change.name})` } };
          const written = await write(what, () => client.clientScopes.create({ realm, ...representation }), CREATE);
          if (written.ok) this.scopeIds.set(change.name, written.value.id);
          return created(written);
        }
        const current = this.live.scopes.get(change.name);
        if (!current || current.id !== change.id) return 'replan';
        const { mappers: _mappers, ...representation } = current;
        const update = { ...representation, protocol: 'openid-connect', attributes: { ...current.attributes, ...SCOPE_ATTRIBUTES } };
        return updated(await write(what, () => client.clientScopes.update({ realm, id: change.id }, update), UPDATE));
      }
      case 'audience-mapper':
        return this.audienceMapper(change, what);
      case 'default-scope':
        return this.defaultScope(change, what);
      case 'optional-scope':
        return this.optionalScope(change, what);
      case 'resource-client':
        return this.resourceClient(change, what);
      case 'registration-policy':
        return this.policy(change, what);
      case 'client-profile':
      case 'client-policy':
        return this.clientPolicy(change, what);
      case 'test-user':
        return this.testUser(change, what);
    }
  }

  private async audienceMapper(change: AudienceMapperChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    const scopeId = this.scopeIds.get(change.scope);
    if (!scopeId) return 'replan';
    if (change.action === 'delete') {
      return deleted(await write(what, () => client.clientScopes.delProtocolMapper({ realm, id: scopeId, mapperId: change.id }), DELETE));
    }
    const audience = this.desired.scopes.find((s) => s.name === change.scope)?.audience;
    if (audience === undefined) throw new Error(`planned an audience mapper for "${change.scope}", which the desired state does not name`);
    const config = audienceMapperConfig(audience);
    if (change.action === 'create') {
      const mapper = { name: AUDIENCE_MAPPER_NAME, protocol: 'openid-connect', protocolMapper: AUDIENCE_MAPPER_TYPE, config: { ...config, 'id.token.claim': 'false' } };
      return created(await write(what, () => client.clientScopes.addProtocolMapper({ realm, id: scopeId }, mapper), CREATE));
    }
    const current = this.live.scopes.get(change.scope)?.mappers.find((m) => m.id === change.id);
    if (!current) return 'replan';
    const mapper = { ...current, config: { ...current.config, ...config } };
    return updated(await write(what, () => client.clientScopes.updateProtocolMapper({ realm, id: scopeId, mapperId: change.id }, mapper), UPDATE));
  }

  /**
   * Keycloak keeps one list per scope: a scope among the realm's optional default scopes cannot be made
   * a default one (409 "Duplicate resource") until it leaves that list. A 409 otherwise means another
   * writer added it already.
   */
  private async defaultScope(change: DefaultScopeChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    const id = this.scopeIds.get(change.scope);
    if (!id) return 'replan';
    const add = () => client.clientScopes.addDefaultClientScope({ realm, id });
    const written = await write(what, add, CREATE);
    if (written.ok || written.status !== 409) return created(written);
    // The admin client types this payload as `void & {realm?}`, which no object satisfies: hence the cast.
    const optional = await keycloakCall(
      () => client.clientScopes.listDefaultOptionalClientScopes({ realm } as never),
      undefined,
      "reading the realm's optional default client scopes",
    );
    if (!optional.some((scope) => scope.id === id)) return 'replan';
    await write(`removing client scope "${change.scope}" from the realm's optional default client scopes`, () => client.clientScopes.delDefaultOptionalClientScope({ realm, id }), DELETE);
    return created(await write(what, add, CREATE));
  }

  /** Creates ours; on a client that exists, only `resource_url` changes (everything else stays the user's). */
  private async resourceClient(change: ResourceClientChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    if (change.action === 'create') return created(await write(what, () => client.clients.create({ realm, ...resourceClientRepresentation(change.name) }), CREATE));
    const current = this.live.resourceClients.get(change.name);
    if (!current || current.id !== change.id) return 'replan';
    const update = { ...current, attributes: { ...current.attributes, [RESOURCE_URL_ATTRIBUTE]: change.name } };
    return updated(await write(what, () => client.clients.update({ realm, id: change.id }, update), UPDATE));
  }

  /**
   * Keycloak keeps a realm's client profiles (and policies) as one list, written whole: the list is read
   * afresh, ours is put in by name, the rest is written back as it was.
   */
  private async clientPolicy(change: ClientPolicyChange, what: string): Promise<Outcome> {
    const { session } = this;
    const { client } = session;
    const realm = this.realm;
    if (!this.desired.cimd) throw new Error(`planned ${what} without CIMD in the desired state`);
    const wanted = cimdObjects(this.desired.cimd);
    const path = `${encodeURIComponent(this.realm)}/client-policies/${change.kind === 'client-profile' ? 'profiles' : 'policies'}`;
    if (change.kind === 'client-profile') {
      const current = await session.read<{ profiles?: ClientProfile[] }>(path, what);
      if (!current) return 'replan';
      const profile = wanted.profiles.find((p) => p.name === change.name)!;
      const profiles = withObject(current.profiles ?? [], profile) as never;
      await keycloakCall(() => client.clientPolicies.createProfiles({ realm, profiles }), undefined, what);
    } else {
      const current = await session.read<{ policies?: ClientPolicy[] }>(path, what);
      if (!current) return 'replan';
      const policy = wanted.policies.find((p) => p.name === change.name)!;
      const policies = withObject(current.policies ?? [], policy) as never;
      await keycloakCall(() => client.clientPolicies.updatePolicy({ realm, policies }), undefined, what);
    }
    return 'done';
  }

  /** The mirror of defaultScope: a step-up scope found among the defaults leaves them first (409 otherwise). */
  private async optionalScope(change: OptionalScopeChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    const id = this.scopeIds.get(change.scope);
    if (!id) return 'replan';
    if (this.live.defaultScopes.has(change.scope)) {
      await write(`removing client scope "${change.scope}" from the realm's default client scopes`, () => client.clientScopes.delDefaultClientScope({ realm, id }), DELETE);
    }
    return created(await write(what, () => client.clientScopes.addDefaultOptionalClientScope({ realm, id }), CREATE));
  }

  private async policy(change: RegistrationPolicyChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    // Each field of a policy change is one config key with its complete new value list.
    const values = Object.fromEntries(change.fields.map((field) => [field.field, Array.isArray(field.to) ? field.to.map(String) : []]));
    if (change.action === 'create') {
      const parentId = this.live.id;
      if (!parentId) return 'replan';
      const config = change.providerId === PROVIDER.trustedHosts ? { ...DEFAULT_TRUSTED_HOSTS, ...values } : values;
      const component = { name: change.name, providerId: change.providerId, providerType: POLICY_TYPE, parentId, subType: 'anonymous', config };
      return created(await write(what, () => client.components.create({ realm, ...component }), CREATE));
    }
    // No id: a change planned for a policy that Keycloak was still to create with the realm.
    const id = change.id;
    if (!id) return 'replan';
    if (change.action === 'delete') return deleted(await write(what, () => client.components.del({ realm, id }), DELETE));
    const current = this.live.anonymousPolicies.find((p) => p.id === id);
    if (!current) return 'replan';
    return updated(await write(what, () => client.components.update({ realm, id }, { ...current, config: { ...current.config, ...values } }), UPDATE));
  }

  private async testUser(change: TestUserChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    const wanted = this.desired.testUser;
    if (!wanted) throw new Error('planned a test user change without a test user in the desired state');
    let id: string;
    if (change.action === 'create') {
      const profile = testUserProfile(wanted.username);
      const user = { realm, username: wanted.username, enabled: true, emailVerified: true, requiredActions: [], ...profile };
      const written = await write(what, () => client.users.create(user), CREATE);
      if (!written.ok) return 'replan';
      id = written.value.id;
    } else {
      id = change.id;
      const update: Record<string, unknown> = {};
      for (const field of change.fields) if (field.field !== 'password') update[field.field] = field.to;
      if (Object.keys(update).length) {
        const current = await keycloakCall(() => client.users.findOne({ realm, id }), undefined, what);
        if (!current) return 'replan';
        if (!(await write(what, () => client.users.update({ realm, id }, { ...current, ...update }), UPDATE)).ok) return 'replan';
      }
    }
    const password = wanted.password;
    if (password && change.fields.some((f) => f.field === 'password')) {
      const credential = { type: 'password', value: password, temporary: false };
      const written = await write(`setting the password of test user "${change.name}"`, () => client.users.resetPassword({ realm, id, credential }), UPDATE);
      if (!written.ok) return 'replan';
    }
    return 'done';
  }
}
