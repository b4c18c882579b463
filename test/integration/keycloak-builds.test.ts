/**
 * One Quarkus build per feature set (src/local/builds.ts), through the built CLI's `keycloak start|stop` on a
 * private cache (MCP_KEYCLOAK_CACHE: a copy of the distribution, so the shared one is never rebuilt) and a
 * private state dir: a first start with features A builds; a restart with A does not; a start with none builds
 * in a folder of its own; switching back to A finds A's build instead of rebuilding (which is what one shared
 * distribution folder did: every switch paid the build). A build shows in Keycloak's log as kc.sh's
 * "Updating the configuration" line, and as a new lib/quarkus/generated-bytecode.jar.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureDistribution, KEYCLOAK_VERSION } from '../../src/local/distribution.js';
import { freePort, run } from '../../src/local/process.js';
import { CLI } from '../support/keycloak.js';

/** What kc.sh prints when it runs Quarkus' build step (Build.java), in dev mode too. */
const BUILD_LINE = 'Updating the configuration and installing your custom providers';

let root: string;
let env: Record<string, string>;
let port: number;
let distributionFiles: string[];
const distribution = () => join(root, 'cache', `keycloak-${KEYCLOAK_VERSION}`);

/** Every file of the distribution outside data/ with its size and modification time. */
async function filesOf(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile() && !relative(folder, entry.parentPath).startsWith('data'));
  return Promise.all(
    files.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      const { size, mtimeMs } = await stat(path);
      return `${relative(folder, path)} ${size} ${mtimeMs}`;
    }),
  );
}

function cli(args: string[], timeout = 420_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Start {
  home: string;
  built: boolean;
  bytecodeChanged: number;
  seconds: number;
}

/** `keycloak start` with `features`, then `keycloak stop`: where it ran from, whether kc.sh built, how long it took. */
async function startAndStop(features: string): Promise<Start> {
  const started = Date.now();
  const result = await cli([
    'keycloak',
    'start',
    '--runtime',
    'distribution',
    '--port',
    `${port}`,
    '--features',
    features,
  ]);
  const seconds = (Date.now() - started) / 1000;
  expect(result.code, result.stderr).toBe(0);
  const state = JSON.parse(await readFile(join(root, 'state', 'keycloak.json'), 'utf8')) as { home: string };
  const log = await readFile(join(root, 'state', 'keycloak.log'), 'utf8');
  const bytecode = await stat(join(state.home, 'lib', 'quarkus', 'generated-bytecode.jar'));
  expect((await cli(['keycloak', 'stop'])).code).toBe(0);
  process.stdout.write(
    `[keycloak-builds] start with ${features}: ${seconds.toFixed(1)} s, ${log.includes(BUILD_LINE) ? 'built' : 'no build'}\n`,
  );
  return { home: state.home, built: log.includes(BUILD_LINE), bytecodeChanged: bytecode.mtimeMs, seconds };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-builds-'));
  // The cache layout ensureDistribution expects (keycloak-<version>/), copied: builds never touch the shared one.
  await mkdir(join(root, 'cache'));
  await run('cp', ['-r', await ensureDistribution(), distribution()]);
  distributionFiles = await filesOf(distribution());
  port = await freePort();
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    MCP_KEYCLOAK_CACHE: join(root, 'cache'),
    MCP_KEYCLOAK_STATE: join(root, 'state'),
    MCP_KEYCLOAK_RUNTIME: 'distribution',
  };
  if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;
}, 120_000);

afterAll(async () => {
  await cli(['keycloak', 'stop', '--delete-data']); // whatever a failed test left running
  await rm(root, { recursive: true, force: true });
});

it(
  'builds once per feature set: a restart and a switch back start from the earlier build',
  { timeout: 1_800_000 },
  async () => {
    const first = await startAndStop('resource-indicators');
    expect(first.built).toBe(true); // the marker is real: a first start with these features builds
    const restart = await startAndStop('resource-indicators');
    expect(restart).toMatchObject({ built: false, bytecodeChanged: first.bytecodeChanged });
    const other = await startAndStop('none');
    expect(other.built).toBe(true);
    // What one shared distribution folder got wrong: the switch back rebuilt what had been built before.
    const back = await startAndStop('resource-indicators');
    expect(back).toMatchObject({ built: false, bytecodeChanged: first.bytecodeChanged });

    expect(first.home).toContain(`keycloak-${KEYCLOAK_VERSION}.builds`);
    expect([restart.home, back.home]).toEqual([first.home, first.home]);
    expect(other.home).not.toBe(first.home);
    // The distribution in the cache is never started from, and nothing wrote through the links into its files.
    expect(await filesOf(distribution())).toEqual(distributionFiles);
  },
);
