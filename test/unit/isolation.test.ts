/**
 * One token per server, pure (src/realm/isolation.ts and doctor's realm-isolation.ts): which servers a realm
 * holds, which default scopes leak a server into every token, and the verdict doctor gives. The real Keycloak
 * runs the same rules in test/integration/one-token-per-server.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { isolatedPlacement, oneTokenPerServerFinding } from '../../src/doctor/checks/realm-isolation.js';
import { desiredRealm } from '../../src/realm/desired.js';
import { leakingDefaultScopes, mcpServersOf, placeScopes } from '../../src/realm/isolation.js';
import type { LiveRealm, LiveScope } from '../../src/realm/live.js';

const A = 'http://127.0.0.1:8000/mcp';
const B = 'http://127.0.0.1:9000/mcp';
const ours = (name: string, audience: string, mapperName = 'mcp-audience'): LiveScope => ({
  id: `id-${name}`,
  name,
  mappers: [
    {
      name: mapperName,
      protocolMapper: 'oidc-audience-mapper',
      config: { 'included.custom.audience': audience, 'access.token.claim': 'true' },
    },
  ],
});

function live(scopes: LiveScope[], defaults: string[], optional: string[] = []): LiveRealm {
  return {
    exists: true,
    enabled: true,
    scopes: new Map(scopes.map((s) => [s.name, s])),
    defaultScopes: new Set(defaults),
    optionalScopes: new Set(optional),
    anonymousPolicies: [],
    resourceClients: new Map(),
  };
}

const onlyA = desiredRealm(configSchema.parse({ realm: 'r', resources: [{ url: A, scopes: ['mcp:run'] }] }));

describe('one token per server', () => {
  it('a realm with one server keeps its scope a default one, and passes', () => {
    const realm = live([ours('mcp:run', A)], ['mcp:run']);
    expect(mcpServersOf(onlyA, realm)).toEqual([A]);
    expect(placeScopes(onlyA, realm)).toEqual(onlyA.scopes);
    expect(oneTokenPerServerFinding(onlyA, realm)).toMatchObject({ status: 'pass' });
  });

  it("another server's scope (our mapper) makes the realm shared: both defaults leak, doctor fails naming them", () => {
    const realm = live([ours('mcp:run', A), ours('other:run', B)], ['mcp:run', 'other:run', 'profile']);
    expect(mcpServersOf(onlyA, realm)).toEqual([A, B]);
    expect(placeScopes(onlyA, realm)).toEqual([{ name: 'mcp:run', audience: A, isolated: true }]);
    expect(leakingDefaultScopes(onlyA, realm).map((l) => l.scope)).toEqual(['mcp:run', 'other:run']);
    expect(oneTokenPerServerFinding(onlyA, realm)).toMatchObject({
      status: 'fail',
      actual: `realm default scopes mcp:run (aud ${A}), other:run (aud ${B})`,
    });
    expect(isolatedPlacement('realm.default_scope', 'mcp:run', realm)).toMatchObject({ status: 'fail' });
  });

  it('both optional: passes; a hand-made audience mapper is not a server of ours', () => {
    const shared = live([ours('mcp:run', A), ours('other:run', B)], ['profile'], ['mcp:run', 'other:run']);
    expect(oneTokenPerServerFinding(onlyA, shared)).toMatchObject({
      status: 'pass',
      actual: `2 MCP servers (${A}, ${B}); none of their scopes is a realm default scope`,
    });
    expect(isolatedPlacement('realm.default_scope', 'mcp:run', shared)).toMatchObject({ status: 'pass' });
    const handMade = live([ours('mcp:run', A), ours('other:run', B, 'by hand')], ['mcp:run', 'other:run']);
    expect(mcpServersOf(onlyA, handMade)).toEqual([A]);
  });
});
