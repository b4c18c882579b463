/**
 * `keycloak start|status|stop` on the distribution path: a real Keycloak from the server distribution
 * (a private copy, so the rebuild kc.sh does for dev-file never touches the one the harness runs),
 * state and password in a temporary state directory, stopped by its own process group.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureDistribution } from '../../src/local/distribution.js';
import { freePort, run } from '../../src/local/process.js';
import { CLI } from '../support/keycloak.js';

let env: Record<string, string>;
let root: string;
let stateDir: string;
let port: number;

function cli(args: string[], timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-local-'));
  const home = join(root, 'keycloak');
  await run('cp', ['-r', await ensureDistribution(), home]);
  stateDir = join(root, 'state');
  port = await freePort();
  env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KEYCLOAK_HOME: home, MCP_KEYCLOAK_STATE: stateDir };
  if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;
}, 120_000);

afterAll(async () => {
  await cli(['keycloak', 'stop', '--delete-data']); // whatever a failed test left running
  await rm(root, { recursive: true, force: true }); // the 190 MB copy
});

it('reports that nothing runs before start', async () => {
  const result = await cli(['keycloak', 'status']);
  expect(result.code).toBe(3);
  expect(result.stdout).toContain('No local Keycloak was started by mcp-keycloak');
});

it('starts Keycloak, keeps the generated admin password in a 0600 file and never prints it', { timeout: 330_000 }, async () => {
  const started = Date.now();
  const result = await cli(['keycloak', 'start', '--port', String(port), '--runtime', 'distribution'], 320_000);
  expect(result.code, result.stderr).toBe(0);
  process.stdout.write(`[keycloak-local] keycloak start (distribution, first start of a fresh copy): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  expect(result.stdout).toContain(`runs at http://127.0.0.1:${port}`);
  const passwordFile = join(stateDir, 'admin-password');
  expect(result.stdout).toContain(passwordFile);
  const password = (await readFile(passwordFile, 'utf8')).trim();
  expect(password.length).toBeGreaterThanOrEqual(20);
  expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
  expect(result.stdout + result.stderr).not.toContain(password);

  // The password works: the bootstrap admin can get a token.
  const token = await fetch(`http://127.0.0.1:${port}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password }),
  });
  expect(token.status).toBe(200);
});

it('reports it running (without the password in --json), and a second start finds it', async () => {
  const status = await cli(['--json', 'keycloak', 'status']);
  expect(status.code).toBe(0);
  const report = JSON.parse(status.stdout);
  expect(report).toMatchObject({ status: 'running', url: `http://127.0.0.1:${port}`, runtime: 'distribution' });
  expect(status.stdout).not.toContain((await readFile(join(stateDir, 'admin-password'), 'utf8')).trim());
  const again = await cli(['keycloak', 'start', '--port', String(port)]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('already runs');
});

it('stops exactly the process it started', { timeout: 60_000 }, async () => {
  const { pid } = JSON.parse(await readFile(join(stateDir, 'keycloak.json'), 'utf8')) as { pid: number };
  const result = await cli(['keycloak', 'stop']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`Stopped the Keycloak at http://127.0.0.1:${port}`);
  expect(() => process.kill(pid, 0)).toThrow();
  const status = await cli(['keycloak', 'status']);
  expect(status.code).toBe(3);
  const answered = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
  expect(answered).toBe(false);
});
