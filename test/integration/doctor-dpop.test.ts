/**
 * doctor's `dpop.ends` against the real Keycloak and the reference server, break and fix: a realm that binds
 * tokens (`apply --require-dpop`) in front of a server that knows only Bearer fails with `serve --dpop allowed`;
 * with the server fixed it passes, doctor's own token and `doctor --e2e` are bound to a DPoP key (Keycloak refuses a
 * token request without a proof) and presented as `Authorization: DPoP`; a server that requires DPoP on a realm that does not bind warns with `apply --require-dpop`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type DpopMode, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { applyRealm } from '../support/tokens.js';

const realm = uniqueRealm('doctor-dpop');
const password = randomBytes(12).toString('base64url');
let port: number;
let resource: string;
let server: RunningServer | undefined;

interface Finding {
  id: string;
  status: string;
  actual?: string;
  fix?: string;
}

async function serve(mode: DpopMode): Promise<void> {
  await server?.close();
  server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    host: '127.0.0.1',
    port,
    dpop: { mode },
  });
}

async function doctor(...extra: string[]): Promise<{ code: number; checks: Finding[]; output: string }> {
  const result = await runCli(
    ['--json', 'doctor', '--realm', realm, '--resource', resource, '--test-user', 'alice', ...extra],
    { env: { MCP_KEYCLOAK_TEST_USER_PASSWORD: password } },
  );
  const report = JSON.parse(result.stdout) as { checks: Finding[] };
  return { code: result.code, checks: report.checks, output: result.stdout + result.stderr };
}

const dpopEnds = (checks: Finding[]) => checks.find((c) => c.id === 'dpop.ends')!;

async function vscodeClients(): Promise<number> {
  const clients = await (await adminClient()).clients.find({ realm });
  return clients.filter((c) => c.name === 'Visual Studio Code').length;
}

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource, password, ['--require-dpop']);
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

describe('doctor compares what the realm and the MCP server say about DPoP', () => {
  it('a realm that binds tokens in front of a Bearer-only server fails, with serve --dpop allowed as the fix', async () => {
    await serve('off');
    const { code, checks } = await doctor('--require-dpop');
    expect(dpopEnds(checks)).toMatchObject({ status: 'fail' });
    expect(dpopEnds(checks).actual).toMatch(/realm binds the tokens .*dpop-bind-enforcer\).*advertises no DPoP/);
    expect(dpopEnds(checks).fix).toContain('serve --dpop allowed');
    // What a client meets there: doctor's own bound token, presented as DPoP, is refused by the Bearer-only server.
    const call = checks.find((c) => c.id === 'mcp.tools_list')!;
    expect(call.status).toBe('fail');
    // serve without DPoP answers a foreign scheme like no token (RFC 6750 §3.1), offering no DPoP.
    expect(call.actual).toMatch(/^HTTP 401, WWW-Authenticate: Bearer resource_metadata=/);
    expect(call.actual).not.toMatch(/DPoP/);
    expect(code).toBe(1);
  });

  it('with serve --dpop allowed it passes, and doctor --e2e signs in with DPoP and calls the tools', async () => {
    await serve('allowed');
    const before = await vscodeClients();
    const { code, checks, output } = await doctor('--require-dpop', '--e2e');
    expect(dpopEnds(checks)).toMatchObject({ status: 'pass' });
    expect(dpopEnds(checks).actual).toContain('allowed beside Bearer');
    const e2e = checks.filter((c) => c.id.startsWith('e2e'));
    expect(e2e.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.actual}`)).toEqual([]);
    expect(checks.find((c) => c.id === 'e2e.token')?.actual).toMatch(/token_type DPoP.*bound to the client's DPoP key/);
    // doctor's own token is bound too (Keycloak refuses it a token without a proof), and tools/list presents it as DPoP.
    expect(checks.find((c) => c.id === 'token.obtain')?.actual).toContain('bound to a DPoP key');
    expect(checks.find((c) => c.id === 'token.typ')?.actual).toContain('typ DPoP');
    expect(checks.find((c) => c.id === 'mcp.tools_list')?.status).toBe('pass');
    expect(checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.actual} | ${c.fix}`)).toEqual([]);
    expect(code).toBe(0);
    expect(await vscodeClients()).toBe(before);
    expect(output).not.toContain(password);
  });

  it('a server that requires DPoP on a realm that does not bind warns, with apply --require-dpop as the fix', async () => {
    await applyRealm(realm, resource, password);
    await serve('required');
    const { checks } = await doctor();
    expect(dpopEnds(checks)).toMatchObject({ status: 'warn' });
    expect(dpopEnds(checks).actual).toMatch(/realm does not require DPoP.*required/);
    expect(dpopEnds(checks).fix).toContain('--require-dpop');
  });

  it('after apply --require-dpop both ends agree', async () => {
    await applyRealm(realm, resource, password, ['--require-dpop']);
    const { checks } = await doctor('--require-dpop');
    expect(dpopEnds(checks)).toMatchObject({ status: 'pass' });
    expect(dpopEnds(checks).actual).toMatch(/realm binds .*required/);
  });
});
