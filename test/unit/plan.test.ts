/** planRealm is a pure function of desired and live state: fixtures in, a plan out. */
import { describe, expect, it } from 'vitest';
import { desiredRealm } from '../../src/realm/desired.js';
import type { LiveRealm, LiveScope } from '../../src/realm/live.js';
import { planRealm } from '../../src/realm/plan.js';
import { configSchema } from '../../src/config/schema.js';

const config = configSchema.parse({ realm: 'r1', resources: [{ url: 'http://localhost:8000/mcp', scopes: ['mcp:run'] }] });

function converged(): LiveRealm {
  const scope: LiveScope = {
    id: 's1',
    name: 'mcp:run',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'gui.order': '' },
    mappers: [
      {
        id: 'm1',
        name: 'audience by hand',
        protocolMapper: 'oidc-audience-mapper',
        config: { 'included.custom.audience': 'http://localhost:8000/mcp', 'access.token.claim': 'true', 'introspection.token.claim': 'true' },
      },
    ],
  };
  return {
    exists: true,
    id: 'realm-id',
    enabled: true,
    scopes: new Map([['mcp:run', scope]]),
    defaultScopes: new Set(['profile', 'mcp:run']),
    anonymousPolicies: [
      { id: 'p1', name: 'Allowed Client Scopes', providerId: 'allowed-client-templates', subType: 'anonymous', config: { 'allowed-client-scopes': ['mcp:run'] } },
      { id: 'p2', name: 'Max Clients Limit', providerId: 'max-clients', subType: 'anonymous', config: { 'max-clients': ['200'] } },
    ],
  };
}

describe('planRealm', () => {
  it('finds nothing to do on a converged realm, adopting a hand-made audience mapper with the exact URL', () => {
    expect(planRealm(desiredRealm(config), converged(), 'http://kc').changes).toEqual([]);
  });

  it('plans the whole recipe for a realm that does not exist yet', () => {
    const plan = planRealm(desiredRealm(config), { exists: false, scopes: new Map(), defaultScopes: new Set(), anonymousPolicies: [] }, 'http://kc');
    expect(plan.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create realm',
      'create client-scope',
      'create audience-mapper',
      'create default-scope',
      'update registration-policy',
      'delete registration-policy',
    ]);
    expect(plan.summary).toEqual({ create: 4, update: 1, delete: 1 });
    expect(plan.formatVersion).toBe(1);
  });

  it('never touches policies in dcr mode off', () => {
    const off = configSchema.parse({ ...config, dcr: { mode: 'off' } });
    const live = converged();
    live.anonymousPolicies = [{ id: 't', name: 'Trusted Hosts', providerId: 'trusted-hosts', subType: 'anonymous', config: {} }];
    expect(planRealm(desiredRealm(off), live, 'http://kc').changes).toEqual([]);
  });

  it('flags an audience mapper whose client audience would win over the custom one', () => {
    const live = converged();
    live.scopes.get('mcp:run')!.mappers[0]!.config!['included.client.audience'] = 'some-client';
    const [change] = planRealm(desiredRealm(config), live, 'http://kc').changes;
    expect(change).toMatchObject({ action: 'update', kind: 'audience-mapper', fields: [{ field: 'included.client.audience', from: 'some-client', to: null }] });
  });

  it('creates a Trusted Hosts policy in trusted-hosts mode when none exists', () => {
    const trusted = configSchema.parse({ ...config, dcr: { mode: 'trusted-hosts', trustedHosts: ['localhost'] } });
    const [change] = planRealm(desiredRealm(trusted), converged(), 'http://kc').changes;
    expect(change).toMatchObject({ action: 'create', kind: 'registration-policy', name: 'Trusted Hosts', fields: [{ field: 'trusted-hosts', to: ['localhost'] }] });
  });
});
