/**
 * `doctor --client` through the built CLI against the real Keycloak: on a realm `apply` made (no --cimd), every
 * catalogued client gets one verdict line, derived from its real registration body sent to this realm and what the
 * realm advertises; the CIMD clients get "works after apply --cimd" where Keycloak advertises CIMD (the realm has no
 * policy for their documents) and register with DCR where it does not. On a Trusted Hosts realm Cursor's registration
 * is refused, and its verdict names --trusted-host. Without --client one passed finding sums the verdicts up.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLIENT_CATALOGUE } from '../../src/clients/catalogue.js';
import type { Finding } from '../../src/findings.js';
import { olderThan } from '../../src/keycloak/versions.js';
import type { RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';
import { serveRealm } from '../support/tokens.js';

const realm = uniqueRealm('client-verdicts');
const version = inject('keycloakVersion');
const cimdOn = inject('keycloakFeatures').includes('cimd');
let server: RunningServer;
let target: string[];

interface Report {
  checks: Finding[];
  clients?: Array<{ client: string; identity: string; verdict: string; line: string; signInScope: string }>;
}

async function doctor(extra: string[]): Promise<{ code: number; report: Report }> {
  const result = await runCli(['--json', 'doctor', ...target, ...extra]);
  expect(result.stderr).toBe('');
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}
const verdictOf = (report: Report, id: string) => report.checks.find((f) => f.id === `clients.${id}`);

beforeAll(async () => {
  let resource: string;
  ({ server, resource } = await serveRealm(realm));
  target = ['--realm', realm, '--resource', resource];
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

describe(`doctor --client on Keycloak ${version} (cimd ${cimdOn ? 'on' : 'off'})`, () => {
  it('--client all: one verdict line per catalogued client, the matrix in --json, nothing left behind', async () => {
    const before = (await (await adminClient()).clients.find({ realm })).length;
    const started = Date.now();
    const { code, report } = await doctor(['--client', 'all']);
    const wall = Date.now() - started;
    expect(code).toBe(0);
    for (const client of CLIENT_CATALOGUE)
      expect(verdictOf(report, client.id)?.actual, client.id).toMatch(
        /^(works|works after .+|cannot on this Keycloak \(keycloak#\d+, [^)]+\).*) \[/,
      );
    expect(report.clients?.map((row) => row.client)).toEqual(CLIENT_CATALOGUE.map((client) => client.id));
    // Cursor registers with DCR only: its own body, sent live, is accepted by the realm apply made.
    expect(verdictOf(report, 'cursor')).toMatchObject({
      status: 'pass',
      actual: 'works [DCR; its registration sent live, the rest derived]',
    });
    const line = (id: string) => report.clients?.find((row) => row.client === id)?.line;
    if (cimdOn) {
      // Keycloak advertises CIMD in every realm; this one has no policy for the documents.
      expect(line('vscode')).toBe('works after apply --cimd');
      expect(line('claude-code')).toBe('works after apply --cimd');
      expect(verdictOf(report, 'vscode')).toMatchObject({
        status: 'warn',
        fix: expect.stringMatching(/ apply .*--cimd$/),
      });
      expect(line('chatgpt')).toMatch(/^cannot on this Keycloak \(keycloak#51039, no fixed version known\)/);
      if (olderThan(version, '26.8.0'))
        expect(line('claude-ai')).toMatch(/^cannot on this Keycloak \(keycloak#50362, fixed in 26\.8\.0\)/);
    } else {
      // No CIMD advertised: the clients that fall back to DCR register, and their bodies are accepted.
      for (const id of ['vscode', 'claude-code', 'claude-ai', 'chatgpt']) expect(line(id), id).toBe('works');
      expect(line('copilot-cli')).toBe('works after Keycloak runs with --features=cimd and apply --cimd');
    }
    // The SDKs add offline_access, which the AS metadata lists; their registration with it is accepted.
    expect(report.clients?.find((row) => row.client === 'sdk-python')?.signInScope).toBe('mcp:run offline_access');
    expect(line('sdk-python')).toBe('works');
    // Every registration was deleted again.
    expect((await (await adminClient()).clients.find({ realm })).length).toBe(before);
    process.stdout.write(`[client-verdicts] doctor --client all: ${wall} ms wall time\n`);
  });

  it('without --client: every client judged, one passed finding and the matrix (no warning for clients nobody named)', async () => {
    const { report } = await doctor([]);
    const all = report.checks.find((f) => f.id === 'clients.all');
    expect(all).toMatchObject({
      status: 'pass',
      actual: expect.stringMatching(new RegExp(`^${CLIENT_CATALOGUE.length} clients: `)),
    });
    expect(report.checks.filter((f) => f.id.startsWith('clients.') && f.id !== 'clients.all')).toEqual([]);
    expect(report.clients).toHaveLength(CLIENT_CATALOGUE.length);
  });

  it('an unknown client id is refused in one line, exit 64', async () => {
    const result = await runCli(['doctor', ...target, '--client', 'vscode,netscape']);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/^error: .*clients.*must be a client of the catalogue \(vscode, .*\) or all/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.runIf(cimdOn)(
    "apply --cimd --client zed: Zed's domain joins the CIMD policy, a second apply writes nothing, Zed works",
    async () => {
      const named = ['--cimd', '--client', 'zed,cursor'];
      const first = await runCli(['--json', 'apply', '--yes', ...target, ...named]);
      expect(first.code, first.stderr).toBe(0);
      const again = await runCli(['--json', 'apply', '--yes', ...target, ...named]);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ applied: [], requests: { writes: 0 } });
      const { report } = await doctor(named);
      expect(report.checks.find((f) => f.id === 'realm.cimd')).toMatchObject({
        status: 'pass',
        actual: expect.stringContaining('zed.dev'),
      });
      expect(report.clients?.map((row) => `${row.client}: ${row.line}`)).toEqual(['cursor: works', 'zed: works']);
    },
  );

  it('on a Trusted Hosts realm Cursor works after --trusted-host, and its line says so', async () => {
    // 192.0.2.1 (TEST-NET-1): a trusted host that is not this machine; Keycloak only compares it, nothing is sent there.
    const trusted = ['--dcr', 'trusted-hosts', '--trusted-host', '192.0.2.1'];
    const applied = await runCli(['apply', '--yes', ...target, ...trusted]);
    expect(applied.code, applied.stderr).toBe(0);
    const { report } = await doctor([...trusted, '--client', 'cursor']);
    expect(verdictOf(report, 'cursor')).toMatchObject({
      status: 'warn',
      actual:
        'works after apply --trusted-host <the host it registers from> [DCR; its registration sent live, the rest derived]',
      why: expect.stringContaining('rejected by "Trusted Hosts"'),
      fix: expect.stringMatching(
        /--dcr trusted-hosts --trusted-host 192\.0\.2\.1 --trusted-host '?<the host it registers from>'?$/,
      ),
    });
    expect(report.clients?.map((row) => row.client)).toEqual(['cursor']);
  });
});
