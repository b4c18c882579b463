/**
 * One token per server (src/realm/isolation.ts), against the real Keycloak and two reference servers in one
 * realm: A (`mcp:run`) and B (`other:run`). A realm apply made for A alone is migrated when B joins (plan shows
 * A's scope moving from the default to the optional scopes; a second apply writes nothing), and then a token a
 * client got for B is refused by A, whether the client registered without `scope` (Claude Code, Cursor), with the
 * 401's scope (the SDKs), or with other scopes, with `resource` (RFC 8707, on a Keycloak with resource
 * indicators) and without (what a Keycloak without them does). The old layout (both scopes realm defaults),
 * made back through the admin API, lets A accept B's token, and doctor fails it at realm.one_token_per_server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  discoverAuthorizationServerMetadata,
  registerClient,
  type AuthorizationServerMetadata,
  type OAuthClientMetadata,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REDIRECT_URI, vscodeClientMetadata } from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { codeFlowTokens } from '../support/oauth.js';

const realm = uniqueRealm('one-token');
const password = randomBytes(12).toString('base64url');
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
const resourceIndicators = inject('keycloakFeatures').includes('resource-indicators');
let urlA: string;
let urlB: string;
let configAB: string;
let issuer: string;
let metadata: AuthorizationServerMetadata;
const servers: RunningServer[] = [];

interface Finding {
  id: string;
  status: string;
  actual?: string;
  fixable?: boolean;
}

async function writeConfig(resources: object[]): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'mcp-keycloak-one-token-')), 'mcp-keycloak.json');
  await writeFile(
    file,
    JSON.stringify({ keycloakUrl: keycloak().url, realm, resources, testUser: { username: 'alice' } }),
  );
  return file;
}

beforeAll(async () => {
  urlA = `http://127.0.0.1:${await freePort()}/mcp`;
  urlB = `http://127.0.0.1:${await freePort()}/mcp`;
  const configA = await writeConfig([{ url: urlA, scopes: ['mcp:run'] }]);
  configAB = await writeConfig([
    { url: urlA, scopes: ['mcp:run'] },
    { url: urlB, scopes: ['other:run'] },
  ]);
  const first = await runCli(['--json', 'apply', '--yes', '--config', configA], { env });
  expect(first.code).toBe(0);
  issuer = `${keycloak().url}/realms/${realm}`;
  metadata = (await discoverAuthorizationServerMetadata(issuer))!;
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await deleteRealm(realm);
});

/** Both reference servers, started once B's scope exists (the reference server refuses a realm without it). */
async function startServers(): Promise<void> {
  if (servers.length > 0) return;
  for (const [url, scope] of [
    [urlA, 'mcp:run'],
    [urlB, 'other:run'],
  ] as const) {
    const port = Number(new URL(url).port);
    servers.push(
      await startReferenceServer({
        keycloakUrl: keycloak().url,
        realm,
        resource: url,
        scopes: [scope],
        host: '127.0.0.1',
        port,
      }),
    );
  }
}

/** The HTTP status an MCP server answers to tools/list with `token`: 200 accepted, 401 refused. */
async function statusAt(url: string, token: string): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  await response.body?.cancel();
  return response.status;
}

/** Registers as `registration` (VS Code's body otherwise), signs alice in for `scope`, returns the token and its aud. */
async function tokenFor(registration: Partial<OAuthClientMetadata>, scope: string | undefined, resource?: string) {
  const { scope: _none, ...body } = { ...vscodeClientMetadata(), ...registration };
  const client = await registerClient(issuer, {
    metadata,
    clientMetadata: { ...body, ...(registration.scope ? { scope: registration.scope } : {}) },
  });
  const tokens = await codeFlowTokens({
    issuer,
    metadata,
    client,
    redirectUri: REDIRECT_URI,
    username: 'alice',
    password,
    ...(scope ? { scope } : {}),
    ...(resource ? { resource } : {}),
  });
  const aud = decodeJwt(tokens.access_token).aud;
  return { token: tokens.access_token, aud: (Array.isArray(aud) ? aud : aud ? [aud] : []).sort() };
}

describe('a realm apply made for server A, when server B joins', () => {
  it("plans A's scope out of the default scopes into the optional ones, applies, and a second apply writes nothing", async () => {
    const planned = await runCli(['--json', 'plan', '--config', configAB], { env });
    const changes = (
      JSON.parse(planned.stdout) as {
        changes: { action: string; kind: string; name: string; fields: { to: unknown }[] }[];
      }
    ).changes;
    expect(
      changes
        .filter((c) => c.kind === 'optional-scope' || c.kind === 'default-scope')
        .map((c) => `${c.action} ${c.kind} ${c.name}`),
    ).toEqual(['update optional-scope mcp:run', 'create optional-scope other:run']);
    expect(String(changes.find((c) => c.name === 'mcp:run' && c.kind === 'optional-scope')!.fields[0]!.to)).toMatch(
      /realm holds 2 MCP servers/,
    );
    const applied = await runCli(['--json', 'apply', '--yes', '--config', configAB], { env });
    expect(applied.code).toBe(0);
    const again = await runCli(['--json', 'apply', '--yes', '--config', configAB], { env });
    const result = JSON.parse(again.stdout) as { applied: unknown[]; requests: { writes: number } };
    expect(result.applied).toEqual([]);
    expect(result.requests.writes).toBe(0);
    const admin = await adminClient();
    const defaults = (await admin.clientScopes.listDefaultClientScopes({ realm } as never)).map((s) => s.name);
    const optional = (await admin.clientScopes.listDefaultOptionalClientScopes({ realm } as never)).map((s) => s.name);
    expect(defaults).not.toContain('mcp:run');
    expect(defaults).not.toContain('other:run');
    expect(optional).toEqual(expect.arrayContaining(['mcp:run', 'other:run']));
  });
});

describe.each([
  ['without resource', undefined],
  ...(resourceIndicators ? [['with resource = B (RFC 8707)', 'B'] as const] : []),
] as const)('a token for B, %s', (_label, resourceParam) => {
  const resource = () => (resourceParam ? urlB : undefined);
  beforeAll(startServers);

  it('from a client registered without scope (Claude Code, Cursor) that asks for the 401\u2019s scope: B accepts, A refuses', async () => {
    const { token, aud } = await tokenFor({}, 'other:run', resource());
    expect(aud).toEqual([urlB]);
    expect(await statusAt(urlB, token)).toBe(200);
    expect(await statusAt(urlA, token)).toBe(401);
  });

  it("from a client registered with the 401's scope (the SDKs): B accepts, A refuses", async () => {
    const { token, aud } = await tokenFor(
      { scope: 'other:run offline_access' },
      'other:run offline_access',
      resource(),
    );
    expect(aud).toEqual([urlB]);
    expect(await statusAt(urlB, token)).toBe(200);
    expect(await statusAt(urlA, token)).toBe(401);
  });
});

describe('clients that ask for no server', () => {
  beforeAll(startServers);
  it('a client registered with other scopes, or without scope asking for none, gets a token no server accepts', async () => {
    const other = await tokenFor({ scope: 'profile' }, 'profile');
    const none = await tokenFor({}, undefined);
    for (const { token, aud } of [other, none]) {
      expect(aud.filter((a) => a === urlA || a === urlB)).toEqual([]);
      expect(await statusAt(urlA, token)).toBe(401);
      expect(await statusAt(urlB, token)).toBe(401);
    }
  });
});

describe('the old layout (both scopes realm defaults)', () => {
  beforeAll(startServers);
  it("lets A accept B's token; doctor fails realm.one_token_per_server (fixable) and passes after apply", async () => {
    const admin = await adminClient();
    for (const name of ['mcp:run', 'other:run']) {
      const scope = await admin.clientScopes.findOneByName({ realm, name });
      await admin.clientScopes.delDefaultOptionalClientScope({ realm, id: scope!.id! });
      await admin.clientScopes.addDefaultClientScope({ realm, id: scope!.id! });
    }
    const { token, aud } = await tokenFor({}, 'other:run');
    expect(aud).toEqual([urlA, urlB].sort());
    expect(await statusAt(urlA, token)).toBe(200);

    const doctor = async () =>
      (JSON.parse((await runCli(['--json', 'doctor', '--config', configAB], { env })).stdout) as { checks: Finding[] })
        .checks;
    const before = (await doctor()).find((c) => c.id === 'realm.one_token_per_server')!;
    expect(before).toMatchObject({ status: 'fail', fixable: true });
    expect(before.actual).toBe(`realm default scopes mcp:run (aud ${urlA}), other:run (aud ${urlB})`);

    expect((await runCli(['--json', 'apply', '--yes', '--config', configAB], { env })).code).toBe(0);
    const after = await doctor();
    expect(after.find((c) => c.id === 'realm.one_token_per_server')).toMatchObject({
      status: 'pass',
      actual: `2 MCP servers (${[urlA, urlB].sort().join(', ')}); none of their scopes is a realm default scope`,
    });
    expect(after.find((c) => c.id === 'realm.default_scope')).toMatchObject({ status: 'pass' });
    const fresh = await tokenFor({}, 'other:run');
    expect(await statusAt(urlA, fresh.token)).toBe(401);
  });
});
