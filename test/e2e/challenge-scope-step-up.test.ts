/**
 * Step-up for clients that register with the 401's scope (the MCP spec's scope selection), against the real
 * Keycloak, on the README's step-up realm (`toolScopes: {divide_numbers: ["mcp:admin"]}`, the reference server
 * enforcing it): the official Python SDK client (`mcp`, pinned, in a cached venv: test/support/python.ts) and the
 * TypeScript SDK v2 client registering as it does by itself. Keycloak makes a registration's `scope` the client's
 * only optional client scopes and nothing in a realm adds one later (docs/decisions.md, "Step-up and the
 * registration scope"), so both are refused the step-up scope with invalid_scope; `doctor --e2e` tries that way
 * too and says so instead of being green.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientStore, deleteRegistration, runE2e } from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { runPythonClient, type PythonEvent } from '../support/python-client.js';
import { ensurePythonSdk, PYTHON_MCP_VERSION, pythonUnavailable } from '../support/python.js';

const realm = uniqueRealm('e2e-challenge-scope');
const password = randomBytes(12).toString('base64url');
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
const ADMIN_SCOPE = 'mcp:admin';
const stepUpTool = { name: 'divide_numbers', arguments: { a: 6, b: 3 } };
let resource: string;
let configFile: string;
let server: RunningServer;
const stores: ClientStore[] = [];

const noPython = await pythonUnavailable();
if (noPython && process.env.CI === 'true') throw new Error(`The Python SDK tests must run in CI: ${noPython}`);
if (noPython) console.warn(`[python] skipping the Python SDK client tests: ${noPython}`);

beforeAll(async () => {
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  configFile = join(await mkdtemp(join(tmpdir(), 'mcp-keycloak-challenge-scope-')), 'mcp-keycloak.json');
  const config = {
    keycloakUrl: keycloak().url,
    realm,
    resources: [{ url: resource, scopes: ['mcp:run'], toolScopes: { divide_numbers: [ADMIN_SCOPE] } }],
    testUser: { username: 'alice' },
  };
  await writeFile(configFile, JSON.stringify(config));
  const applied = await runCli(['--json', 'apply', '--yes', '--config', configFile], { env });
  expect(applied.code).toBe(0);
  server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    toolScopes: { divide_numbers: [ADMIN_SCOPE] },
    host: '127.0.0.1',
    port,
  });
});

afterAll(async () => {
  for (const store of stores) await deleteRegistration(store);
  await server?.close();
  await deleteRealm(realm);
});

/** The optional client scopes Keycloak gave the client registered as `clientId`. */
async function optionalScopesOf(clientId: string): Promise<string[]> {
  const admin = await adminClient();
  const [client] = await admin.clients.find({ realm, clientId });
  const optional = await admin.clients.listOptionalClientScopes({ realm, id: client!.id! });
  return optional.map((s) => s.name!).sort();
}

const scopeOf = (url: string) => (new URL(url).searchParams.get('scope') ?? '').split(' ').sort();

describe.skipIf(noPython !== undefined)(`the Python SDK client (mcp ${PYTHON_MCP_VERSION})`, () => {
  let events: PythonEvent[] = [];

  beforeAll(async () => {
    const python = await ensurePythonSdk();
    ({ events } = await runPythonClient({
      python,
      serverUrl: resource,
      username: 'alice',
      password,
      calls: [
        ['add_numbers', { a: 1, b: 2 }],
        [stepUpTool.name, stepUpTool.arguments],
      ],
    }));
  }, 420_000);

  it("registers with the 401's scope plus offline_access, signs in and calls a tool of that scope", () => {
    const register = events.find((e) => e.event === 'register');
    expect(register).toMatchObject({ event: 'register', scope: 'mcp:run offline_access' });
    const authorize = events.filter((e) => e.event === 'authorize');
    expect(scopeOf(authorize[0]!.url)).toEqual(['mcp:run', 'offline_access']);
    expect(events.find((e) => e.event === 'call' && e.tool === 'add_numbers')).toMatchObject({
      text: '3',
      isError: false,
    });
  });

  it('cannot step up: its re-authorization for the union with mcp:admin gets invalid_scope from Keycloak', async () => {
    const authorize = events.filter((e) => e.event === 'authorize');
    expect(authorize).toHaveLength(2);
    expect(scopeOf(authorize[1]!.url)).toEqual([ADMIN_SCOPE, 'mcp:run', 'offline_access']);
    const refused = events.filter((e) => e.event === 'sign-in-failed');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ message: expect.stringMatching(/error=invalid_scope\b/) });
    // The SDK raises out of its transport: the session ends without a result for the call.
    expect(events.some((e) => e.event === 'call' && e.tool === stepUpTool.name && e.text !== undefined)).toBe(false);
    const ended = events.at(-1);
    expect(ended).toMatchObject({ event: 'error', message: expect.stringMatching(/invalid_scope \(Invalid scopes: /) });
    // Why: Keycloak gave the client exactly the registered scopes as its optional ones.
    const clientId = new URL(authorize[0]!.url).searchParams.get('client_id')!;
    expect(await optionalScopesOf(clientId)).toEqual(['mcp:run', 'offline_access']);
  });
});

describe('the TypeScript SDK v2 client registering with the challenge scope', () => {
  it("registers with the 401's scope, then gets invalid_scope for the step-up; the VS Code way steps up", async () => {
    const store = new ClientStore();
    stores.push(store);
    const report = await runE2e({
      serverUrl: server.url,
      username: 'alice',
      password,
      sdk: 'v2',
      store,
      stepUpTool,
      registration: 'challenge',
    });
    const register = report.checks.find((c) => c.id === 'e2e.register');
    expect(register?.actual).toMatch(/registered with the SDK's own scope "mcp:run offline_access"/);
    expect(report.checks.find((c) => c.id === 'e2e.calculator')?.status).toBe('pass');
    const reauthorize = report.checks.find((c) => c.id === 'e2e.step-up.reauthorize');
    expect(reauthorize).toMatchObject({ status: 'fail', actual: expect.stringMatching(/error=invalid_scope\b/) });
    expect(report.stepUp?.authorizationScopes.at(-1)?.split(' ').sort()).toEqual([
      ADMIN_SCOPE,
      'mcp:run',
      'offline_access',
    ]);
    expect(await optionalScopesOf(store.clientInformation!.client_id)).toEqual(['mcp:run', 'offline_access']);

    const vscode = new ClientStore();
    stores.push(vscode);
    const asVscode = await runE2e({ serverUrl: server.url, username: 'alice', password, store: vscode, stepUpTool });
    expect(asVscode.checks.find((c) => c.id === 'e2e.step-up.call')).toMatchObject({ status: 'pass' });
  });
});

describe('doctor --e2e on the step-up realm', () => {
  it('tries the challenge-scope registration too and warns that such clients cannot step up, naming why', async () => {
    const admin = await adminClient();
    const vscodeClients = async () =>
      (await admin.clients.find({ realm })).filter((c) => c.name === 'Visual Studio Code').length;
    const before = await vscodeClients();
    const result = await runCli(['--json', 'doctor', '--e2e', '--config', configFile], { env });
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      checks: Array<{ id: string; status: string; actual?: string; why?: string; fix?: string; fixable?: boolean }>;
    };
    const e2e = report.checks.filter((c) => c.id.startsWith('e2e'));
    expect(e2e.filter((c) => c.status !== 'pass')).toEqual([
      expect.objectContaining({ id: 'e2e.step-up.challenge-scope', status: 'warn' }),
    ]);
    const finding = e2e.find((c) => c.id === 'e2e.step-up.challenge-scope')!;
    expect(finding.actual).toMatch(
      /^cannot step up on this Keycloak: registered with "mcp:run offline_access", the re-authorization for "[^"]*mcp:admin[^"]*" got invalid_scope$/,
    );
    expect(finding.why).toMatch(/only optional client scopes.*keycloak#50807/);
    expect(finding.fixable).toBeUndefined();
    expect(e2e.find((c) => c.id === 'e2e.register')?.actual).toMatch(/as VS Code registers/);
    expect(e2e.at(-1)?.id).toBe('e2e.cleanup');
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(password);
    // Both of doctor's registrations are gone.
    expect(await vscodeClients()).toBe(before);
  });
});
