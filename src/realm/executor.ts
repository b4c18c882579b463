/**
 * One write per planned change: the admin REST call that makes it, and what its answer means when another
 * writer got there first (a create that meets 409 or 404, an update that meets 404: read the realm again;
 * a delete that meets 404: done already). apply.ts runs the passes; this file only writes.
 */
import { KeycloakError } from '../errors.js';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import { AUDIENCE_MAPPER_TYPE } from './audience.js';
import { clientPolicyObjects, withObject, type ClientPolicy, type ClientProfile } from './cimd.js';
import {
  describeChange,
  type AudienceMapperChange,
  type Change,
  type ClientPolicyChange,
  type DefaultScopeChange,
  type OptionalScopeChange,
  type RegistrationPolicyChange,
  type ResourceClientChange,
  type TestUserChange,
} from './change.js';
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
import type { LiveRealm } from './live.js';
import { testUserProfile } from './plan.js';
import { writeMachineClient } from './machine-write.js';
import type { Outcome, Written } from './outcome.js';

export type { Outcome, Written } from './outcome.js';

/** Runs one write; a status in `expected` (a conflict with another writer) is returned, not thrown. */
async function write<T>(what: string, call: () => Promise<T>, expected: number[]): Promise<Written<T>> {
  try {
    return { ok: true, value: await keycloakCall(call, undefined, what) };
  } catch (error) {
    if (error instanceof KeycloakError && error.status !== undefined && expected.includes(error.status))
      return { ok: false, status: error.status };
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

/** Writes the changes of one pass against the realm as it was read (`live`). */
export class Executor {
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
        if (change.action === 'create')
          return created(await write(what, () => client.realms.create({ realm, enabled: true }), [409]));
        return updated(await write(what, () => client.realms.update({ realm }, { enabled: true }), UPDATE));
      case 'client-scope': {
        if (change.action === 'create') {
          const representation = {
            name: change.name,
            protocol: 'openid-connect',
            attributes: { ...SCOPE_ATTRIBUTES, 'consent.screen.text': `Use the MCP server's tools (${change.name})` },
          };
          const written = await write(what, () => client.clientScopes.create({ realm, ...representation }), CREATE);
          if (written.ok) this.scopeIds.set(change.name, written.value.id);
          return created(written);
        }
        const current = this.live.scopes.get(change.name);
        if (!current || current.id !== change.id) return 'replan';
        const { mappers: _mappers, ...representation } = current;
        const update = {
          ...representation,
          protocol: 'openid-connect',
          attributes: { ...current.attributes, ...SCOPE_ATTRIBUTES },
        };
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
      case 'machine-client':
        return writeMachineClient(this.session, this.desired, this.live, change, (call, statuses) =>
          write(what, call, statuses),
        );
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
      return deleted(
        await write(
          what,
          () => client.clientScopes.delProtocolMapper({ realm, id: scopeId, mapperId: change.id }),
          DELETE,
        ),
      );
    }
    const audience = this.desired.scopes.find((s) => s.name === change.scope)?.audience;
    if (audience === undefined)
      throw new Error(`planned an audience mapper for "${change.scope}", which the desired state does not name`);
    const config = audienceMapperConfig(audience);
    if (change.action === 'create') {
      const mapper = {
        name: AUDIENCE_MAPPER_NAME,
        protocol: 'openid-connect',
        protocolMapper: AUDIENCE_MAPPER_TYPE,
        config: { ...config, 'id.token.claim': 'false' },
      };
      return created(
        await write(what, () => client.clientScopes.addProtocolMapper({ realm, id: scopeId }, mapper), CREATE),
      );
    }
    const current = this.live.scopes.get(change.scope)?.mappers.find((m) => m.id === change.id);
    if (!current) return 'replan';
    const mapper = { ...current, config: { ...current.config, ...config } };
    return updated(
      await write(
        what,
        () => client.clientScopes.updateProtocolMapper({ realm, id: scopeId, mapperId: change.id }, mapper),
        UPDATE,
      ),
    );
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
    await write(
      `removing client scope "${change.scope}" from the realm's optional default client scopes`,
      () => client.clientScopes.delDefaultOptionalClientScope({ realm, id }),
      DELETE,
    );
    return created(await write(what, add, CREATE));
  }

  /** Creates ours; on a client that exists, only `resource_url` changes (everything else stays the user's). */
  private async resourceClient(change: ResourceClientChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    if (change.action === 'create')
      return created(
        await write(what, () => client.clients.create({ realm, ...resourceClientRepresentation(change.name) }), CREATE),
      );
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
    const wanted = clientPolicyObjects(this.desired.cimd, this.desired.anonymous);
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
      await write(
        `removing client scope "${change.scope}" from the realm's default client scopes`,
        () => client.clientScopes.delDefaultClientScope({ realm, id }),
        DELETE,
      );
    }
    return created(await write(what, () => client.clientScopes.addDefaultOptionalClientScope({ realm, id }), CREATE));
  }

  private async policy(change: RegistrationPolicyChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    // Each field of a policy change is one config key with its complete new value list.
    const values = Object.fromEntries(
      change.fields.map((field) => [field.field, Array.isArray(field.to) ? field.to.map(String) : []]),
    );
    if (change.action === 'create') {
      const parentId = this.live.id;
      if (!parentId) return 'replan';
      const config = change.providerId === PROVIDER.trustedHosts ? { ...DEFAULT_TRUSTED_HOSTS, ...values } : values;
      const component = {
        name: change.name,
        providerId: change.providerId,
        providerType: POLICY_TYPE,
        parentId,
        subType: 'anonymous',
        config,
      };
      return created(await write(what, () => client.components.create({ realm, ...component }), CREATE));
    }
    // No id: a change planned for a policy that Keycloak was still to create with the realm.
    const id = change.id;
    if (!id) return 'replan';
    if (change.action === 'delete')
      return deleted(await write(what, () => client.components.del({ realm, id }), DELETE));
    const current = this.live.anonymousPolicies.find((p) => p.id === id);
    if (!current) return 'replan';
    return updated(
      await write(
        what,
        () => client.components.update({ realm, id }, { ...current, config: { ...current.config, ...values } }),
        UPDATE,
      ),
    );
  }

  private async testUser(change: TestUserChange, what: string): Promise<Outcome> {
    const { client } = this.session;
    const realm = this.realm;
    const wanted = this.desired.testUser;
    if (!wanted) throw new Error('planned a test user change without a test user in the desired state');
    let id: string;
    if (change.action === 'create') {
      const profile = testUserProfile(wanted.username);
      const user = {
        realm,
        username: wanted.username,
        enabled: true,
        emailVerified: true,
        requiredActions: [],
        ...profile,
      };
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
        if (!(await write(what, () => client.users.update({ realm, id }, { ...current, ...update }), UPDATE)).ok)
          return 'replan';
      }
    }
    const password = wanted.password;
    if (password && change.fields.some((f) => f.field === 'password')) {
      const credential = { type: 'password', value: password, temporary: false };
      const written = await write(
        `setting the password of test user "${change.name}"`,
        () => client.users.resetPassword({ realm, id, credential }),
        UPDATE,
      );
      if (!written.ok) return 'replan';
    }
    return 'done';
  }
}
