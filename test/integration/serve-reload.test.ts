/**
 * A running `serve` follows its config file, through the built CLI against the real Keycloak, with the
 * official MCP SDK client for the tool calls: toolScopes added to the file + `apply` change the PRM's
 * `scopes_supported` and the step-up protection of divide_numbers without a restart; a file serve cannot
 * use keeps the running settings (said in one line); a new resource URL restarts the server in-process;
 * a realm that does not exist ends serve with the reason instead of serving the old realm.
 */
import { Client, InsufficientScopeError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { adminClient, CLI, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { createPasswordClient, TEST_USER, TEST_USER_PASSWORD, type TestClient } from '../support/tokens.js';
import type { ConfigFileJson } from '../support/cli-json.js';

const realm = uniqueRealm('serve-reload');
let dir: string;
let resource: string;
let client: TestClient;
let serve: { child: ChildProcess; output: () => string; exited: Promise<number | null> };

const configPath = () => join(dir, 'mcp-keycloak.json');
const env = () => ({ MCP_KEYCLOAK_STATE: join(dir, '.state'), MCP_KEYCLOAK_TEST_USER_PASSWORD: TEST_USER_PASSWORD });

async function editConfig(change: (config: ConfigFileJson) => void): Promise<void> {
  const config = JSON.parse(await readFile(configPath(), 'utf8')) as ConfigFileJson;
  change(config);
  await writeFile(configPath(), `${JSON.stringify(config, null, 2)}\n`);
}

/** `serve` in the project folder, as users run it; resolves once it listens. */
function startServe(): Promise<typeof serve> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      if (output.includes('Press Ctrl-C')) resolve({ child, output: () => output, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${output}`)));
  });
}

/** Waits (no fixed sleep) until serve has printed `text` at least `count` times. */
async function printed(text: string, count = 1): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (serve.output().split(text).length - 1 < count) {
    if (Date.now() > deadline) throw new Error(`serve did not print "${text}"; it printed:\n${serve.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function scopesSupported(url = resource): Promise<string[]> {
  const prm = new URL(url);
  const response = await fetch(`${prm.origin}/.well-known/oauth-protected-resource${prm.pathname}`);
  return ((await response.json()) as { scopes_supported: string[] }).scopes_supported;
}

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
  return ((await response.json()) as { access_token: string }).access_token;
}

/** divide_numbers through the official SDK client: its result, or the error the client raised. */
async function divide(token: string): Promise<unknown> {
  const mcp = new Client({ name: 'serve-reload', version: '1.0.0' });
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(resource), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  try {
    return (await mcp.callTool({ name: 'divide_numbers', arguments: { a: 6, b: 3 } })).structuredContent;
  } catch (error) {
    return error;
  } finally {
    await mcp.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-serve-reload-'));
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const config = { keycloakUrl: keycloak().url, realm, resources: [{ url: resource, scopes: ['mcp:run'] }] };
  await writeFile(configPath(), `${JSON.stringify({ ...config, testUser: { username: TEST_USER } }, null, 2)}\n`);
  const applied = await runCli(['apply', '--yes'], { cwd: dir, env: env() });
  expect(applied.code, applied.stderr).toBe(0);
  client = await createPasswordClient(realm, 'serve-reload-password');
  serve = await startServe();
});
afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await deleteRealm(realm);
});

describe('serve follows its config file', () => {
  it('toolScopes added + apply: PRM scopes_supported and the step-up of divide_numbers change without a restart', async () => {
    const runToken = await tokenWith();
    expect(await scopesSupported()).toEqual(['mcp:run']);
    expect(await divide(runToken)).toEqual({ result: 2 });

    await editConfig((config) => (config.resources[0]!.toolScopes = { divide_numbers: ['mcp:admin'] }));
    await printed('Reloaded mcp-keycloak.json: scope mcp:run; step-up divide_numbers also needs mcp:admin.');
    // The realm has no mcp:admin yet: serve says which apply creates it, and protects the tool already.
    expect(serve.output()).toMatch(/warning: Realm "serve-reload-[0-9a-f]+" has no client scope "mcp:admin".*Run `/);
    const applied = await runCli(['apply', '--yes'], { cwd: dir, env: env() });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/A serve running with mcp-keycloak\.json follows it by itself/);

    expect(await scopesSupported()).toEqual(['mcp:run', 'mcp:admin']);
    const refused = await divide(runToken);
    expect(refused).toBeInstanceOf(InsufficientScopeError);
    expect(refused).toMatchObject({ requiredScope: 'mcp:run mcp:admin' });
    // A client that asks for mcp:admin (now an optional scope of the realm) calls it.
    const admin = await adminClient();
    const [own] = await admin.clients.find({ realm, clientId: client.clientId });
    const scope = await admin.clientScopes.findOneByName({ realm, name: 'mcp:admin' });
    await admin.clients.addOptionalClientScope({ realm, id: own!.id!, clientScopeId: scope!.id! });
    expect(await divide(await tokenWith('mcp:admin'))).toEqual({ result: 2 });
    expect(serve.output()).not.toMatch(/restarting/);
  });

  it('a file serve cannot use keeps the running settings, said in one line', async () => {
    const good = await readFile(configPath(), 'utf8');
    await writeFile(configPath(), '{"realm": ');
    await printed('mcp-keycloak.json changed, but serve cannot use it:');
    expect(serve.output()).toMatch(/Still serving the previous settings/);
    expect(await scopesSupported()).toEqual(['mcp:run', 'mcp:admin']);
    await writeFile(configPath(), good);
  });

  it('a new resource URL restarts the server in-process, at the new URL', async () => {
    const moved = `http://127.0.0.1:${await freePort()}/mcp`;
    await editConfig((config) => (config.resources[0]!.url = moved));
    await printed('mcp-keycloak.json changed resource, port: restarting the MCP server.');
    await printed(`MCP endpoint  ${moved}`);
    expect(await scopesSupported(moved)).toEqual(['mcp:run', 'mcp:admin']);
    resource = moved;
  });

  it('a realm that does not exist ends serve with the reason: it does not go on serving the old realm', async () => {
    await editConfig((config) => (config.realm = `${realm}-nope`));
    expect(await serve.exited).toBe(64);
    expect(serve.output()).toMatch(/serve stops: it cannot start with the changed mcp-keycloak\.json/);
    expect(serve.output()).toMatch(/error: Realm "serve-reload-[0-9a-f]+-nope" does not exist/);
  });
});
