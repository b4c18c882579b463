/**
 * The fresh-machine path: `init --yes` where nothing answers starts the local Keycloak from the server
 * distribution (a private copy, so the rebuild kc.sh does for dev-file never touches the one the
 * harness runs), sets up the realm and ends with a green doctor; then `keycloak status|start|stop`
 * find, report and stop exactly that process group. State and password live in a temporary state dir.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
let project: string;

function cli(args: string[], options: { timeout?: number; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: options.timeout ?? 120_000, cwd: options.cwd ?? root }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const password = async () => (await readFile(join(stateDir, 'admin-password'), 'utf8')).trim();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-local-'));
  const home = join(root, 'keycloak');
  await run('cp', ['-r', await ensureDistribution(), home]);
  stateDir = join(root, 'state');
  port = await freePort();
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KEYCLOAK_HOME: home,
    MCP_KEYCLOAK_STATE: stateDir,
    // The distribution path even where a Docker engine answers (CI runners).
    MCP_KEYCLOAK_RUNTIME: 'distribution',
  };
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

it('init --yes with nothing answering starts Keycloak, sets up the realm and ends green, never printing the password', { timeout: 400_000 }, async () => {
  project = join(root, 'project');
  await mkdir(project);
  const resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const started = Date.now();
  const result = await cli(['init', '--yes', '--keycloak-url', `http://localhost:${port}`, '--resource', resource], { timeout: 390_000, cwd: project });
  process.stdout.write(`[keycloak-local] init --yes from nothing (fresh distribution copy, includes Keycloak's build): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  expect(result.code, result.stderr + result.stdout.slice(-2000)).toBe(0);
  expect(result.stdout).toContain(`Starting a local Keycloak on port ${port}`);
  // Green: no failure (a healthy default setup has no warning either since Inspector 2.x is probed as it registers).
  expect(result.stdout).toMatch(/All checks passed|No failures/);
  expect(result.stdout).toContain(`Done in`);

  const passwordFile = join(stateDir, 'admin-password');
  expect(result.stdout).toContain(passwordFile);
  const secret = await password();
  expect(secret.length).toBeGreaterThanOrEqual(20);
  expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
  expect(result.stdout + result.stderr).not.toContain(secret);
  for (const file of ['mcp-keycloak.json', '.env', '.vscode/mcp.json']) expect(await readFile(join(project, file), 'utf8')).not.toContain(secret);
});

it('lets the maintenance commands in that folder use its password without anyone copying it', async () => {
  const exported = await cli(['export'], { cwd: project });
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout).realm).toBe('mcp-demo');
  expect(exported.stdout).not.toContain(await password());
});

it('reports it running (without the password in --json), and a second start finds it', async () => {
  const status = await cli(['--json', 'keycloak', 'status']);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ status: 'running', url: `http://127.0.0.1:${port}`, runtime: 'distribution' });
  expect(status.stdout).not.toContain(await password());
  const again = await cli(['keycloak', 'start', '--port', String(port)]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('already runs');
  expect(again.stdout).not.toContain(await password());
});

it('stops exactly the process it started; status then says stopped, where the data is and how to start it', { timeout: 60_000 }, async () => {
  const { pid } = JSON.parse(await readFile(join(stateDir, 'keycloak.json'), 'utf8')) as { pid: number };
  const result = await cli(['keycloak', 'stop']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`Stopped the Keycloak at http://127.0.0.1:${port}`);
  expect(result.stdout).toContain(`Its data is kept in ${join(stateDir, 'keycloak-data')}`);
  expect(() => process.kill(pid, 0)).toThrow();
  const answered = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
  expect(answered).toBe(false);

  const status = await cli(['keycloak', 'status']);
  expect(status.code).toBe(3); // ExitCode.notRunning, as for "not started"
  expect(status.stdout).toContain(`Keycloak at http://127.0.0.1:${port}: stopped`);
  expect(status.stdout).toContain(join(stateDir, 'keycloak-data'));
  expect(status.stdout).toMatch(new RegExp(`start it again: .*keycloak start --port ${port} --runtime distribution`));
  const json = await cli(['--json', 'keycloak', 'status']);
  expect(json.code).toBe(3);
  expect(JSON.parse(json.stdout)).toMatchObject({ status: 'stopped', port, dataDir: join(stateDir, 'keycloak-data') });
  expect(JSON.parse(json.stdout).pid).toBeUndefined();
});

it('the start command status prints brings it back with its realm; stop --delete-data forgets it', { timeout: 300_000 }, async () => {
  const status = await cli(['keycloak', 'status']);
  const again = /start it again: (.+)$/m.exec(status.stdout)?.[1];
  expect(again).toBeTruthy();
  const started = Date.now();
  const restarted = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile('sh', ['-c', again!], { env, cwd: root, timeout: 290_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stderr }),
    );
  });
  process.stdout.write(`[keycloak-local] restart from kept data: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  expect(restarted.code, restarted.stderr).toBe(0);
  const exported = await cli(['export'], { cwd: project });
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout).realm).toBe('mcp-demo');

  const forgotten = await cli(['keycloak', 'stop', '--delete-data'], { timeout: 60_000 });
  expect(forgotten.code).toBe(0);
  expect(forgotten.stdout).toContain('Deleted its data and admin password.');
  expect(existsSync(join(stateDir, 'keycloak-data')) || existsSync(join(stateDir, 'admin-password'))).toBe(false);
  const after = await cli(['keycloak', 'status']);
  expect(after.code).toBe(3);
  expect(after.stdout).toContain('No local Keycloak was started by mcp-keycloak');
});

it('keycloak start on a port taken by another program is one clear line', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = (blocker.address() as { port: number }).port;
  const result = await cli(['keycloak', 'start', '--port', String(taken)]);
  blocker.close();
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(new RegExp(`^error: Port ${taken} is in use by another program`));
});
