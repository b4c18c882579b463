/**
 * The fresh-machine path: `init --yes` where nothing answers starts the local Keycloak from the server
 * distribution (a private copy, so the rebuild kc.sh does for dev-file never touches the one the
 * harness runs), sets up the realm and ends with a green doctor; then `keycloak status|start|stop`
 * find, report and stop exactly that process group. State and password live in a temporary state dir.
 * It starts with the experimental feature `resource-indicators` alone (MCP_KEYCLOAK_FEATURES, which init
 * honours like `keycloak start --features`); `apply --cimd` is then refused with the command that restarts
 * this Keycloak with `cimd` added, that command is run as printed, and the start command printed after
 * `stop` brings both features back.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../src/findings.js';
import { ensureDistribution } from '../../src/local/distribution.js';
import { freePort, run } from '../../src/local/process.js';
import { CLI } from '../support/keycloak.js';

let env: Record<string, string>;
let root: string;
let stateDir: string;
let port: number;
let project: string;

function cli(
  args: string[],
  options: { timeout?: number; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: options.env ?? env, timeout: options.timeout ?? 120_000, cwd: options.cwd ?? root },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const password = async () => (await readFile(join(stateDir, 'admin-password'), 'utf8')).trim();

/** The environment without MCP_KEYCLOAK_FEATURES: a command that asks for no features. */
const withoutFeatures = () =>
  Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'MCP_KEYCLOAK_FEATURES'));

/** An admin token of the running Keycloak, from the password `keycloak start` generated. */
async function adminToken(): Promise<string> {
  const token = await fetch(`http://127.0.0.1:${port}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: 'admin',
      password: await password(),
    }),
  });
  return ((await token.json()) as { access_token: string }).access_token;
}

/** The names of the client policies of init's realm. */
async function clientPolicyNames(): Promise<string[]> {
  const answer = await fetch(`http://127.0.0.1:${port}/admin/realms/mcp-demo/client-policies/policies`, {
    headers: { authorization: `Bearer ${await adminToken()}` },
  });
  return (((await answer.json()) as { policies?: { name: string }[] }).policies ?? []).map((policy) => policy.name);
}

/** What the running Keycloak says about its features: serverinfo's CIMD and RESOURCE_INDICATORS, and discovery's CIMD flag. */
async function featuresOn(): Promise<{ cimd?: boolean; resourceIndicators?: boolean; discovery?: boolean }> {
  const url = `http://127.0.0.1:${port}`;
  const accessToken = await adminToken();
  const info = (await (
    await fetch(`${url}/admin/serverinfo`, { headers: { authorization: `Bearer ${accessToken}` } })
  ).json()) as {
    features: { name: string; enabled: boolean }[];
  };
  const enabled = (name: string) => info.features.find((feature) => feature.name === name)?.enabled;
  const discovery = (await (await fetch(`${url}/realms/master/.well-known/openid-configuration`)).json()) as {
    client_id_metadata_document_supported?: boolean;
  };
  return {
    cimd: enabled('CIMD'),
    resourceIndicators: enabled('RESOURCE_INDICATORS'),
    discovery: discovery.client_id_metadata_document_supported,
  };
}

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
    // init has no --features flag: it starts Keycloak with the variable's features, as `keycloak start` does.
    MCP_KEYCLOAK_FEATURES: 'resource-indicators',
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

it(
  'init --yes with nothing answering starts Keycloak, sets up the realm and ends green, never printing the password',
  { timeout: 400_000 },
  async () => {
    project = join(root, 'project');
    await mkdir(project);
    const resource = `http://127.0.0.1:${await freePort()}/mcp`;
    const started = Date.now();
    const result = await cli(['init', '--yes', '--keycloak-url', `http://localhost:${port}`, '--resource', resource], {
      timeout: 390_000,
      cwd: project,
    });
    process.stdout.write(
      `[keycloak-local] init --yes from nothing (fresh distribution copy, includes Keycloak's build): ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    expect(result.code, result.stderr + result.stdout.slice(-2000)).toBe(0);
    expect(result.stdout).toContain(`Starting a local Keycloak on port ${port}`);
    expect(result.stdout + result.stderr).toMatch(
      /starting Keycloak \S+ from \S+ with --features=resource-indicators \(the first start builds it/,
    );
    // Green: no failure (a healthy default setup has no warning either since Inspector 2.x is probed as it registers).
    expect(result.stdout).toMatch(/All checks passed|No failures/);
    expect(result.stdout).toContain(`Done in`);

    const passwordFile = join(stateDir, 'admin-password');
    expect(result.stdout).toContain(passwordFile);
    const secret = await password();
    expect(secret.length).toBeGreaterThanOrEqual(20);
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(secret);
    for (const file of ['mcp-keycloak.json', '.env', '.vscode/mcp.json'])
      expect(await readFile(join(project, file), 'utf8')).not.toContain(secret);
  },
);

it('runs with the feature it was asked for, and only that one (serverinfo, discovery)', async () => {
  expect(await featuresOn()).toEqual({ cimd: false, resourceIndicators: true, discovery: undefined });
});

it('lets the maintenance commands in that folder use its password without anyone copying it', async () => {
  const exported = await cli(['export'], { cwd: project });
  expect(exported.code, exported.stderr).toBe(0);
  expect((JSON.parse(exported.stdout) as { realm: string }).realm).toBe('mcp-demo');
  expect(exported.stdout).not.toContain(await password());
});

it('reports it running (without the password in --json), and a second start finds it', async () => {
  const status = await cli(['--json', 'keycloak', 'status']);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({
    status: 'running',
    url: `http://127.0.0.1:${port}`,
    runtime: 'distribution',
    features: ['resource-indicators'],
  });
  expect(status.stdout).not.toContain(await password());
  const text = await cli(['keycloak', 'status']);
  expect(text.stdout.split('\n')[1]).toBe('  features:       resource-indicators');
  const again = await cli(['keycloak', 'start', '--port', String(port)]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('already runs');
  expect(again.stdout).toContain('  features:       resource-indicators');
  expect(again.stdout).not.toContain(await password());
  // Without features asked for (no flag, no variable), start has no opinion about them.
  expect((await cli(['keycloak', 'start', '--port', String(port)], { env: withoutFeatures() })).code).toBe(0);
});

it('refuses to start it with other features while it runs, and names the command that restarts it with them', async () => {
  const result = await cli(['keycloak', 'start', '--port', String(port), '--features', 'cimd,resource-indicators']);
  expect(result.code).toBe(64);
  // One line; the program spelled as elsewhere (node <bin> here, mcp-keycloak after a developer's npm link).
  expect(result.stderr).toMatch(
    new RegExp(
      `^error: The local Keycloak at http://127\\.0\\.0\\.1:${port} runs with features resource-indicators, not cimd, resource-indicators: ` +
        `restart it with them: (node \\S+|mcp-keycloak) keycloak stop && \\1 keycloak start --port ${port} --runtime distribution --features cimd,resource-indicators\n$`,
    ),
  );
  expect(await featuresOn()).toMatchObject({ cimd: false, resourceIndicators: true }); // untouched
});

it(
  'apply --cimd on it is refused with the command that restarts it with cimd added; run as printed, that command makes apply --cimd work',
  { timeout: 300_000 },
  async () => {
    const refused = await cli(['apply', '--yes', '--cimd'], { cwd: project });
    expect(refused.code).toBe(1);
    const line = new RegExp(
      `^error: cimd \\(--cimd\\) needs Keycloak's experimental "cimd" feature, which the Keycloak \\S+ at http://localhost:${port} runs without: ` +
        `restart it with the feature: ((?:node \\S+|mcp-keycloak) keycloak stop && (?:node \\S+|mcp-keycloak) keycloak start --port ${port} --runtime distribution --features resource-indicators,cimd)\\. Nothing was changed\\.\n$`,
    ).exec(refused.stderr);
    expect(line, refused.stderr).not.toBeNull();
    // Nothing was written: the realm has no client policy of ours.
    expect(await clientPolicyNames()).not.toContain('mcp-keycloak-cimd');
    // doctor --cimd says the same: realm.cimd is not --fix-able here (apply --cimd would be refused); its fix starts with that restart.
    const doctor = await cli(['--json', 'doctor', '--cimd'], { cwd: project });
    const cimd = (JSON.parse(doctor.stdout) as { checks: Finding[] }).checks.find((f) => f.id === 'realm.cimd');
    expect(cimd).toMatchObject({ status: 'fail', fixable: false, fix: expect.stringMatching(/ apply .*--cimd/) });
    expect(cimd?.fix?.startsWith(`Restart Keycloak with the feature: ${line![1]}; then `), cimd?.fix).toBe(true);

    // The printed command, as a user would paste it (with MCP_KEYCLOAK_FEATURES still set: the flag wins).
    const started = Date.now();
    const restarted = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('sh', ['-c', line![1]!], { env, cwd: project, timeout: 290_000 }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stderr }),
      );
    });
    process.stdout.write(`[keycloak-local] restart with cimd added: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(await featuresOn()).toEqual({ cimd: true, resourceIndicators: true, discovery: true });

    const applied = await cli(['apply', '--yes', '--cimd'], { cwd: project });
    expect(applied.code, applied.stderr).toBe(0);
    expect(await clientPolicyNames()).toContain('mcp-keycloak-cimd');
  },
);

it(
  'stops exactly the process it started; status then says stopped, where the data is and how to start it',
  { timeout: 60_000 },
  async () => {
    const { pid } = JSON.parse(await readFile(join(stateDir, 'keycloak.json'), 'utf8')) as { pid: number };
    const result = await cli(['keycloak', 'stop']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Stopped the Keycloak at http://127.0.0.1:${port}`);
    expect(result.stdout).toContain(`Its data is kept in ${join(stateDir, 'keycloak-data')}`);
    expect(() => process.kill(pid, 0)).toThrow();
    const answered = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    expect(answered).toBe(false);

    const status = await cli(['keycloak', 'status']);
    expect(status.code).toBe(3); // ExitCode.notRunning, as for "not started"
    expect(status.stdout).toContain(`Keycloak at http://127.0.0.1:${port}: stopped`);
    expect(status.stdout).toContain(join(stateDir, 'keycloak-data'));
    expect(status.stdout).toMatch(
      new RegExp(
        `start it again: .*keycloak start --port ${port} --runtime distribution --features resource-indicators,cimd$`,
        'm',
      ),
    );
    expect(status.stdout).toContain('  features:       resource-indicators, cimd\n');
    const json = await cli(['--json', 'keycloak', 'status']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'stopped',
      port,
      dataDir: join(stateDir, 'keycloak-data'),
      features: ['resource-indicators', 'cimd'],
    });
    expect((JSON.parse(json.stdout) as { pid?: number }).pid).toBeUndefined();
  },
);

it(
  'the start command status prints brings it back with its realm and features; stop --delete-data forgets it',
  { timeout: 300_000 },
  async () => {
    const status = await cli(['keycloak', 'status']);
    const again = /start it again: (.+)$/m.exec(status.stdout)?.[1];
    expect(again).toBeTruthy();
    const started = Date.now();
    const restarted = await new Promise<{ code: number; stderr: string }>((resolve) => {
      // Without MCP_KEYCLOAK_FEATURES: the feature must come back from the printed command itself.
      execFile(
        'sh',
        ['-c', again!],
        { env: withoutFeatures(), cwd: root, timeout: 290_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stderr }),
      );
    });
    process.stdout.write(`[keycloak-local] restart from kept data: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    expect(restarted.code, restarted.stderr).toBe(0);
    const exported = await cli(['export'], { cwd: project });
    expect(exported.code, exported.stderr).toBe(0);
    expect((JSON.parse(exported.stdout) as { realm: string }).realm).toBe('mcp-demo');
    expect(await featuresOn()).toEqual({ cimd: true, resourceIndicators: true, discovery: true });

    const forgotten = await cli(['keycloak', 'stop', '--delete-data'], { timeout: 60_000 });
    expect(forgotten.code).toBe(0);
    expect(forgotten.stdout).toContain('Deleted its data and admin password.');
    expect(existsSync(join(stateDir, 'keycloak-data')) || existsSync(join(stateDir, 'admin-password'))).toBe(false);
    const after = await cli(['keycloak', 'status']);
    expect(after.code).toBe(3);
    expect(after.stdout).toContain('No local Keycloak was started by mcp-keycloak');
  },
);

it('keycloak start on a port taken by another program is one clear line', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = (blocker.address() as { port: number }).port;
  const result = await cli(['keycloak', 'start', '--port', String(taken)]);
  blocker.close();
  expect(result.code).toBe(64);
  expect(result.stderr).toMatch(new RegExp(`^error: Port ${taken} is in use by another program`));
});
