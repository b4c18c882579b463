/** The pure rules behind `clients prune` and `destroy`: which clients are DCR's, when one is unused, what destroy reverts. */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { isDcrClient, judge } from '../../src/maintenance/dcr-clients.js';
import { planDestroy } from '../../src/realm/destroy-plan.js';
import { DEFAULT_TRUSTED_HOSTS } from '../../src/realm/desired.js';
import type { LiveRealm } from '../../src/realm/live.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 23);
const uuid = '3f1c2b9a-8d4e-4c1b-9a7f-0e2d5b6c7a81';

describe('isDcrClient', () => {
  it('recognises the generated UUID that is both clientId and id', () => {
    expect(isDcrClient({ id: uuid, clientId: uuid, protocol: 'openid-connect', attributes: {} })).toBe(true);
  });
  it('never takes admin-made clients, realm clients or other protocols', () => {
    expect(isDcrClient({ id: 'a1b2', clientId: 'my-app', protocol: 'openid-connect' })).toBe(false);
    expect(isDcrClient({ id: 'other-id', clientId: uuid, protocol: 'openid-connect' })).toBe(false);
    expect(isDcrClient({ id: uuid, clientId: uuid, protocol: 'saml' })).toBe(false);
    expect(
      isDcrClient({ id: uuid, clientId: uuid, protocol: 'openid-connect', attributes: { realm_client: 'true' } }),
    ).toBe(false);
  });
});

describe('judge', () => {
  const base = { id: uuid, clientId: uuid, sessions: 0 };
  it('keeps a client with a session, whatever the window', () => {
    expect(judge({ ...base, sessions: 2 }, 0, now, false)).toMatchObject({
      prune: false,
      reason: '2 active session(s)',
    });
  });
  it('keeps a client used inside the window', () => {
    expect(judge({ ...base, lastUsed: now - 3 * DAY, lastUsedFrom: 'event' }, 30, now, true).prune).toBe(false);
  });
  it('marks, but keeps, a client never seen before', () => {
    expect(judge(base, 30, now, false)).toMatchObject({
      prune: false,
      reason: expect.stringContaining('not seen by prune before'),
    });
  });
  it('keeps a client first seen less than the window ago', () => {
    expect(judge({ ...base, firstSeen: now - 10 * DAY }, 30, now, false).prune).toBe(false);
  });
  it('prunes a client known for longer than the window without use', () => {
    expect(judge({ ...base, firstSeen: now - 31 * DAY }, 30, now, false)).toMatchObject({
      prune: true,
      reason: expect.stringContaining('saves no events'),
    });
    expect(judge({ ...base, lastUsed: now - 40 * DAY, lastUsedFrom: 'event' }, 30, now, true)).toMatchObject({
      prune: true,
      reason: 'no session, no event in 30 day(s)',
    });
  });
  it('with --days 0 prunes every DCR client without a session', () => {
    expect(judge(base, 0, now, false).prune).toBe(true);
  });
});

describe('planDestroy', () => {
  const config = configSchema.parse({ realm: 'demo', testUser: { username: 'alice' } });
  const live: LiveRealm = {
    exists: true,
    id: 'realm-id',
    enabled: true,
    scopes: new Map([['mcp:run', { id: 'scope-id', name: 'mcp:run', mappers: [] }]]),
    defaultScopes: new Set(['mcp:run']),
    anonymousPolicies: [
      {
        id: 'p1',
        name: 'Allowed Client Scopes',
        providerId: 'allowed-client-templates',
        config: { 'allowed-client-scopes': ['mcp:run', 'theirs'] },
      },
    ],
    testUser: { user: { id: 'user-id', username: 'alice' } },
    resourceClients: new Map(),
    optionalScopes: new Set(),
  };

  it('removes our scope and user, keeps other allowed scopes, and restores Trusted Hosts as a new realm has it', () => {
    const plan = planDestroy(config, live, false);
    expect(plan.map((r) => `${r.action} ${r.kind} ${r.name}`)).toEqual([
      'delete test-user alice',
      'delete client-scope mcp:run',
      'update registration-policy Allowed Client Scopes',
      'create registration-policy Trusted Hosts',
    ]);
    expect(plan[2]!.config!['allowed-client-scopes']).toEqual(['theirs']);
    expect(plan[3]!.config).toEqual(DEFAULT_TRUSTED_HOSTS);
  });

  it('is one deletion with --whole-realm, and nothing for a missing realm', () => {
    expect(planDestroy(config, live, true).map((r) => r.kind)).toEqual(['realm']);
    expect(planDestroy(config, { ...live, exists: false }, true)).toEqual([]);
  });

  it('leaves registration policies alone with dcr mode off', () => {
    const off = configSchema.parse({ realm: 'demo', dcr: { mode: 'off' } });
    expect(planDestroy(off, live, false).map((r) => r.kind)).toEqual(['client-scope']);
  });

  it('takes our profile names out of a policy of the user’s before deleting our profiles, and keeps that policy', () => {
    const off = configSchema.parse({ realm: 'demo', dcr: { mode: 'off' } });
    const policy = (name: string, profiles: string[]) => ({ name, enabled: true, conditions: [], profiles });
    const withCimd: LiveRealm = {
      ...live,
      clientProfiles: [
        { name: 'mcp-keycloak-cimd', executors: [] },
        { name: 'mcp-keycloak-pkce', executors: [] },
        { name: 'their-profile', executors: [] },
      ],
      clientPolicies: [
        policy('mcp-keycloak-pkce', ['mcp-keycloak-pkce']),
        policy('reuses-ours', ['mcp-keycloak-pkce']),
        policy('mixed', ['their-profile', 'mcp-keycloak-cimd']),
        policy('unrelated', ['their-profile']),
      ],
    };
    const plan = planDestroy(off, withCimd, false).filter((r) => r.kind.startsWith('client-p'));
    expect(plan.map((r) => `${r.action} ${r.kind} ${r.name}`)).toEqual([
      'delete client-policy mcp-keycloak-pkce',
      'update client-policy reuses-ours',
      'update client-policy mixed',
      'delete client-profile mcp-keycloak-cimd',
      'delete client-profile mcp-keycloak-pkce',
    ]);
    expect(plan[1]!.detail).toMatch(
      /without mcp-keycloak-pkce, which destroy removes \(the policy stays, with no profile left\)/,
    );
    expect(plan[2]!.detail).toMatch(/without mcp-keycloak-cimd, which destroy removes \(the policy stays\)$/);
  });
});
