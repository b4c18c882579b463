/**
 * doctor against hostile MCP servers (issue #19, "bounded against any server"): loopback servers started
 * here, the built CLI, the real Keycloak for everything Keycloak answers. A server that trickles its
 * headers cannot hold doctor past its deadline (6 × --timeout), with or without --e2e; a metadata
 * document past the cap stops being read with a message naming it, and memory stays flat; control
 * characters in the metadata reach the terminal as visible escapes. Wall times and peak memory are printed.
 */
import { execFile } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import {
  answeringServer,
  challengingServer,
  endlessDocument,
  trickleServer,
  type HostileServer,
} from '../support/hostile-server.js';

/** A realm that does not exist: the Keycloak checks still talk to the real Keycloak and report it missing. */
const realm = uniqueRealm('bounds');
/** The per-request timeout the runs use, and the deadline it sets. */
const TIMEOUT_S = 2;
const DEADLINE_MS = 6 * TIMEOUT_S * 1000;
/** Start-up and reporting around the deadline, on a machine shared with other test files. */
const SLACK_MS = 4000;
/** Prints the process's peak resident memory on stderr as it exits. */
const PEAK_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\npeak-rss-kb '+process.resourceUsage().maxRSS+'\\n'))`;

let hostile: HostileServer | undefined;
afterEach(async () => {
  await hostile?.close();
  hostile = undefined;
});
// doctor creates nothing; deleted all the same, should a future doctor --fix in here ever create it.
afterAll(() => deleteRealm(realm));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  peakRssMb: number;
}

/** `doctor` as a user runs it (the built binary, admin credentials in env), timed, with its peak memory. */
function doctor(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { url, adminUsername, adminPassword } = keycloak();
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', PEAK_RSS, CLI, 'doctor', '--realm', realm, '--timeout', String(TIMEOUT_S), ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          KEYCLOAK_URL: url,
          KEYCLOAK_ADMIN_USERNAME: adminUsername,
          KEYCLOAK_ADMIN_PASSWORD: adminPassword,
          ...env,
        },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code =
          typeof (error as { code?: unknown } | null)?.code === 'number'
            ? (error as { code: number }).code
            : error
              ? 1
              : 0;
        const peak = /peak-rss-kb (\d+)/.exec(stderr);
        resolve({ code, stdout, stderr, wallMs: Date.now() - started, peakRssMb: peak ? Number(peak[1]) / 1024 : NaN });
      },
    );
    child.stdin?.end();
  });
}

function figures(what: string, run: Run): void {
  console.log(
    `[bounds] ${what}: ${(run.wallMs / 1000).toFixed(1)} s wall time, ${run.peakRssMb.toFixed(0)} MB peak RSS, exit ${run.code}`,
  );
}

describe('a server that trickles its headers', () => {
  it('cannot hold doctor past its deadline: answers just under --timeout, then 503, so every read is retried', async () => {
    // Each read alone stays within --timeout; together they took 17 s before the deadline (3 PRM URLs × 3 tries).
    hostile = await trickleServer({ finishAfterMs: 1500 });
    const run = await doctor(['--resource', hostile.resource]);
    figures('trickle then 503, without --e2e', run);
    expect(run.code).toBe(1);
    expect(run.wallMs).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(run.stdout).toMatch(/doctor's deadline of 12 s \(6 × --timeout\) passed/);
    expect(run.stdout).toMatch(/check\(s\) not run: doctor's deadline/);
  }, 60_000);

  it('cannot hold doctor --e2e past its deadline: the MCP SDK client and the sign-in are bounded too', async () => {
    // Before, the e2e flow's SDK fetch had no timeout: undici's 300 s header timeout was the only bound.
    hostile = await trickleServer();
    const run = await doctor(['--e2e', '--resource', hostile.resource, '--test-user', 'alice'], {
      MCP_KEYCLOAK_TEST_USER_PASSWORD: 'not-used-the-server-never-answers',
    });
    figures('trickle forever, --e2e', run);
    expect(run.code).toBe(1);
    expect(run.wallMs).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(hostile.requests.some((r) => r.startsWith('POST /mcp'))).toBe(true);
    // The SDK's request was cut off by --timeout, and says so (before: 60 s, then "This operation was aborted").
    expect(run.stdout).toMatch(
      /MCP server challenges an unauthenticated request\n.*\n\s+actual: .*no answer within 2 s \(POST \/mcp\)/,
    );
  }, 60_000);
});

describe('a metadata document past the size cap', () => {
  it('is read up to 1 MiB only: doctor names the URL and the cap, and its memory stays flat', async () => {
    hostile = await challengingServer(endlessDocument(200 * 1024 * 1024));
    const run = await doctor(['--resource', hostile.resource]);
    figures('200 MB PRM body', run);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `the answer from ${hostile.origin}/metadata/prm is larger than 1 MiB; reading stopped at the cap`,
    );
    // A doctor run takes about 100 MB on its own; the 200 MB body took 256 MB before the cap (600 MB: 2.56 GB).
    expect(run.peakRssMb).toBeLessThan(180);
  }, 60_000);
});

describe('a Keycloak URL whose server answers without end', () => {
  it("is read up to 32 MiB only (Keycloak's own answers): doctor names the URL and the cap", async () => {
    hostile = await answeringServer(endlessDocument(200 * 1024 * 1024));
    const run = await doctor(['--keycloak-url', hostile.origin, '--resource', `${hostile.origin}/mcp`]);
    figures('200 MB answers at --keycloak-url', run);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${hostile.origin}/realms/${realm}/.well-known/openid-configuration is larger than 32 MiB`,
    );
    // Bounded by the cap: up to 32 MiB each for the discovery document and the admin login, read side by side (~210 MB seen).
    expect(run.peakRssMb).toBeLessThan(300);
  }, 60_000);
});

describe('control characters in the metadata', () => {
  const fake = '\u001b[2J\u001b[H\r✔ All checks passed: 30 passed, 0 warning(s), 0 failed\u0000';
  const link = (target: string, text: string) => `\u001b]8;;${target}\u0007${text}\u001b]8;;\u0007`;

  async function serveHostilePrm(): Promise<HostileServer> {
    return challengingServer((_request, response) => {
      const prm = {
        resource: `${hostile!.resource}${fake}`,
        authorization_servers: [link('https://evil.example/', `${keycloak().url}/realms/${realm}`)],
        scopes_supported: ['mcp:run\u009b2J', 'x\u202e'],
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(prm));
    });
  }

  it('reach the terminal as visible escapes, so the server can neither clear the screen nor fake a verdict', async () => {
    hostile = await serveHostilePrm();
    const run = await doctor(['--resource', hostile.resource]);
    expect(run.code).toBe(1);
    // Piped, doctor prints no colour: any control character in stdout came from the server.
    expect(run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(run.stdout).toContain('\\x1b[2J\\x1b[H\\r✔ All checks passed');
    expect(run.stdout).toContain('\\x1b]8;;https://evil.example/\\x07');
    expect(run.stdout).toContain('\\0');
    expect(run.stdout).not.toMatch(/^✔ All checks passed/m);
  }, 60_000);

  it('stay as they are in --json, escaped by JSON alone', async () => {
    hostile = await serveHostilePrm();
    const run = await doctor(['--json', '--resource', hostile.resource]);
    const report = JSON.parse(run.stdout) as { checks: { id: string; actual?: string }[] };
    const resource = report.checks.find((c) => c.id === 'prm.resource');
    expect(resource?.actual).toContain(fake);
  }, 60_000);

  it('reach an error line as visible escapes too (a page title quoted by "not Keycloak")', async () => {
    hostile = await answeringServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<title>Proxy${fake}</title>`),
    );
    const run = await runCli(['plan', '--realm', realm, '--keycloak-url', hostile.origin]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^error: .*page title "Proxy\\x1b\[2J\\x1b\[H ✔ All checks passed/);
    expect(run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  }, 60_000);
});
