/**
 * `keycloak start|status|stop` options and Ctrl-C, without starting a real Keycloak (the real start,
 * status and stop are in keycloak-local.test.ts): each option changes what happens, an interrupted
 * start stops exactly what it spawned and ends with exit code 130, and printed commands are spelled
 * the way the program was run. The "Keycloak" spawned here is a stand-in kc.sh that never answers:
 * the test is about process handling, not about Keycloak's API.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { CLI } from '../support/keycloak.js';
import { PATH_WITHOUT_THIS_CLI } from '../support/path.js';

/** The CLI under test is not the `mcp-keycloak` on PATH (even after a developer's `npm link`): it must print `node <path>`. */
const PATH = PATH_WITHOUT_THIS_CLI;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-kc-cli-'));
});

/** A fresh state dir, no Docker engine (DOCKER_HOST points nowhere) and no Java unless `java` is true. */
async function environment(name: string, java = false): Promise<Record<string, string>> {
  const dir = join(root, name);
  await mkdir(dir);
  const env: Record<string, string> = {
    PATH,
    HOME: process.env.HOME ?? '',
    MCP_KEYCLOAK_STATE: join(dir, 'state'),
    DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
  };
  if (!java) env.JAVA_HOME = join(dir, 'no-java');
  else if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;
  return env;
}

function cli(
  args: string[],
  env: Record<string, string>,
  command = process.execPath,
  prefix = [CLI],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, [...prefix, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error
        ? typeof (error as { code?: unknown }).code === 'number'
          ? (error as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('keycloak start --runtime', () => {
  it('docker: says no Docker engine answers instead of falling back', async () => {
    const result = await cli(
      ['keycloak', 'start', '--runtime', 'docker', '--port', String(await freePort())],
      await environment('docker'),
    );
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/^error: No Docker engine answers/);
  });

  it('auto (the default) falls back to the distribution when no engine answers, which needs Java', async () => {
    const result = await cli(['keycloak', 'start', '--port', String(await freePort())], await environment('auto'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Java was not found/);
  });

  it('rejects a runtime or port that does not exist', async () => {
    const env = await environment('bad');
    const runtime = await cli(['keycloak', 'start', '--runtime', 'podman'], env);
    expect(runtime.code).toBe(64);
    expect(runtime.stderr).toContain("error: option '--runtime <runtime>' argument 'podman' is invalid");
    const port = await cli(['keycloak', 'start', '--port', '70000'], env);
    expect(port.code).toBe(64);
    expect(port.stderr).toMatch(/^error: --port 70000: must be a TCP port/);
  });
});

describe('keycloak start --features', () => {
  it('refuses a malformed list from the flag or MCP_KEYCLOAK_FEATURES with one line, before anything starts', async () => {
    const env = await environment('bad-features');
    const flag = await cli(['keycloak', 'start', '--features', 'cimd;resource-indicators'], env);
    expect(flag.code).toBe(64);
    expect(flag.stderr).toBe(
      'error: --features "cimd;resource-indicators": "cimd;resource-indicators" is not a Keycloak feature name; give comma-separated names of letters, digits, - and _ (optionally :v1), e.g. cimd,resource-indicators, or none.\n',
    );
    const variable = await cli(['keycloak', 'start'], { ...env, MCP_KEYCLOAK_FEATURES: 'cimd,,dpop' });
    expect(variable.code).toBe(64);
    expect(variable.stderr).toMatch(
      /^error: MCP_KEYCLOAK_FEATURES "cimd,,dpop": an empty name is not a Keycloak feature name; [^\n]+\n$/,
    );
    expect(existsSync(env.MCP_KEYCLOAK_STATE!)).toBe(false);
  });

  it(
    'passes them to kc.sh, records and shows them, and refuses other features while it runs, naming the restart',
    { timeout: 60_000 },
    async () => {
      const env = await environment('features', true);
      // A stand-in distribution: kc.sh records its arguments and never answers; it stays the group's
      // leader (no exec), so `ps` shows kc.sh and status counts it as a Keycloak that is starting.
      const home = join(root, 'features', 'keycloak');
      await mkdir(join(home, 'bin'), { recursive: true });
      await writeFile(join(home, 'bin', 'kc.sh'), `#!/bin/sh\necho "$@" > "${join(home, 'args')}"\nsleep 300\n`);
      await chmod(join(home, 'bin', 'kc.sh'), 0o755);
      const port = await freePort();
      const withHome = { ...env, KEYCLOAK_HOME: home };
      const child = spawn(
        process.execPath,
        [
          CLI,
          'keycloak',
          'start',
          '--runtime',
          'distribution',
          '--port',
          String(port),
          '--features',
          'cimd,resource-indicators',
        ],
        {
          env: withHome,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const stateFile = join(env.MCP_KEYCLOAK_STATE!, 'keycloak.json');
        const deadline = Date.now() + 30_000;
        while (!(existsSync(stateFile) && existsSync(join(home, 'args'))) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        expect((await readFile(join(home, 'args'), 'utf8')).trim().split(' ')).toContain(
          '--features=cimd,resource-indicators',
        );
        expect((JSON.parse(await readFile(stateFile, 'utf8')) as { features: string[] }).features).toEqual([
          'cimd',
          'resource-indicators',
        ]);
        expect(stderr).toContain('with --features=cimd,resource-indicators (the first start builds it');

        const status = await cli(['keycloak', 'status'], withHome);
        expect(status.code).toBe(3);
        expect(status.stdout).toMatch(
          new RegExp(
            `^Keycloak at http://127\\.0\\.0\\.1:${port}: starting \\(pid \\d+, since .+\\)\\.\n  features:       cimd, resource-indicators\n`,
          ),
        );
        const json = await cli(['--json', 'keycloak', 'status'], withHome);
        expect(JSON.parse(json.stdout)).toMatchObject({
          status: 'starting',
          port,
          features: ['cimd', 'resource-indicators'],
        });

        const other = await cli(['keycloak', 'start', '--port', String(port), '--features', 'cimd'], withHome);
        expect(other.code).toBe(64);
        expect(other.stderr).toBe(
          `error: The local Keycloak at http://127.0.0.1:${port} runs with features cimd, resource-indicators, not cimd: ` +
            `restart it with them: node ${CLI} keycloak stop && node ${CLI} keycloak start --port ${port} --runtime distribution --features cimd\n`,
        );
        const none = await cli(['keycloak', 'start', '--port', String(port)], {
          ...withHome,
          MCP_KEYCLOAK_FEATURES: 'none',
        });
        expect(none.code).toBe(64);
        expect(none.stderr).toContain('runs with features cimd, resource-indicators, not none: restart it with them: ');
        expect(none.stderr).toMatch(/keycloak start --port \d+ --runtime distribution\n$/);
        // The config file's keycloakFeatures decide when neither --features nor MCP_KEYCLOAK_FEATURES does.
        const configFile = join(root, 'features', 'mcp-keycloak.json');
        await writeFile(configFile, JSON.stringify({ keycloakFeatures: ['cimd'] }));
        const fromFile = await cli(['keycloak', 'start', '--port', String(port)], {
          ...withHome,
          MCP_KEYCLOAK_CONFIG: configFile,
        });
        expect(fromFile.code).toBe(64);
        expect(fromFile.stderr).toContain(
          'runs with features cimd, resource-indicators, not cimd: restart it with them: ',
        );
        await writeFile(configFile, JSON.stringify({ keycloakFeatures: ['cimd;x'] }));
        const badFile = await cli(['keycloak', 'start', '--port', String(port)], {
          ...withHome,
          MCP_KEYCLOAK_CONFIG: configFile,
        });
        expect(badFile.code).toBe(64);
        expect(badFile.stderr).toMatch(/^error: .*keycloakFeatures.*must be a Keycloak feature name/);
      } finally {
        child.kill('SIGINT');
        expect(await exited).toBe(130);
      }
    },
  );
});

describe('Ctrl-C while keycloak start waits for Keycloak', () => {
  it('stops the process group it spawned, forgets it, and exits 130', { timeout: 60_000 }, async () => {
    const env = await environment('interrupt', true);
    // A stand-in distribution: kc.sh records its arguments and never answers.
    const home = join(root, 'interrupt', 'keycloak');
    await mkdir(join(home, 'bin'), { recursive: true });
    await writeFile(join(home, 'bin', 'kc.sh'), `#!/bin/sh\necho "$@" > "${join(home, 'args')}"\nexec sleep 300\n`);
    await chmod(join(home, 'bin', 'kc.sh'), 0o755);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [CLI, 'keycloak', 'start', '--runtime', 'distribution', '--port', String(port)],
      {
        env: { ...env, KEYCLOAK_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Wait (by polling, not a fixed sleep) until kc.sh runs and its pid is recorded.
    const stateFile = join(env.MCP_KEYCLOAK_STATE!, 'keycloak.json');
    const deadline = Date.now() + 30_000;
    while (!(existsSync(stateFile) && existsSync(join(home, 'args'))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const { pid } = JSON.parse(await readFile(stateFile, 'utf8')) as { pid: number };
    expect(await readFile(join(home, 'args'), 'utf8')).toContain(`--http-port=${port}`);

    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('error: Interrupted');
    expect(() => process.kill(pid, 0)).toThrow(); // the whole group is gone, not orphaned
    expect(existsSync(stateFile)).toBe(false);
  });
});

describe('printed commands', () => {
  it('say node and the absolute bin path when this program is not on PATH', async () => {
    const result = await cli(['keycloak', 'status'], await environment('nolink'));
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`Start one with: node ${CLI} keycloak start`);
  });

  it('say mcp-keycloak when PATH runs this very program (as after npm link or a global install)', async () => {
    const env = await environment('link');
    const bin = join(root, 'link', 'bin');
    await mkdir(bin);
    await symlink(CLI, join(bin, 'mcp-keycloak'));
    const result = await cli(
      ['keycloak', 'status'],
      { ...env, PATH: `${bin}${delimiter}${env.PATH}` },
      join(bin, 'mcp-keycloak'),
      [],
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('Start one with: mcp-keycloak keycloak start');
  });

  it('say npx mcp-keycloak under npx', async () => {
    const result = await cli(['keycloak', 'status'], { ...(await environment('npx')), npm_command: 'exec' });
    expect(result.stdout).toContain('Start one with: npx mcp-keycloak keycloak start');
  });
});

describe('keycloak status of a stopped Keycloak', () => {
  it('says "stopped since" the time keycloak stop recorded, with exit code 3', async () => {
    const env = await environment('stopped');
    await mkdir(env.MCP_KEYCLOAK_STATE!, { recursive: true });
    const state = {
      formatVersion: 1,
      runtime: 'distribution',
      url: 'http://127.0.0.1:18999',
      port: 18999,
      pid: 2 ** 22 + 1,
      dataDir: join(env.MCP_KEYCLOAK_STATE!, 'keycloak-data'),
      logFile: join(env.MCP_KEYCLOAK_STATE!, 'keycloak.log'),
      adminUsername: 'admin',
      version: '26.7.3',
      startedAt: '2026-11-24T08:40:00.000Z',
      stoppedAt: '2026-11-24T08:45:30.236Z',
    };
    await writeFile(join(env.MCP_KEYCLOAK_STATE!, 'keycloak.json'), JSON.stringify(state));
    const result = await cli(['keycloak', 'status'], env);
    expect(result.code).toBe(3);
    expect(result.stdout.split('\n')[0]).toBe(
      'Keycloak at http://127.0.0.1:18999: stopped since 2026-11-24T08:45:30.236Z.',
    );
  });
});
