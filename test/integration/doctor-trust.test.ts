/**
 * What doctor trusts and when it may call a check skipped (issue 19, points 1 and 2), against the real
 * Keycloak and the built CLI:
 *
 * - A hostile MCP server (the reference server, started here) names as authorization server a recording
 *   reverse proxy in front of the same Keycloak: every page through it looks right. doctor --e2e must fail
 *   prm.authorization_servers with the fix, report the checks that would send a secret there as not run
 *   because of it, and send the proxy no password, no token and no registration.
 * - Green means tried, break and fix: rejected admin credentials fail (right ones pass); --e2e without a
 *   test user fails (with one it passes); a probe whose clean-up fails is a failure naming the client left.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm, type CliResult } from '../support/keycloak.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { applyRealm } from '../support/tokens.js';

const realm = uniqueRealm('trust');
const password = `pw-${Math.random().toString(36).slice(2)}`;
const cimdOn = inject('keycloakFeatures').includes('cimd');
const CIMD = cimdOn ? ['--cimd', '--cimd-allow-http', '--cimd-domain', '127.0.0.1'] : [];
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
let proxy: RecordingProxy;
let server: RunningServer | undefined;
let resource: string;
let port: number;

interface Finding {
  id: string;
  status: string;
  why?: string;
  actual?: string;
  fix?: string;
  blockedBy?: string;
}
const find = (checks: Finding[], id: string) => checks.find((f) => f.id === id);

async function doctor(args: string[], options: { env?: Record<string, string> } = {}) {
  const result = await runCli(['--json', 'doctor', '--realm', realm, '--resource', resource, ...CIMD, ...args], {
    env: { ...env, ...options.env },
  });
  const report = JSON.parse(result.stdout) as { ok: boolean; checks: Finding[] };
  return { ...result, checks: report.checks };
}

/** The reference server for the realm, with its PRM naming the realm at `keycloakUrl`. */
async function serveWith(keycloakUrl: string): Promise<void> {
  await server?.close();
  server = await startReferenceServer({ keycloakUrl, realm, resource, scopes: ['mcp:run'], host: '127.0.0.1', port });
}

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource, password, CIMD);
  proxy = await startRecordingProxy(keycloak().url);
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await deleteRealm(realm);
});

describe('an MCP server that names another authorization server (a proxy in front of the same Keycloak)', () => {
  let result: CliResult & { checks: Finding[] };

  beforeAll(async () => {
    await serveWith(proxy.url);
    proxy.log.length = 0; // the server's own start-up reads
    result = await doctor(['--e2e', '--test-user', 'alice']);
  });

  it('fails prm.authorization_servers with the fix, and exits non-zero', () => {
    expect(result.code).toBe(1);
    expect(find(result.checks, 'prm.authorization_servers')).toMatchObject({
      status: 'fail',
      actual: `${proxy.url}/realms/${realm}`,
      fix: expect.stringContaining(`Configure the MCP server with the issuer ${keycloak().url}/realms/${realm}`),
    });
  });

  it('reports the checks that would send a secret there as not run because of it', () => {
    const notRun = result.checks.filter((f) => f.blockedBy === 'prm.authorization_servers').map((f) => f.id);
    expect(notRun).toEqual(
      expect.arrayContaining([
        'registration.vscode',
        'registration.claude-code',
        'e2e',
        ...(cimdOn ? ['cimd.probe'] : []),
      ]),
    );
    for (const id of notRun) expect(find(result.checks, id)?.status).toBe('skip');
    expect(find(result.checks, 'e2e')?.why).toMatch(/doctor sends no password, token or registration there/);
  });

  it('sends the proxy no password, no token, no registration: only plain reads', () => {
    expect(proxy.log.length).toBeGreaterThan(0); // doctor did read the metadata there (data to check)
    for (const seen of proxy.log) {
      expect(`${seen.method} ${seen.url}`).toMatch(/^(GET|HEAD) /);
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.body).toBe('');
      expect(seen.url).not.toMatch(/clients-registrations|login-actions|\/token|\/auth\?/);
      const everything = JSON.stringify(seen);
      expect(everything).not.toContain(password);
      expect(everything).not.toContain(keycloak().adminPassword);
    }
  });

  it('says so in the text report too, in plain sight', async () => {
    const text = await runCli(['doctor', '--realm', realm, '--resource', resource, '--test-user', 'alice'], {
      env: { ...env, NO_COLOR: '1' },
    });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/⊘ .*not run because of prm\.authorization_servers/);
    expect(text.stdout).toMatch(/skipped \(.*\d+ not run because of prm\.authorization_servers/);
  });
});

describe('a server that names Keycloak to doctor, then the proxy to the --e2e client', () => {
  it('the guard inside the client refuses the registration there, and the proxy gets only reads', async () => {
    const fakePort = await freePort();
    const url = `http://127.0.0.1:${fakePort}/mcp`;
    const prmUrl = `http://127.0.0.1:${fakePort}/.well-known/oauth-protected-resource/mcp`;
    let prmReads = 0;
    // doctor's own prm check reads the PRM once; every later read (the SDK client's) names the proxy.
    const fake = createServer((req, res) => {
      req.resume();
      if (req.url === '/.well-known/oauth-protected-resource/mcp') {
        const issuer = `${prmReads++ === 0 ? keycloak().url : proxy.url}/realms/${realm}`;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ resource: url, authorization_servers: [issuer], scopes_supported: ['mcp:run'] }));
      } else {
        res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${prmUrl}", scope="mcp:run"` }).end();
      }
    });
    await new Promise<void>((resolve) => fake.listen(fakePort, '127.0.0.1', resolve));
    try {
      proxy.log.length = 0;
      const run = await runCli(
        ['--json', 'doctor', '--realm', realm, '--resource', url, '--e2e', '--test-user', 'alice'],
        {
          env,
        },
      );
      const checks = (JSON.parse(run.stdout) as { checks: Finding[] }).checks;
      expect(run.code).toBe(1);
      expect(find(checks, 'prm.authorization_servers')?.status).toBe('pass');
      const refused = checks.filter((f) => f.id.startsWith('e2e.') && f.status === 'fail');
      expect(refused.map((f) => f.actual).join(' ')).toMatch(
        new RegExp(`refused to send credentials or a write to ${proxy.url}`),
      );
      expect(proxy.log.length).toBeGreaterThan(0); // the client did discover the proxy
      for (const seen of proxy.log) {
        expect(`${seen.method} ${seen.url}`).toMatch(/^(GET|HEAD) /);
        expect(seen.headers.authorization).toBeUndefined();
        expect(JSON.stringify(seen)).not.toContain(password);
      }
    } finally {
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });
});

describe('green means tried (break and fix)', () => {
  beforeAll(async () => {
    await serveWith(keycloak().url);
  });

  it('admin credentials Keycloak rejects fail keycloak.admin with the line plan prints; the right ones pass', async () => {
    const wrong = { KEYCLOAK_ADMIN_PASSWORD: `wrong-${password}` };
    const plan = await runCli(['plan', '--realm', realm, '--resource', resource], { env: wrong });
    expect(plan.code).not.toBe(0);
    const broken = await doctor([], { env: wrong });
    expect(broken.code).toBe(1);
    const admin = find(broken.checks, 'keycloak.admin')!;
    expect(admin.status).toBe('fail');
    expect(admin.actual).toMatch(/Keycloak rejected the admin credentials/);
    expect(plan.stderr).toContain(admin.actual);
    const realmChecks = broken.checks.filter((f) => f.id.startsWith('realm.'));
    expect(realmChecks.length).toBeGreaterThan(5);
    for (const f of realmChecks) expect(f).toMatchObject({ status: 'skip', blockedBy: 'keycloak.admin' });
    expect(find(broken.checks, 'keycloak.version')?.blockedBy).toBe('keycloak.admin');
    expect(broken.stdout).not.toContain(wrong.KEYCLOAK_ADMIN_PASSWORD);

    const fixed = await doctor([]);
    expect(find(fixed.checks, 'keycloak.admin')?.status).toBe('pass');
    expect(fixed.checks.filter((f) => f.status === 'fail')).toEqual([]);
    expect(fixed.code).toBe(0);
  });

  it('--e2e without a test user fails; with one it passes', async () => {
    const broken = await doctor(['--e2e']);
    expect(broken.code).toBe(1);
    expect(find(broken.checks, 'e2e')).toMatchObject({ status: 'fail', actual: 'no test user (--test-user NAME)' });
    const fixed = await doctor(['--e2e', '--test-user', 'alice']);
    expect(fixed.checks.filter((f) => f.status === 'fail')).toEqual([]);
    expect(find(fixed.checks, 'e2e.calculator')?.status).toBe('pass');
    expect(fixed.code).toBe(0);
  });
});

describe('a probe whose clean-up fails', () => {
  beforeAll(async () => {
    // The proxy is the configured Keycloak now, and the server names it: every probe may run through it.
    await serveWith(proxy.url);
  });

  it('fails the probe and names the client left in the realm; without the fault it passes', async () => {
    const fine = await doctor([], { env: { KEYCLOAK_URL: proxy.url } });
    expect(find(fine.checks, 'registration.vscode')?.status).toBe('pass');
    if (cimdOn) expect(find(fine.checks, 'cimd.probe')?.status).toBe('pass');

    // Both ways a probe client is deleted: its registration access token (RFC 7592) and the admin API.
    proxy.reset({ method: 'DELETE', path: /\/clients-registrations\/openid-connect\/[^/]+$/ });
    proxy.reset({ method: 'DELETE', path: new RegExp(`^/admin/realms/${realm}/clients/[^/]+$`) });
    const broken = await doctor([], { env: { KEYCLOAK_URL: proxy.url } });
    expect(broken.code).toBe(1);
    const vscode = find(broken.checks, 'registration.vscode')!;
    expect(vscode).toMatchObject({ status: 'fail', actual: expect.stringMatching(/could not delete probe client /) });
    const clientId = /could not delete probe client (\S+)/.exec(vscode.actual!)![1]!;
    const admin = await adminClient();
    expect(await admin.clients.find({ realm, clientId })).toHaveLength(1);
    if (cimdOn) {
      expect(find(broken.checks, 'cimd.probe')).toMatchObject({
        status: 'fail',
        actual: expect.stringMatching(
          /the client http:\/\/127\.0\.0\.1:\d+\/mcp-keycloak-doctor\/client-metadata\.json/,
        ),
      });
    }
  });
});

describe('an admin API that does not answer', () => {
  it('fails keycloak.admin (credentials were given), and the admin checks are not run because of it', async () => {
    // The server still names the proxy, which is the configured Keycloak here; only the admin login dies.
    proxy.reset({ method: 'POST', path: /^\/realms\/master\/protocol\/openid-connect\/token$/ });
    const broken = await doctor([], { env: { KEYCLOAK_URL: proxy.url } });
    expect(broken.code).toBe(1);
    expect(find(broken.checks, 'keycloak.admin')).toMatchObject({ status: 'fail', actual: expect.any(String) });
    for (const f of broken.checks.filter((c) => c.id.startsWith('realm.')))
      expect(f).toMatchObject({ status: 'skip', blockedBy: 'keycloak.admin' });
    expect(broken.stdout).not.toContain(keycloak().adminPassword);
  });
});

describe('a Keycloak that announces another origin (the realm frontend URL)', () => {
  it('fails keycloak.origin with the --keycloak-url fix; the password, probes and --e2e are not run because of it', async () => {
    const alt = keycloak().url.replace('127.0.0.1', 'localhost');
    const admin = await adminClient();
    await admin.realms.update({ realm }, { realm, attributes: { frontendUrl: alt } });
    await serveWith(keycloak().url); // its PRM names the issuer Keycloak announces: on `alt`
    const { code, checks } = await doctor(['--e2e', '--test-user', 'alice']);
    expect(code).toBe(1);
    expect(find(checks, 'keycloak.origin')).toMatchObject({
      status: 'fail',
      fix: `If ${alt} is this Keycloak, run doctor with --keycloak-url ${alt} (or KEYCLOAK_URL).`,
    });
    expect(find(checks, 'prm.authorization_servers')?.status).toBe('pass');
    for (const id of ['token.obtain', 'registration.vscode', 'e2e', ...(cimdOn ? ['cimd.probe'] : [])])
      expect(find(checks, id), id).toMatchObject({ status: 'skip', blockedBy: 'keycloak.origin' });
  });
});
