/**
 * `keycloak start --keycloak-version`: the version reaches the download and the start, a version the
 * Maven repository does not serve is one line and exit code 2, a malformed one is refused before any
 * request. The repository is a loopback stand-in (MCP_KEYCLOAK_MAVEN_REPO) serving one fake
 * distribution whose kc.sh records how it was started and exits: the test is about which Keycloak is
 * fetched and run, not about Keycloak's API (the real versions run through the harness, KEYCLOAK_VERSION).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeycloak } from '../../src/local/launcher.js';
import { freePort, run } from '../../src/local/process.js';
import { CLI } from '../support/keycloak.js';

const served = '99.0.3-test';
const distPath = (version: string) =>
  `/org/keycloak/keycloak-quarkus-dist/${version}/keycloak-quarkus-dist-${version}.tar.gz`;
let root: string;
let server: Server;
let repo: string;
let requested: string[] = [];

/** A distribution whose kc.sh writes its arguments and environment next to itself, then fails. */
async function fakeDistribution(dir: string, name: string): Promise<string> {
  const home = join(dir, name);
  await mkdir(join(home, 'bin'), { recursive: true });
  await writeFile(
    join(home, 'bin', 'kc.sh'),
    '#!/bin/sh\nhere="$(dirname "$0")/.."\necho "$@" > "$here/args"\nenv > "$here/env"\nexit 1\n',
    { mode: 0o755 },
  );
  return home;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-kc-version-'));
  const build = join(root, 'build');
  await fakeDistribution(build, `keycloak-${served}`);
  await run('tar', ['-czf', join(build, 'dist.tar.gz'), '-C', build, `keycloak-${served}`]);
  const archive = await readFile(join(build, 'dist.tar.gz'));
  const checksum = createHash('sha512').update(archive).digest('hex');
  server = createServer((req, res) => {
    requested.push(`${req.method} ${req.url}`);
    if (req.url === distPath(served))
      res.writeHead(200, { 'content-length': archive.length }).end(req.method === 'HEAD' ? undefined : archive);
    else if (req.url === `${distPath(served)}.sha512`) res.end(`${checksum}\n`);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  repo = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A fresh state dir and cache, the loopback repository, no Docker engine; Java as the machine has it. */
async function environment(name: string): Promise<Record<string, string>> {
  const dir = join(root, name);
  await mkdir(dir);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    MCP_KEYCLOAK_STATE: join(dir, 'state'),
    MCP_KEYCLOAK_CACHE: join(dir, 'cache'),
    MCP_KEYCLOAK_MAVEN_REPO: repo,
    DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
  };
  if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;
  return env;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error
        ? typeof (error as { code?: unknown }).code === 'number'
          ? (error as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('keycloak start --keycloak-version', () => {
  it('downloads and starts that version, and names it while doing so', async () => {
    const env = await environment('served');
    const port = await freePort();
    const result = await cli(
      ['keycloak', 'start', '--runtime', 'distribution', '--port', String(port), '--keycloak-version', served],
      env,
    );
    // It runs from the build folder for its database kind and features, beside the cached distribution (builds.ts).
    const builds = join(env.MCP_KEYCLOAK_CACHE!, `keycloak-${served}.builds`);
    const [folder] = existsSync(builds) ? readdirSync(builds).filter((name) => !name.startsWith('.')) : [];
    const home = join(builds, folder ?? '(no build folder)');
    expect(existsSync(join(home, 'args'))).toBe(true); // this version's kc.sh ran
    expect(await readFile(join(home, 'args'), 'utf8')).toContain(`--http-port=${port}`);
    expect(result.stderr).toContain(`starting Keycloak ${served} from ${home}`);
    // The stand-in exits at once: start reports that, with the log to read.
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: Keycloak exited with code 1 while starting; see /);
  });

  it('a version the repository does not serve is one line, exit code 2, nothing downloaded', async () => {
    const env = await environment('missing');
    requested = [];
    const result = await cli(
      [
        'keycloak',
        'start',
        '--runtime',
        'distribution',
        '--port',
        String(await freePort()),
        '--keycloak-version',
        '26.99.0',
      ],
      env,
    );
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      `error: Keycloak 26.99.0 is not served by ${repo} (HTTP 404 for its server distribution): pick a version it serves, e.g. 26.7.3.\n`,
    );
    expect(requested).toEqual([`HEAD ${distPath('26.99.0')}`]);
    expect(existsSync(join(env.MCP_KEYCLOAK_CACHE!, 'keycloak-26.99.0'))).toBe(false);
    expect(existsSync(join(env.MCP_KEYCLOAK_STATE!, 'keycloak.json'))).toBe(false);
  });

  it('a 25.x version is refused before any request: the tool starts 26.0.0 or later', async () => {
    const env = await environment('old');
    requested = [];
    const result = await cli(['keycloak', 'start', '--keycloak-version', '25.0.6'], env);
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      'error: --keycloak-version 25.0.6: mcp-keycloak starts Keycloak 26.0.0 or later (older versions take their first admin from KEYCLOAK_ADMIN, not KC_BOOTSTRAP_ADMIN_*); ' +
        'run that Keycloak yourself and pass --keycloak-url (best-effort, untested), or pick a supported version.\n',
    );
    expect(requested).toEqual([]);
  });

  it('a malformed version is refused before any request', async () => {
    const env = await environment('malformed');
    requested = [];
    const result = await cli(['keycloak', 'start', '--keycloak-version', '26.0.8/../../x'], env);
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      'error: --keycloak-version "26.0.8/../../x": must be a Keycloak version such as 26.7.3 (major.minor.patch).\n',
    );
    expect(requested).toEqual([]);
  });

  it('conflicts with KEYCLOAK_HOME, which names a distribution of its own', async () => {
    const env = await environment('home');
    const home = await fakeDistribution(join(root, 'home'), 'keycloak');
    const result = await cli(['keycloak', 'start', '--keycloak-version', '26.0.8'], { ...env, KEYCLOAK_HOME: home });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(
      /^error: KEYCLOAK_HOME=.* and --keycloak-version 26\.0\.8 both choose a Keycloak: unset KEYCLOAK_HOME or drop the flag\.\n$/,
    );
    expect(existsSync(join(home, 'args'))).toBe(false);
  });
});

describe('the in-memory database of a dev-mem Keycloak', () => {
  it('is kept while the JVM runs (DB_CLOSE_DELAY=-1, which 26.0.x does not set), given as a whole URL (26.4.x appends its own DB_CLOSE_DELAY=0 to the default one)', async () => {
    const home = await fakeDistribution(join(root, 'dev-mem'), 'keycloak');
    const start = startKeycloak({
      home,
      port: await freePort(),
      managementPort: await freePort(),
      adminUsername: 'admin',
      adminPassword: 'not-a-real-password',
      db: 'dev-mem',
      logFile: join(root, 'dev-mem', 'log'),
      timeoutMs: 30_000,
    });
    await expect(start).rejects.toThrow(/Keycloak exited with code 1 while starting/);
    expect(await readFile(join(home, 'args'), 'utf8')).toContain('--db=dev-mem');
    const env = await readFile(join(home, 'env'), 'utf8');
    expect(env).toContain(
      'KC_DB_URL=jdbc:h2:mem:keycloakdb;NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE;DB_CLOSE_DELAY=-1\n',
    );
    // A second DB_CLOSE_DELAY in the properties is what stopped 26.4.7 from starting ("Duplicate property").
    expect(env).not.toContain('KC_DB_URL_PROPERTIES=');
  });
});
