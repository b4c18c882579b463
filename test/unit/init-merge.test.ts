/**
 * init's config merge (src/init/config-merge.ts), without Keycloak: every key the docs describe that
 * init does not manage survives a re-run, admin.clientId included (the integration test cannot log in
 * as a service account of the shared master realm), and a CIMD section is written spelled out.
 */
import { describe, expect, it } from 'vitest';
import { CIMD_CLIENT_KEYS } from '../../src/config/schema.js';
import { droppedKeys } from '../../src/config/save.js';
import { cimdSection, mergeConfigFile } from '../../src/init/config-merge.js';
import type { InitAnswers } from '../../src/init/files.js';

const answers: InitAnswers = {
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp-demo',
  resource: 'http://localhost:8000/mcp',
  scopes: ['mcp:run'],
  dcr: 'anonymous',
  trustedHosts: [],
  adminUsername: 'admin',
};
const filled = {
  $schema: './mcp-keycloak.schema.json',
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp-demo',
  resources: [{ url: 'http://localhost:8000/mcp', scopes: ['mcp:run'] }],
  dcr: { mode: 'anonymous' },
  admin: { username: 'admin' },
};

describe('mergeConfigFile', () => {
  it("keeps the user's keys, in the user's order: toolScopes, more resources, server, admin, features", () => {
    const existing = {
      server: { host: '127.0.0.1', port: 8000 },
      realm: 'mcp-demo',
      resources: [
        { url: 'http://localhost:8000/mcp', scopes: ['mcp:run'], toolScopes: { divide_numbers: ['mcp:admin'] } },
        { url: 'https://files.example.com/mcp', scopes: ['files:read'] },
      ],
      dcr: { mode: 'anonymous', webOrigins: ['http://localhost:6274'] },
      keycloakFeatures: ['cimd'],
      admin: { username: 'admin', clientId: 'ops', realm: 'ops-realm' },
      futureKey: 1,
    };
    const merged = mergeConfigFile(existing, filled, answers);
    expect(merged).toEqual({ ...existing, $schema: filled.$schema, keycloakUrl: filled.keycloakUrl });
    expect(Object.keys(merged).slice(0, 3)).toEqual(['server', 'realm', 'resources']);
    expect(droppedKeys(existing, merged)).toEqual([]);
  });

  it('removes only what an answer removes, and droppedKeys names it', () => {
    const existing = {
      ...filled,
      dcr: { mode: 'trusted-hosts', trustedHosts: ['h.example'] },
      testUser: { username: 'bob' },
    };
    const merged = mergeConfigFile(existing, filled, answers);
    expect(merged.dcr).toEqual({ mode: 'anonymous' });
    expect(droppedKeys(existing, merged)).toEqual(['dcr.trustedHosts', 'testUser']);
  });

  it('writes the CIMD clients it sets up instead of an empty section; an explicit choice stays', () => {
    expect(cimdSection({})).toEqual({ clients: [...CIMD_CLIENT_KEYS] });
    expect(cimdSection({ enabled: true })).toEqual({ enabled: true, clients: [...CIMD_CLIENT_KEYS] });
    expect(cimdSection({ clients: ['vscode'], domains: ['x.example'] })).toEqual({
      clients: ['vscode'],
      domains: ['x.example'],
    });
    expect(cimdSection({ enabled: false })).toEqual({ enabled: false });
    expect(mergeConfigFile({}, filled, { ...answers, cimd: {} }).cimd).toEqual({ clients: [...CIMD_CLIENT_KEYS] });
  });
});
