/**
 * Step-up authorization end to end, against the real Keycloak: a realm applied from a config file whose
 * resource has `toolScopes: {divide_numbers: ["mcp:admin"]}`, the reference server enforcing it, and the
 * official SDK clients (v1 and v2) as hosts. After the calculator, the flow calls divide_numbers with the
 * first sign-in's token (mcp:run), gets 403 insufficient_scope, lets the SDK work out the scope, signs the
 * user in again and retries: e2e.step-up.challenge, .reauthorize and .call. When Keycloak cannot yield the
 * scope, the flow stops (bounded) with a failing step-up finding that says why. `doctor --e2e` with the
 * config runs the same step-up.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientStore,
  deleteRegistration,
  MAX_REAUTHORIZATIONS,
  runE2e,
  SDK_LINES,
  type E2eReport,
} from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('e2e-step-up');
const password = randomBytes(12).toString('base64url');
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
const ADMIN_SCOPE = 'mcp:admin';
const stepUpTool = { name: 'divide_numbers', arguments: { a: 6, b: 3 } };
const STEP_UP_IDS = ['e2e.step-up.challenge', 'e2e.step-up.reauthorize', 'e2e.step-up.call'];
let port: number;
let resource: string;
let configFile: string;
let server: RunningServer;
const stores: ClientStore[] = [];

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  configFile = join(await mkdtemp(join(tmpdir(), 'mcp-keycloak-e2e-step-up-')), 'mcp-keycloak.json');
  const config = {
    keycloakUrl: keycloak().url,
    realm,
    resources: [{ url: resource, scopes: ['mcp:run'], toolScopes: { divide_numbers: [ADMIN_SCOPE] } }],
    testUser: { username: 'alice' },
  };
  await writeFile(configFile, JSON.stringify(config));
  const applied = await runCli(['--json', 'apply', '--yes', '--config', configFile], { env });
  expect(applied.stderr).toBe('');
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

function newStore(): ClientStore {
  const store = new ClientStore();
  stores.push(store);
  return store;
}

function byId(report: E2eReport, id: string) {
  return report.checks.find((c) => c.id === id);
}

function problems(report: E2eReport): string[] {
  return report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.actual}`);
}

/** The realm's mcp:admin client scope, with `include.in.token.scope` set to `value` (apply sets "true"). */
async function includeAdminScopeInToken(value: 'true' | 'false'): Promise<void> {
  const admin = await adminClient();
  const scope = await admin.clientScopes.findOneByName({ realm, name: ADMIN_SCOPE });
  await admin.clientScopes.update(
    { realm, id: scope!.id! },
    { ...scope, attributes: { ...scope!.attributes, 'include.in.token.scope': value } },
  );
}

describe.each(SDK_LINES)('the %s SDK client', (sdk) => {
  it('steps up: 403 insufficient_scope, a second sign-in for the union of scopes, then the call returns 2', async () => {
    const store = newStore();
    const report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store, stepUpTool });

    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual([
      'e2e.challenge',
      'e2e.prm',
      'e2e.as-metadata',
      'e2e.register',
      'e2e.authorize-url',
      'e2e.sign-in',
      'e2e.consent',
      'e2e.iss',
      'e2e.token',
      'e2e.claims',
      'e2e.connect',
      'e2e.tools',
      'e2e.calculator',
      ...STEP_UP_IDS,
    ]);
    // v1 refreshes first and gives up; the flow then plays the host's part, and says so in a warning.
    expect(problems(report)).toEqual(sdk === 'v1' ? [expect.stringMatching(/^warn e2e\.step-up\.reauthorize: /)] : []);
    expect(report.calculatorResult).toBe(59.25);

    // The first sign-in is least privilege: the 401's scope, not the PRM's scopes_supported (which lists mcp:admin).
    expect(report.authorizationScopes).toHaveLength(2);
    expect(report.authorizationScopes[0]!.split(' ')).toContain('mcp:run');
    expect(report.authorizationScopes[0]!.split(' ')).not.toContain(ADMIN_SCOPE);
    expect(report.token?.scope).not.toContain(ADMIN_SCOPE);
    // Registered as VS Code does, with the PRM's scopes, so that Keycloak lets the client ask for mcp:admin later.
    expect(byId(report, 'e2e.register')?.actual).toMatch(
      new RegExp(
        `registered with scope "[^"]*\\b${ADMIN_SCOPE}\\b[^"]*": the SDK's "${sdk === 'v2' ? 'mcp:run offline_access' : 'mcp:run'}" plus the PRM's scopes_supported ${ADMIN_SCOPE}, as VS Code registers`,
      ),
    );

    expect(byId(report, 'e2e.step-up.challenge')).toMatchObject({
      status: 'pass',
      actual: `HTTP 403 to divide_numbers(6, 3): scope "mcp:run ${ADMIN_SCOPE}", resource_metadata ${server.metadataUrl}, error_description "tool divide_numbers needs the scope ${ADMIN_SCOPE}"`,
    });
    // The second authorization request asks for the old scope and the challenge's together.
    const second = report.authorizationScopes[1]!.split(' ');
    expect(second).toEqual(expect.arrayContaining(['mcp:run', ADMIN_SCOPE]));
    expect(report.stepUp).toMatchObject({
      tool: 'divide_numbers',
      reauthorizations: 1,
      authorizationScopes: [report.authorizationScopes[1]],
      challenge: { scope: `mcp:run ${ADMIN_SCOPE}`, resourceMetadata: server.metadataUrl },
      result: { isError: false, value: 2 },
    });
    expect(report.stepUp?.tokenScope).toEqual(expect.arrayContaining(['mcp:run', ADMIN_SCOPE]));
    const reauthorize = byId(report, 'e2e.step-up.reauthorize')!;
    if (sdk === 'v2') {
      // v2: the union of its scope, the token's (offline_access mcp:run) and the challenge's.
      expect(second).toEqual(expect.arrayContaining(['offline_access']));
      expect(reauthorize.status).toBe('pass');
      expect(reauthorize.actual).toContain(
        "computed by @modelcontextprotocol/client (v2): the union of its scope, the token's scope and the challenge's (computeScopeUnion)",
      );
    } else {
      // v1: the challenge's scope as is; its refresh token first, which cannot add a scope.
      expect(report.authorizationScopes[1]).toBe(`mcp:run ${ADMIN_SCOPE}`);
      expect(reauthorize.status).toBe('warn');
      expect(reauthorize.actual).toContain(
        'first used its refresh token (a refresh cannot add a scope), met the same 403 and gave up ("Streamable HTTP error: Server returned 403 after trying upscoping")',
      );
      expect(reauthorize.actual).toContain(
        "computed by @modelcontextprotocol/sdk (v1): the challenge's scope as is (v1 computes no union",
      );
      expect(reauthorize.fix).toMatch(/drop the refresh token/);
    }
    expect(reauthorize.actual).toMatch(/1 sign-in as alice \(consent page shown and accepted\)/);
    expect(byId(report, 'e2e.step-up.call')).toMatchObject({ status: 'pass', actual: 'divide_numbers(6, 3) = 2' });
    expect(JSON.stringify(report)).not.toContain(password);
    expect(JSON.stringify(report)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it(`stops after ${MAX_REAUTHORIZATIONS} re-authorizations at most when Keycloak does not put mcp:admin in the token, saying why`, async () => {
    await includeAdminScopeInToken('false');
    let report: E2eReport;
    try {
      report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store: newStore(), stepUpTool });
    } finally {
      await includeAdminScopeInToken('true');
    }
    expect(report.ok).toBe(false);
    expect(byId(report, 'e2e.calculator')?.status).toBe('pass');
    expect(byId(report, 'e2e.step-up.challenge')?.status).toBe('pass');
    const reauthorize = byId(report, 'e2e.step-up.reauthorize')!;
    expect(reauthorize.status).toBe('fail');
    expect(reauthorize.actual).toMatch(
      new RegExp(
        `without ${ADMIN_SCOPE} \\(token scope "[^"]*"\\) although the requests? \\(scope .*\\) asked for it: the client scope must have "Include in token scope" on`,
      ),
    );
    expect(reauthorize.fix).toContain('toolScopes');
    expect(byId(report, 'e2e.step-up.call')).toMatchObject({
      status: 'skip',
      actual: 'not run: the server still refuses divide_numbers(6, 3)',
    });
    if (sdk === 'v2') {
      // v2 re-authorizes on every refusal; the flow's bound stops it.
      expect(reauthorize.actual).toMatch(
        new RegExp(`^stopped after ${MAX_REAUTHORIZATIONS} re-authorizations, the most the flow allows: `),
      );
      expect(report.stepUp?.reauthorizations).toBe(MAX_REAUTHORIZATIONS);
    } else {
      // v1 re-authorizes once per challenge, then gives up by itself.
      expect(reauthorize.actual).toMatch(
        /then @modelcontextprotocol\/sdk \(v1\) gave up: .*Server returned 403 after trying upscoping/,
      );
      expect(report.stepUp?.reauthorizations).toBe(1);
    }
    expect(report.authorizationScopes).toHaveLength(1 + report.stepUp!.reauthorizations);
    for (const scope of report.authorizationScopes.slice(1))
      expect(scope.split(' ')).toEqual(expect.arrayContaining(['mcp:run', ADMIN_SCOPE]));
  });
});

describe('the v2 SDK client', () => {
  it('without a step-up tool runs the chain as before and adds no step-up findings', async () => {
    const report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk: 'v2', store: newStore() });
    expect(problems(report)).toEqual([]);
    expect(report.checks.map((c) => c.id).filter((id) => id.startsWith('e2e.step-up'))).toEqual([]);
    expect(report.stepUp).toMatchObject({ skipped: 'no step-up tool configured', reauthorizations: 0 });
    expect(report.authorizationScopes).toHaveLength(1);
  });

  it('skips the step-up when the server does not list the tool', async () => {
    const report = await runE2e({
      serverUrl: server.url,
      username: 'alice',
      password,
      sdk: 'v2',
      store: newStore(),
      stepUpTool: { name: 'no_such_tool' },
    });
    expect(report.ok).toBe(true);
    expect(report.checks.filter((c) => c.id.startsWith('e2e.step-up')).map((c) => [c.status, c.actual])).toEqual(
      STEP_UP_IDS.map(() => ['skip', 'not run: the server does not list the step-up tool no_such_tool']),
    );
  });

  it('fails at once with invalid_scope, naming the registration, when the registered client may not request mcp:admin', async () => {
    // A client as the SDKs alone would register it (scope mcp:run, no mcp:admin): registered here, then narrowed.
    const store = newStore();
    const first = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk: 'v2', store });
    expect(first.ok).toBe(true);
    const admin = await adminClient();
    const [client] = await admin.clients.find({ realm, clientId: store.clientInformation!.client_id });
    const optional = await admin.clients.listOptionalClientScopes({ realm, id: client!.id! });
    const adminScope = optional.find((s) => s.name === ADMIN_SCOPE);
    expect(adminScope).toBeDefined();
    await admin.clients.delOptionalClientScope({ realm, id: client!.id!, clientScopeId: adminScope!.id! });

    // The stored token still works; the step-up cannot get the scope.
    const report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk: 'v2', store, stepUpTool });
    expect(report.ok).toBe(false);
    expect(report.signedIn).toBe(false);
    expect(byId(report, 'e2e.step-up.challenge')?.status).toBe('pass');
    const reauthorize = byId(report, 'e2e.step-up.reauthorize')!;
    expect(reauthorize.status).toBe('fail');
    expect(reauthorize.actual).toMatch(
      /^Keycloak refused the re-authorization request \(scope "[^"]*mcp:admin[^"]*"\): .*error=invalid_scope.*The registered client may not request mcp:admin: a registration's scope becomes the client's only optional client scopes in Keycloak$/,
    );
    expect(report.stepUp?.reauthorizations).toBe(1);
    expect(byId(report, 'e2e.step-up.call')?.status).toBe('skip');
  });
});

describe('doctor --e2e with the config', () => {
  it('calls the first tool of toolScopes as the step-up tool, and every e2e finding of the VS Code way passes', async () => {
    const result = await runCli(['--json', 'doctor', '--e2e', '--config', configFile], { env });
    const checks = (
      JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; actual?: string }> }
    ).checks.filter((c) => c.id.startsWith('e2e'));
    // The challenge-scope registration cannot step up on Keycloak (test/e2e/challenge-scope-step-up.test.ts).
    expect(checks.filter((c) => c.status !== 'pass').map((c) => [c.id, c.status])).toEqual([
      ['e2e.step-up.challenge-scope', 'warn'],
    ]);
    expect(checks.map((c) => c.id)).toEqual([
      'e2e.challenge',
      'e2e.prm',
      'e2e.as-metadata',
      'e2e.register',
      'e2e.authorize-url',
      'e2e.sign-in',
      'e2e.consent',
      'e2e.iss',
      'e2e.token',
      'e2e.claims',
      'e2e.connect',
      'e2e.tools',
      'e2e.calculator',
      ...STEP_UP_IDS,
      'e2e.step-up.challenge-scope',
      'e2e.cleanup',
    ]);
    expect(checks.find((c) => c.id === 'e2e.step-up.challenge')?.actual).toContain(`scope "mcp:run ${ADMIN_SCOPE}"`);
    const reauthorize = checks.find((c) => c.id === 'e2e.step-up.reauthorize')?.actual ?? '';
    expect(reauthorize).toMatch(
      /^requested scope "[^"]+", computed by @modelcontextprotocol\/client \(v2\): the union/,
    );
    expect(/^requested scope "([^"]+)"/.exec(reauthorize)![1]!.split(' ').sort()).toEqual([
      'mcp:admin',
      'mcp:run',
      'offline_access',
    ]);
    expect(checks.find((c) => c.id === 'e2e.step-up.call')?.actual).toBe('divide_numbers(6, 3) = 2');
    expect(checks.find((c) => c.id === 'e2e.cleanup')?.actual).toMatch(/deleted/);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(password);
  });
});

describe("a server that does not enforce the tool's scope", () => {
  it('is a warning at e2e.step-up.challenge when the caller knows the scope (as doctor does from toolScopes)', async () => {
    await server.close();
    server = await startReferenceServer({
      keycloakUrl: keycloak().url,
      realm,
      resource,
      scopes: ['mcp:run'],
      host: '127.0.0.1',
      port,
    });
    const report = await runE2e({
      serverUrl: server.url,
      username: 'alice',
      password,
      sdk: 'v2',
      store: newStore(),
      stepUpTool: { ...stepUpTool, scopes: [ADMIN_SCOPE] },
    });
    expect(report.ok).toBe(true);
    const challenge = byId(report, 'e2e.step-up.challenge');
    expect(challenge?.status).toBe('warn');
    expect(challenge?.actual).toMatch(
      /^divide_numbers\(6, 3\) succeeded with a token without mcp:admin \(scope "[^"]*"\): the server does not enforce the tool's scopes$/,
    );
    expect(byId(report, 'e2e.step-up.reauthorize')).toMatchObject({
      status: 'skip',
      actual: 'not needed: no 403 insufficient_scope',
    });
    expect(byId(report, 'e2e.step-up.call')).toMatchObject({ status: 'pass', actual: 'divide_numbers(6, 3) = 2' });
    expect(report.authorizationScopes).toHaveLength(1);
  });
});
