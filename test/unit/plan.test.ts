/** planRealm is a pure function of desired and live state: fixtures in, a plan out. One case per branch. */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { describeChange } from '../../src/realm/change.js';
import { audienceMapperDrift, isGoodAudienceMapper } from '../../src/realm/audience.js';
import { anonymousObjects, GRANT_EXECUTORS } from '../../src/realm/cimd.js';
import { desiredRealm } from '../../src/realm/desired.js';
import type { LiveRealm, LiveScope } from '../../src/realm/live.js';
import { planRealm, type Change } from '../../src/realm/plan.js';

const URL_ = 'http://localhost:8000/mcp';
const base = { realm: 'r1', resources: [{ url: URL_, scopes: ['mcp:run'] }] };
const config = configSchema.parse(base);
const withDcr = (dcr: Record<string, unknown>) => configSchema.parse({ ...base, dcr });

const audienceMapper = (id: string, name: string, audience = URL_, extra: Record<string, string> = {}) => ({
  id,
  name,
  protocol: 'openid-connect',
  protocolMapper: 'oidc-audience-mapper',
  config: {
    'included.custom.audience': audience,
    'access.token.claim': 'true',
    'introspection.token.claim': 'true',
    ...extra,
  },
});
const policy = (id: string, providerId: string, config: Record<string, string[]>, name = providerId) => ({
  id,
  name,
  providerId,
  subType: 'anonymous',
  config,
});

function converged(): LiveRealm {
  const scope: LiveScope = {
    id: 's1',
    name: 'mcp:run',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'gui.order': '' },
    mappers: [audienceMapper('m1', 'audience by hand')],
  };
  return {
    exists: true,
    id: 'realm-id',
    enabled: true,
    scopes: new Map([['mcp:run', scope]]),
    defaultScopes: new Set(['profile', 'mcp:run']),
    anonymousPolicies: [
      policy('p1', 'allowed-client-templates', { 'allowed-client-scopes': ['mcp:run'] }, 'Allowed Client Scopes'),
      policy('p2', 'max-clients', { 'max-clients': ['200'] }, 'Max Clients Limit'),
    ],
    optionalScopes: new Set(),
    resourceClients: new Map([[URL_, { id: 'c1', clientId: URL_, attributes: { resource_url: URL_ } }]]),
    // The anonymous-clients profile and policy apply makes on every realm with anonymous registration.
    clientProfiles: anonymousProfiles.profiles,
    clientPolicies: anonymousProfiles.policies,
  };
}
const anonymousProfiles = anonymousObjects({ grantExecutors: GRANT_EXECUTORS, dpop: false });

const scopeOf = (live: LiveRealm) => live.scopes.get('mcp:run') as LiveScope;
const plan = (live: LiveRealm, cfg = config, password?: string) =>
  planRealm(desiredRealm(cfg, password), live, 'http://kc');
const changesOf = (live: LiveRealm, cfg = config, password?: string): Change[] => plan(live, cfg, password).changes;
const oneLine = (c: Change) => `${c.action} ${c.kind}`;

describe('the realm', () => {
  it('finds nothing to do on a converged realm, adopting a hand-made audience mapper with the exact URL', () => {
    expect(changesOf(converged())).toEqual([]);
  });

  it('plans the whole recipe for a realm that does not exist yet, policies without ids', () => {
    const result = plan({
      exists: false,
      scopes: new Map(),
      defaultScopes: new Set(),
      anonymousPolicies: [],
      resourceClients: new Map(),
      optionalScopes: new Set<string>(),
    });
    expect(result.changes.map(oneLine)).toEqual([
      'create realm',
      'create client-scope',
      'create audience-mapper',
      'create default-scope',
      'create resource-client',
      'update registration-policy',
      'delete registration-policy',
      // PKCE and the code flow only for every anonymously created client (cimd.ts, anonymousObjects).
      'create client-profile',
      'create client-policy',
    ]);
    expect(result.changes.filter((c) => 'id' in c)).toEqual([]);
    expect(result.summary).toEqual({ create: 7, update: 1, delete: 1 });
    expect(result.formatVersion).toBe(1);
    // Keycloak 26.7.3 creates Allowed Registration Web Origins (empty) with every realm: updated, not created.
    const origins = plan(
      {
        exists: false,
        scopes: new Map(),
        defaultScopes: new Set(),
        anonymousPolicies: [],
        resourceClients: new Map(),
        optionalScopes: new Set<string>(),
      },
      withDcr({ mode: 'anonymous', webOrigins: ['http://localhost:6274'] }),
    );
    expect(origins.changes.filter((c) => c.kind === 'registration-policy').map((c) => `${c.action} ${c.name}`)).toEqual(
      ['update Allowed Client Scopes', 'delete Trusted Hosts', 'update Allowed Registration Web Origins'],
    );
    expect(result.realm).toBe('r1');
    expect(result.keycloakUrl).toBe('http://kc');
  });

  it('enables a disabled realm', () => {
    const live = { ...converged(), enabled: false };
    expect(changesOf(live)).toEqual([
      {
        action: 'update',
        kind: 'realm',
        name: 'r1',
        id: 'realm-id',
        fields: [{ field: 'enabled', from: false, to: true }],
      },
    ]);
  });
});

describe('client scopes', () => {
  it('creates a missing scope with its mapper and default-scope membership', () => {
    const live = converged();
    live.scopes.clear();
    live.defaultScopes.delete('mcp:run');
    expect(changesOf(live)).toEqual([
      {
        action: 'create',
        kind: 'client-scope',
        name: 'mcp:run',
        fields: [
          { field: 'protocol', from: null, to: 'openid-connect' },
          { field: 'include.in.token.scope', from: null, to: 'true' },
          { field: 'display.on.consent.screen', from: null, to: 'true' },
        ],
      },
      {
        action: 'create',
        kind: 'audience-mapper',
        name: 'mcp:run › mcp-audience',
        scope: 'mcp:run',
        fields: [
          { field: 'included.custom.audience', from: null, to: URL_ },
          { field: 'access.token.claim', from: null, to: 'true' },
          { field: 'introspection.token.claim', from: null, to: 'true' },
        ],
      },
      {
        action: 'create',
        kind: 'default-scope',
        name: 'mcp:run',
        scope: 'mcp:run',
        fields: [{ field: 'realm default client scopes', from: null, to: 'mcp:run' }],
      },
    ]);
  });

  it('names attribute drift, unset attributes as null', () => {
    const live = converged();
    scopeOf(live).attributes = { 'include.in.token.scope': 'false' };
    expect(changesOf(live)).toEqual([
      {
        action: 'update',
        kind: 'client-scope',
        name: 'mcp:run',
        id: 's1',
        fields: [
          { field: 'include.in.token.scope', from: 'false', to: 'true' },
          { field: 'display.on.consent.screen', from: null, to: 'true' },
        ],
      },
    ]);
  });

  it('names protocol drift', () => {
    const live = converged();
    scopeOf(live).protocol = 'saml';
    expect(changesOf(live)).toMatchObject([
      {
        action: 'update',
        kind: 'client-scope',
        id: 's1',
        fields: [{ field: 'protocol', from: 'saml', to: 'openid-connect' }],
      },
    ]);
  });

  it('adds a scope that is not a realm default scope', () => {
    const live = converged();
    live.defaultScopes.delete('mcp:run');
    expect(changesOf(live).map(oneLine)).toEqual(['create default-scope']);
  });

  it('plans each scope of each resource on its own; with two servers both scopes are optional (one token per server)', () => {
    const two = configSchema.parse({
      realm: 'r1',
      resources: [
        { url: URL_, scopes: ['mcp:run'] },
        { url: 'http://localhost:9000/mcp', scopes: ['b:read'] },
      ],
    });
    const changes = changesOf(converged(), two);
    expect(changes.map((c) => `${oneLine(c)} ${c.name}`)).toEqual([
      'update optional-scope mcp:run',
      'create client-scope b:read',
      'create audience-mapper b:read › mcp-audience',
      'create optional-scope b:read',
      'create resource-client http://localhost:9000/mcp',
      'update registration-policy Allowed Client Scopes',
    ]);
    expect(changes[0]!.fields).toEqual([
      {
        field: 'realm default client scopes',
        from: 'mcp:run',
        to: "(removed: the realm holds 2 MCP servers: each server's scope is optional, so a token names only the server its client asked for)",
      },
      { field: 'realm optional client scopes', from: null, to: 'mcp:run' },
    ]);
    expect(changes[2]!.fields[0]).toEqual({
      field: 'included.custom.audience',
      from: null,
      to: 'http://localhost:9000/mcp',
    });
    expect(changes[5]!.fields).toEqual([
      { field: 'allowed-client-scopes', from: ['mcp:run'], to: ['mcp:run', 'b:read'] },
    ]);
  });

  it("one server's config in a realm that holds another server's scope: both move to the optional scopes, once", () => {
    const live = converged();
    const other: LiveScope = {
      id: 's2',
      name: 'other:run',
      mappers: [audienceMapper('m2', 'mcp-audience', 'http://localhost:9000/mcp')],
    };
    live.scopes.set('other:run', other);
    live.defaultScopes.add('other:run');
    const changes = changesOf(live);
    expect(changes.map((c) => `${oneLine(c)} ${c.name}`)).toEqual([
      'update optional-scope mcp:run',
      'update optional-scope other:run',
    ]);
    expect(changes[1]).toMatchObject({ reason: "another MCP server's scope (aud http://localhost:9000/mcp)" });
    live.defaultScopes = new Set(['profile']);
    live.optionalScopes = new Set(['mcp:run', 'other:run']);
    expect(changesOf(live)).toEqual([]);
    // A hand-made audience mapper for another URL is not another server of ours; nor is a drifted one of ours.
    other.mappers = [audienceMapper('m2', 'by hand', 'http://localhost:9000/mcp')];
    live.defaultScopes = new Set(['profile', 'mcp:run', 'other:run']);
    live.optionalScopes = new Set();
    expect(changesOf(live)).toEqual([]);
  });
});

describe('step-up scopes (toolScopes): optional client scopes with the same audience', () => {
  const stepUp = configSchema.parse({
    ...base,
    resources: [
      { url: URL_, scopes: ['mcp:run'], toolScopes: { divide_numbers: ['mcp:admin'], add_numbers: ['mcp:admin'] } },
    ],
  });

  it('creates the scope once, with its audience mapper, among the optional (not default) scopes, and lets registration ask for it', () => {
    const changes = changesOf(converged(), stepUp);
    expect(changes.map((c) => `${oneLine(c)} ${c.name}`)).toEqual([
      'create client-scope mcp:admin',
      'create audience-mapper mcp:admin › mcp-audience',
      'create optional-scope mcp:admin',
      'update registration-policy Allowed Client Scopes',
    ]);
    expect(changes[1]!.fields[0]).toEqual({ field: 'included.custom.audience', from: null, to: URL_ });
  });

  it('moves it out of the default scopes, where every client would get it up front', () => {
    const live = converged();
    live.scopes.set('mcp:admin', { ...scopeOf(live), id: 's2', name: 'mcp:admin' });
    live.defaultScopes.add('mcp:admin');
    live.optionalScopes.add('mcp:admin');
    live.anonymousPolicies[0]!.config!['allowed-client-scopes'] = ['mcp:run', 'mcp:admin'];
    expect(changesOf(live, stepUp)).toEqual([
      {
        action: 'update',
        kind: 'optional-scope',
        name: 'mcp:admin',
        scope: 'mcp:admin',
        fields: [
          {
            field: 'realm default client scopes',
            from: 'mcp:admin',
            to: '(removed: a step-up scope is granted only to a client that asks for it)',
          },
          { field: 'realm optional client scopes', from: null, to: 'mcp:admin' },
        ],
      },
    ]);
    live.defaultScopes.delete('mcp:admin');
    expect(changesOf(live, stepUp)).toEqual([]);
  });
});

describe('resource clients (RFC 8707: clientId and resource_url = the MCP URL)', () => {
  it('creates one per MCP server that has none, naming what resource indicators compare', () => {
    const live = converged();
    live.resourceClients.clear();
    const [change] = changesOf(live);
    expect(change).toMatchObject({ action: 'create', kind: 'resource-client', name: URL_ });
    expect(change!.fields).toContainEqual({ field: 'resource_url', from: null, to: URL_ });
    expect(change!.fields).toContainEqual({ field: 'clientId', from: null, to: URL_ });
  });

  it("on a client that exists (the user's, say for introspection) changes only a wrong or missing resource_url", () => {
    const live = converged();
    live.resourceClients.set(URL_, { id: 'c9', clientId: URL_, attributes: { resource_url: `${URL_}/`, theirs: 'x' } });
    expect(changesOf(live)).toEqual([
      {
        action: 'update',
        kind: 'resource-client',
        name: URL_,
        id: 'c9',
        fields: [{ field: 'resource_url', from: `${URL_}/`, to: URL_ }],
      },
    ]);
    live.resourceClients.set(URL_, {
      id: 'c9',
      clientId: URL_,
      publicClient: true,
      attributes: { resource_url: URL_ },
    });
    expect(changesOf(live)).toEqual([]);
  });
});

describe('audience mappers', () => {
  it('creates ours when the scope has none', () => {
    const live = converged();
    scopeOf(live).mappers = [];
    expect(changesOf(live)).toMatchObject([
      { action: 'create', kind: 'audience-mapper', name: 'mcp:run › mcp-audience', scope: 'mcp:run' },
    ]);
  });

  it('does not adopt a hand-made mapper for another URL: creates ours and leaves that one alone', () => {
    const live = converged();
    scopeOf(live).mappers = [audienceMapper('m1', 'by hand', `${URL_}/`)];
    expect(changesOf(live).map(oneLine)).toEqual(['create audience-mapper']);
  });

  it('names config drift on ours: the trailing slash', () => {
    const live = converged();
    scopeOf(live).mappers = [audienceMapper('m1', 'mcp-audience', `${URL_}/`)];
    expect(changesOf(live)).toEqual([
      {
        action: 'update',
        kind: 'audience-mapper',
        name: 'mcp:run › mcp-audience',
        id: 'm1',
        scope: 'mcp:run',
        fields: [{ field: 'included.custom.audience', from: `${URL_}/`, to: URL_ }],
      },
    ]);
  });

  it('flags an audience mapper whose client audience would win over the custom one', () => {
    const live = converged();
    scopeOf(live).mappers[0]!.config!['included.client.audience'] = 'some-client';
    const [change] = changesOf(live);
    expect(change).toMatchObject({
      action: 'update',
      kind: 'audience-mapper',
      fields: [{ field: 'included.client.audience', from: 'some-client', to: null }],
    });
  });

  it('repairs secondary settings too: introspection off', () => {
    const live = converged();
    scopeOf(live).mappers = [audienceMapper('m1', 'mcp-audience', URL_, { 'introspection.token.claim': 'false' })];
    expect(changesOf(live)[0]!.fields).toEqual([{ field: 'introspection.token.claim', from: 'false', to: 'true' }]);
  });

  it('prefers ours by name over a hand-made one with the URL, and leaves the hand-made one alone', () => {
    const live = converged();
    scopeOf(live).mappers = [audienceMapper('a', 'by hand'), audienceMapper('b', 'mcp-audience', 'http://old/mcp')];
    expect(changesOf(live)).toMatchObject([
      {
        action: 'update',
        kind: 'audience-mapper',
        id: 'b',
        fields: [{ field: 'included.custom.audience', from: 'http://old/mcp', to: URL_ }],
      },
    ]);
  });

  it('the good-mapper rule: the URL in the access token, whatever introspection says', () => {
    expect(isGoodAudienceMapper(audienceMapper('m', 'x'), URL_)).toBe(true);
    expect(isGoodAudienceMapper(audienceMapper('m', 'x', URL_, { 'introspection.token.claim': 'false' }), URL_)).toBe(
      true,
    );
    expect(isGoodAudienceMapper(audienceMapper('m', 'x', `${URL_}/`), URL_)).toBe(false);
    expect(isGoodAudienceMapper(audienceMapper('m', 'x', URL_, { 'access.token.claim': 'false' }), URL_)).toBe(false);
    expect(isGoodAudienceMapper(audienceMapper('m', 'x', URL_, { 'included.client.audience': 'c' }), URL_)).toBe(false);
    expect(
      isGoodAudienceMapper({ ...audienceMapper('m', 'x'), protocolMapper: 'oidc-hardcoded-claim-mapper' }, URL_),
    ).toBe(false);
    expect(audienceMapperDrift(audienceMapper('m', 'x'), URL_)).toEqual([]);
  });
});

describe('registration policies', () => {
  it('anonymous mode deletes every Trusted Hosts policy, naming the hosts', () => {
    const live = converged();
    live.anonymousPolicies.push(
      policy('t1', 'trusted-hosts', { 'trusted-hosts': ['example.org'] }, 'Trusted Hosts'),
      policy('t2', 'trusted-hosts', {}, 'Trusted Hosts'),
    );
    expect(changesOf(live)).toEqual([
      {
        action: 'delete',
        kind: 'registration-policy',
        name: 'Trusted Hosts',
        id: 't1',
        providerId: 'trusted-hosts',
        fields: [{ field: 'trusted-hosts', from: ['example.org'], to: null }],
      },
      {
        action: 'delete',
        kind: 'registration-policy',
        name: 'Trusted Hosts',
        id: 't2',
        providerId: 'trusted-hosts',
        fields: [{ field: 'trusted-hosts', from: [], to: null }],
      },
    ]);
  });

  it('trusted-hosts mode creates the policy when none exists', () => {
    const [change] = changesOf(converged(), withDcr({ mode: 'trusted-hosts', trustedHosts: ['localhost'] }));
    expect(change).toEqual({
      action: 'create',
      kind: 'registration-policy',
      name: 'Trusted Hosts',
      providerId: 'trusted-hosts',
      fields: [{ field: 'trusted-hosts', from: null, to: ['localhost'] }],
    });
  });

  it('trusted-hosts mode compares hosts as a set: reordered is no change, different is an update', () => {
    const live = converged();
    live.anonymousPolicies.push(
      policy('t1', 'trusted-hosts', { 'trusted-hosts': ['127.0.0.1', 'localhost'] }, 'Trusted Hosts'),
    );
    expect(changesOf(live, withDcr({ mode: 'trusted-hosts', trustedHosts: ['localhost', '127.0.0.1'] }))).toEqual([]);
    expect(changesOf(live, withDcr({ mode: 'trusted-hosts', trustedHosts: ['localhost'] }))).toEqual([
      {
        action: 'update',
        kind: 'registration-policy',
        name: 'Trusted Hosts',
        id: 't1',
        providerId: 'trusted-hosts',
        fields: [{ field: 'trusted-hosts', from: ['127.0.0.1', 'localhost'], to: ['localhost'] }],
      },
    ]);
  });

  it('reads a lone string config value as a one-element list', () => {
    const live = converged();
    live.anonymousPolicies.push({
      id: 't1',
      name: 'Trusted Hosts',
      providerId: 'trusted-hosts',
      subType: 'anonymous',
      config: { 'trusted-hosts': 'localhost' as never },
    });
    expect(changesOf(live, withDcr({ mode: 'trusted-hosts', trustedHosts: ['localhost'] }))).toEqual([]);
  });

  it('never touches policies in dcr mode off, duplicates included', () => {
    const live = converged();
    live.anonymousPolicies = [
      policy('t', 'trusted-hosts', {}),
      policy('u', 'trusted-hosts', {}),
      policy('a', 'allowed-client-templates', { 'allow-default-scopes': ['false'] }),
    ];
    expect(changesOf(live, withDcr({ mode: 'off' }))).toEqual([]);
  });

  it('adds our scope to Allowed Client Scopes and keeps the scopes it allowed', () => {
    const live = converged();
    live.anonymousPolicies[0]!.config = { 'allowed-client-scopes': ['profile'] };
    expect(changesOf(live)[0]).toMatchObject({
      action: 'update',
      id: 'p1',
      providerId: 'allowed-client-templates',
      fields: [{ field: 'allowed-client-scopes', from: ['profile'], to: ['profile', 'mcp:run'] }],
    });
  });

  it('turns allow-default-scopes on when off, and leaves it alone when absent (absent means on)', () => {
    const live = converged();
    live.anonymousPolicies[0]!.config = { 'allowed-client-scopes': ['mcp:run'], 'allow-default-scopes': ['false'] };
    expect(changesOf(live)[0]!.fields).toEqual([{ field: 'allow-default-scopes', from: ['false'], to: ['true'] }]);
    live.anonymousPolicies[0]!.config = { 'allowed-client-scopes': ['mcp:run'] };
    expect(changesOf(live)).toEqual([]);
  });

  it('creates no Allowed Client Scopes policy where there is none (without one, Keycloak allows every scope)', () => {
    const live = converged();
    live.anonymousPolicies = [];
    expect(changesOf(live)).toEqual([]);
  });

  it('web origins: created when missing, updated as a set, untouched when not configured', () => {
    const origins = withDcr({ webOrigins: ['http://localhost:6274'] });
    expect(changesOf(converged(), origins)).toEqual([
      {
        action: 'create',
        kind: 'registration-policy',
        name: 'Allowed Registration Web Origins',
        providerId: 'registration-web-origins',
        fields: [{ field: 'web-origins', from: null, to: ['http://localhost:6274'] }],
      },
    ]);
    const live = converged();
    live.anonymousPolicies.push(policy('w1', 'registration-web-origins', { 'web-origins': ['http://elsewhere'] }));
    expect(changesOf(live, origins)).toMatchObject([
      {
        action: 'update',
        id: 'w1',
        fields: [{ field: 'web-origins', from: ['http://elsewhere'], to: ['http://localhost:6274'] }],
      },
    ]);
    expect(changesOf(live)).toEqual([]);
  });
});

describe('the test user', () => {
  const withUser = configSchema.parse({ ...base, testUser: { username: 'alice' } });
  const complete = {
    id: 'u1',
    username: 'alice',
    enabled: true,
    emailVerified: true,
    email: 'alice@example.com',
    firstName: 'alice',
    lastName: 'Test',
  };

  it('creates a missing user with a complete profile and the password', () => {
    expect(changesOf(converged(), withUser, 'pw')).toEqual([
      {
        action: 'create',
        kind: 'test-user',
        name: 'alice',
        fields: [
          { field: 'enabled', from: null, to: true },
          { field: 'emailVerified', from: null, to: true },
          { field: 'email', from: null, to: 'alice@example.com' },
          { field: 'firstName', from: null, to: 'alice' },
          { field: 'lastName', from: null, to: 'Test' },
          { field: 'password', from: null, to: '(set)' },
        ],
      },
    ]);
  });

  it('completes an existing user: enabled, verified, profile, no required actions', () => {
    const live = {
      ...converged(),
      testUser: { user: { id: 'u1', username: 'alice', enabled: false, requiredActions: ['UPDATE_PROFILE'] } },
    };
    expect(changesOf(live, withUser)).toEqual([
      {
        action: 'update',
        kind: 'test-user',
        name: 'alice',
        id: 'u1',
        fields: [
          { field: 'enabled', from: false, to: true },
          { field: 'emailVerified', from: false, to: true },
          { field: 'email', from: null, to: 'alice@example.com' },
          { field: 'firstName', from: null, to: 'alice' },
          { field: 'lastName', from: null, to: 'Test' },
          { field: 'requiredActions', from: ['UPDATE_PROFILE'], to: [] },
        ],
      },
    ]);
  });

  it('resets a password that does not work, and never shows it', () => {
    const live = { ...converged(), testUser: { user: complete, passwordWorks: false } };
    const changes = changesOf(live, withUser, 'secret-pw');
    expect(changes).toEqual([
      {
        action: 'update',
        kind: 'test-user',
        name: 'alice',
        id: 'u1',
        fields: [{ field: 'password', from: '(does not work)', to: '(set)' }],
      },
    ]);
    expect(JSON.stringify(changes)).not.toContain('secret-pw');
  });

  it('leaves a complete user with a working (or unchecked) password alone', () => {
    expect(changesOf({ ...converged(), testUser: { user: complete, passwordWorks: true } }, withUser, 'pw')).toEqual(
      [],
    );
    expect(changesOf({ ...converged(), testUser: { user: complete } }, withUser)).toEqual([]);
  });
});

describe('duplicates of what apply owns', () => {
  const th = withDcr({ mode: 'trusted-hosts', trustedHosts: ['new.example'] });

  it('two Trusted Hosts policies: the lowest id is kept and updated, the other deleted, whatever the read order', () => {
    for (const order of [0, 1]) {
      const live = converged();
      const copies = [
        policy('b-2', 'trusted-hosts', { 'trusted-hosts': ['old.example'] }, 'Trusted Hosts'),
        policy('a-1', 'trusted-hosts', { 'trusted-hosts': ['new.example'] }, 'Trusted Hosts'),
      ];
      live.anonymousPolicies.push(...(order ? copies.reverse() : copies));
      // The case the issue describes: one copy already right, so a plan that looked at the first only said "no changes".
      expect(changesOf(live, th)).toEqual([
        {
          action: 'delete',
          kind: 'registration-policy',
          name: 'Trusted Hosts',
          id: 'b-2',
          providerId: 'trusted-hosts',
          fields: [{ field: 'trusted-hosts', from: ['old.example'], to: null }],
          reason: 'duplicate of "Trusted Hosts" a-1, which apply keeps: Keycloak applies every copy',
        },
      ]);
    }
  });

  it('the kept Trusted Hosts copy is updated when it is the stale one', () => {
    const live = converged();
    live.anonymousPolicies.push(
      policy('a-1', 'trusted-hosts', { 'trusted-hosts': ['old.example'] }, 'Trusted Hosts'),
      policy('b-2', 'trusted-hosts', { 'trusted-hosts': ['old.example'] }, 'Trusted Hosts'),
    );
    const changes = changesOf(live, th);
    expect(changes.map((c) => `${oneLine(c)} ${'id' in c ? c.id : ''}`)).toEqual([
      'update registration-policy a-1',
      'delete registration-policy b-2',
    ]);
    expect(changes[0]!.fields).toEqual([{ field: 'trusted-hosts', from: ['old.example'], to: ['new.example'] }]);
  });

  it('two Allowed Client Scopes policies: the kept one allows what both allowed, plus ours', () => {
    const live = converged();
    live.anonymousPolicies = [
      policy(
        'a',
        'allowed-client-templates',
        { 'allowed-client-scopes': ['profile', 'email'] },
        'Allowed Client Scopes',
      ),
      policy(
        'b',
        'allowed-client-templates',
        { 'allowed-client-scopes': ['email', 'mcp:run'], 'allow-default-scopes': ['false'] },
        'Allowed Client Scopes',
      ),
    ];
    expect(changesOf(live)).toEqual([
      {
        action: 'update',
        kind: 'registration-policy',
        name: 'Allowed Client Scopes',
        id: 'a',
        providerId: 'allowed-client-templates',
        fields: [{ field: 'allowed-client-scopes', from: ['profile', 'email'], to: ['email', 'mcp:run'] }],
        reason: 'keeps only the scopes every copy allowed: Keycloak required them all',
      },
      {
        action: 'delete',
        kind: 'registration-policy',
        name: 'Allowed Client Scopes',
        id: 'b',
        providerId: 'allowed-client-templates',
        fields: [{ field: 'allowed-client-scopes', from: ['email', 'mcp:run'], to: null }],
        reason: 'duplicate of "Allowed Client Scopes" a, which apply keeps: Keycloak applies every copy',
      },
    ]);
  });

  it('two web-origins policies when origins are configured: one is deleted', () => {
    const live = converged();
    live.anonymousPolicies.push(
      policy('w1', 'registration-web-origins', { 'web-origins': ['http://localhost:6274'] }),
      policy('w2', 'registration-web-origins', { 'web-origins': ['http://localhost:6274'] }),
    );
    expect(changesOf(live, withDcr({ webOrigins: ['http://localhost:6274'] }))).toMatchObject([
      { action: 'delete', id: 'w2', reason: expect.stringMatching(/^duplicate of .* w1,/) },
    ]);
    expect(changesOf(live)).toEqual([]);
  });

  it('two mappers named like ours: the lowest id is kept and repaired, the other deleted; hand-made ones stay', () => {
    const live = converged();
    scopeOf(live).mappers = [
      audienceMapper('m-2', 'mcp-audience'),
      audienceMapper('h', 'by hand'),
      audienceMapper('m-1', 'mcp-audience', 'http://old/mcp'),
    ];
    expect(changesOf(live)).toEqual([
      {
        action: 'update',
        kind: 'audience-mapper',
        name: 'mcp:run › mcp-audience',
        id: 'm-1',
        scope: 'mcp:run',
        fields: [{ field: 'included.custom.audience', from: 'http://old/mcp', to: URL_ }],
      },
      {
        action: 'delete',
        kind: 'audience-mapper',
        name: 'mcp:run › mcp-audience',
        id: 'm-2',
        scope: 'mcp:run',
        fields: [{ field: 'included.custom.audience', from: URL_, to: null }],
        reason: 'duplicate of "mcp-audience" m-1, which apply keeps',
      },
    ]);
  });

  it('counts duplicate deletions in the summary', () => {
    const live = converged();
    live.enabled = false;
    live.defaultScopes.delete('mcp:run');
    scopeOf(live).mappers.push(audienceMapper('x1', 'mcp-audience'), audienceMapper('x2', 'mcp-audience'));
    live.anonymousPolicies.push(policy('t1', 'trusted-hosts', {}), policy('t2', 'trusted-hosts', {}));
    const result = plan(live, withDcr({ mode: 'trusted-hosts', trustedHosts: ['h'] }));
    expect(result.changes.map(oneLine)).toEqual([
      'update realm',
      'delete audience-mapper',
      'create default-scope',
      'update registration-policy',
      'delete registration-policy',
    ]);
    expect(result.summary).toEqual({ create: 1, update: 2, delete: 2 });
  });
});

describe('the words apply gives keycloakCall', () => {
  it('says what it was doing, for the error sentence to embed', () => {
    const words = changesOf({
      exists: false,
      scopes: new Map(),
      defaultScopes: new Set(),
      anonymousPolicies: [],
      resourceClients: new Map(),
      optionalScopes: new Set<string>(),
    }).map(describeChange);
    expect(words).toEqual([
      'creating realm "r1"',
      'creating client scope "mcp:run"',
      'creating audience mapper "mcp:run › mcp-audience"',
      `adding client scope "mcp:run" to the realm's default client scopes`,
      'creating resource client "http://localhost:8000/mcp"',
      'updating registration policy "Allowed Client Scopes"',
      'deleting registration policy "Trusted Hosts"',
      'creating client profile "mcp-keycloak-pkce"',
      'creating client policy "mcp-keycloak-pkce"',
    ]);
  });
});
