/**
 * Step-up authorization with real Keycloak tokens and the official SDK client: with
 * `toolScopes: {divide_numbers: ["mcp:admin"]}`, a token with only mcp:run lists every tool and calls
 * add_numbers, but divide_numbers gets 403 insufficient_scope naming every scope the call needs (single
 * and batched calls alike); a token with `mcp:run mcp:admin` calls it. The realm's `mcp:admin` is an
 * optional client scope with the resource's Audience mapper (created here unless apply made it).
 */
import { Client, InsufficientScopeError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { DEFAULT_MAX_REQUEST_BODY_SIZE } from '@modelcontextprotocol/server';
import { decodeJwt } from 'jose';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, TOOL_NAMES, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, startServe, uniqueRealm } from '../support/keycloak.js';
import { parseChallenge } from '../support/mcp-http.js';
import { applyRealm, createPasswordClient, TEST_USER, TEST_USER_PASSWORD, type TestClient } from '../support/tokens.js';

const realm = uniqueRealm('serve-step-up');
const ADMIN_SCOPE = 'mcp:admin';
let port: number;
let resource: string;
let server: RunningServer;
let serverClosed = false;
let client: TestClient;
let runToken: string;
let adminToken: string;
const logs: string[] = [];

/** The realm's optional client scope `mcp:admin`, carrying the resource URL in `aud` like mcp:run. */
async function ensureAdminScope(): Promise<void> {
  const admin = await adminClient();
  let scope = await admin.clientScopes.findOneByName({ realm, name: ADMIN_SCOPE });
  if (!scope) {
    await admin.clientScopes.create({
      realm,
      name: ADMIN_SCOPE,
      protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true' },
    });
    scope = await admin.clientScopes.findOneByName({ realm, name: ADMIN_SCOPE });
    await admin.clientScopes.addProtocolMapper(
      { realm, id: scope!.id! },
      {
        name: 'mcp-admin-audience',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        config: {
          'included.custom.audience': resource,
          'access.token.claim': 'true',
          'introspection.token.claim': 'true',
        },
      },
    );
  }
  const [own] = await admin.clients.find({ realm, clientId: client.clientId });
  await admin.clients.addOptionalClientScope({ realm, id: own!.id!, clientScopeId: scope!.id! });
}

/** A password-grant token for the test user that asks for `scope` (the client's default scopes come anyway). */
async function tokenWith(scope?: string): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'password',
    client_id: client.clientId,
    client_secret: client.secret,
    username: TEST_USER,
    password: TEST_USER_PASSWORD,
  });
  if (scope) body.set('scope', scope);
  const response = await fetch(`${keycloak().url}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body,
  });
  const answer = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!answer.access_token) throw new Error(`token request failed: ${answer.error}: ${answer.error_description}`);
  return answer.access_token;
}

async function connect(token: string): Promise<Client> {
  // The 2026-07-28 protocol (per-request `_meta` envelope); the raw posts below are 2025-style.
  const mcp = new Client(
    { name: 'serve-step-up', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(resource), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return mcp;
}

function post(token: string, body: unknown): Promise<Response> {
  return fetch(resource, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify(body),
  });
}

const call = (name: string, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: { a: 6, b: 3 } },
});

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource);
  client = await createPasswordClient(realm, 'step-up-password');
  await ensureAdminScope();
  server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    toolScopes: { divide_numbers: [ADMIN_SCOPE] },
    host: '127.0.0.1',
    port,
    log: (line) => logs.push(line),
  });
  runToken = await tokenWith();
  adminToken = await tokenWith(ADMIN_SCOPE);
});

afterAll(async () => {
  if (!serverClosed) await server?.close();
  await deleteRealm(realm);
});

describe('step-up authorization per tool', () => {
  it('gets tokens from Keycloak with and without the optional scope, both for this resource', () => {
    expect(String(decodeJwt(runToken).scope).split(' ')).not.toContain(ADMIN_SCOPE);
    const scopes = String(decodeJwt(adminToken).scope).split(' ');
    expect(scopes).toEqual(expect.arrayContaining(['mcp:run', ADMIN_SCOPE]));
    expect(decodeJwt(adminToken).aud).toContain(resource);
  });

  it('lets a token with only mcp:run list every tool and call add_numbers, and refuses divide_numbers with 403', async () => {
    const mcp = await connect(runToken);
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    expect((await mcp.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } })).structuredContent).toEqual({
      result: 5,
    });
    // The SDK client reads the challenge itself: the scope it would re-authorize with (raw checks below).
    const refused = await mcp.callTool({ name: 'divide_numbers', arguments: { a: 6, b: 3 } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await mcp.close();
    expect(refused).toBeInstanceOf(InsufficientScopeError);
    const description = `tool divide_numbers needs the scope ${ADMIN_SCOPE}`;
    expect(refused).toMatchObject({ requiredScope: `mcp:run ${ADMIN_SCOPE}`, errorDescription: description });
    expect(String((refused as InsufficientScopeError).resourceMetadataUrl)).toBe(server.metadataUrl);

    const response = await post(runToken, call('divide_numbers'));
    expect(response.status).toBe(403);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const header = response.headers.get('www-authenticate');
    expect(header).toBe(
      `Bearer resource_metadata="${server.metadataUrl}", scope="mcp:run ${ADMIN_SCOPE}", error="insufficient_scope", error_description="${description}"`,
    );
    expect(parseChallenge(header)).toEqual({
      scheme: 'Bearer',
      params: {
        resource_metadata: server.metadataUrl,
        scope: `mcp:run ${ADMIN_SCOPE}`,
        error: 'insufficient_scope',
        error_description: description,
      },
    });
    expect(await response.json()).toEqual({ error: 'insufficient_scope', error_description: description });
    expect(logs).toContainEqual(
      expect.stringMatching(
        new RegExp(`^POST /mcp 403 [\\d.]+ms sub=\\S+ azp=step-up-password reason="${description}"$`),
      ),
    );
  });

  it('refuses a batch that hides the call among allowed ones, and lets other methods and junk through to the SDK', async () => {
    const batch = await post(runToken, [call('add_numbers', 1), call('divide_numbers', 2)]);
    expect(batch.status).toBe(403);
    expect(parseChallenge(batch.headers.get('www-authenticate')).params.scope).toBe(`mcp:run ${ADMIN_SCOPE}`);
    const allowed = await post(runToken, call('add_numbers'));
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('"result":9');
    expect((await post(runToken, { jsonrpc: '2.0', id: 3, method: 'tools/list' })).status).toBe(200);
    const junk = await fetch(resource, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${runToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{"jsonrpc": "2.0", "method": "tools/call", ',
    });
    expect(junk.status).toBe(400);
    expect(await junk.text()).toMatch(/Parse error/i);
    // Over the SDK's body limit: the SDK's own 413, whether announced by Content-Length or not.
    const huge = JSON.stringify({ ...call('add_numbers'), pad: 'x'.repeat(DEFAULT_MAX_REQUEST_BODY_SIZE) });
    const announced = await post(runToken, JSON.parse(huge));
    expect(announced.status).toBe(413);
    expect(await announced.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 }, id: null });
    const streamed = await fetch(resource, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${runToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: new Blob([huge]).stream(),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
  });

  it('lets a token with mcp:run mcp:admin call divide_numbers', async () => {
    const mcp = await connect(adminToken);
    expect((await mcp.callTool({ name: 'divide_numbers', arguments: { a: 7, b: 2 } })).structuredContent).toEqual({
      result: 3.5,
    });
    expect((await mcp.callTool({ name: 'add_numbers', arguments: { a: 7, b: 2 } })).structuredContent).toEqual({
      result: 9,
    });
    await mcp.close();
    expect((await post(adminToken, [call('add_numbers', 1), call('divide_numbers', 2)])).status).toBe(200);
  });

  it('keeps the 401 challenge on the base scopes and lists the step-up scopes in the metadata', async () => {
    const unauthenticated = await fetch(resource, { method: 'POST', body: '{}' });
    expect(unauthenticated.status).toBe(401);
    expect(parseChallenge(unauthenticated.headers.get('www-authenticate')).params).toEqual({
      resource_metadata: server.metadataUrl,
      scope: 'mcp:run',
    });
    const prm = (await (await fetch(server.metadataUrl)).json()) as { scopes_supported: string[] };
    expect(prm.scopes_supported).toEqual(['mcp:run', ADMIN_SCOPE]);
  });
});

describe('serve with toolScopes in the config file', () => {
  async function configWith(toolScopes: Record<string, string[]>): Promise<string> {
    const file = join(await mkdtemp(join(tmpdir(), 'step-up-')), 'mcp-keycloak.json');
    await writeFile(file, JSON.stringify({ realm, resources: [{ url: resource, scopes: ['mcp:run'], toolScopes }] }));
    return file;
  }

  it('refuses an unknown tool in one line, naming the known tools', async () => {
    const result = await runCli(['serve', '--config', await configWith({ divde_numbers: [ADMIN_SCOPE] })], {
      admin: false,
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      'error: toolScopes names the tool "divde_numbers", which this server does not have: its tools are add_numbers, multiply_numbers, divide_numbers.\n',
    );
  });

  it('refuses a step-up scope the realm lacks in one line', async () => {
    const result = await runCli(['serve', '--config', await configWith({ divide_numbers: ['mcp:root'] })], {
      admin: false,
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(
      /^error: Realm "serve-step-up-\w+" has no client scope "mcp:root", which toolScopes requires for divide_numbers: [^\n]+\n$/,
    );
  });

  it('--tool-scope on the command line takes effect over the config: an unknown scope or tool is one line', async () => {
    const flagged = await runCli(
      ['serve', '--config', await configWith({}), '--tool-scope', 'divide_numbers=mcp:root'],
      { admin: false },
    );
    expect(flagged.code).toBe(64);
    expect(flagged.stderr).toMatch(
      /^error: Realm "serve-step-up-\w+" has no client scope "mcp:root", which toolScopes requires for divide_numbers: [^\n]+\n$/,
    );
    const unknown = await runCli(
      ['serve', '--config', await configWith({}), '--tool-scope', 'no_such_tool=mcp:admin'],
      { admin: false },
    );
    expect(unknown.code).toBe(64);
    expect(unknown.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(unknown.stderr).toMatch(/no_such_tool/);
  });

  it('serves with the config (the server above stopped), announcing the rule', async () => {
    await server.close();
    serverClosed = true;
    const { child, output } = await startServe(['--config', await configWith({ divide_numbers: [ADMIN_SCOPE] })]);
    try {
      expect(output()).toContain(`Step-up       divide_numbers also needs ${ADMIN_SCOPE}\n`);
      expect((await post(runToken, call('divide_numbers'))).status).toBe(403);
      expect((await post(adminToken, call('divide_numbers'))).status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    expect(output()).toMatch(
      new RegExp(
        `^POST /mcp 403 [\\d.]+ms sub=\\S+ azp=step-up-password reason="tool divide_numbers needs the scope ${ADMIN_SCOPE}"$`,
        'm',
      ),
    );
  });
});
