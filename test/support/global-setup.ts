/**
 * One real Keycloak for the whole test run (vitest globalSetup), found or started in this order:
 *   1. KEYCLOAK_URL (+ KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD) → that server;
 *   2. a Docker engine answers → testcontainers, official image of KEYCLOAK_VERSION;
 *   3. otherwise Keycloak's server distribution of KEYCLOAK_VERSION from Maven Central, cached outside
 *      the repo, `kc.sh start-dev` on a free port with an in-memory database. CI takes this path here.
 * KEYCLOAK_VERSION (e.g. 26.0.8) picks the version for paths 2 and 3; default: the pinned newest. The
 * version that really runs (for path 1: read from the server) is printed and provided to the tests.
 * Test files each create a realm of their own, so they can run in parallel against it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { checkKeycloakVersion, ensureDistribution, KEYCLOAK_VERSION } from '../../src/local/distribution.js';
import { checkJava, startKeycloak } from '../../src/local/launcher.js';
import { freePort } from '../../src/local/process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    keycloakUrl: string;
    adminUsername: string;
    adminPassword: string;
    /** The Keycloak version the tests run against, e.g. "26.7.3". */
    keycloakVersion: string;
  }
}

type Stop = () => Promise<void>;

function log(message: string): void {
  process.stdout.write(`[keycloak] ${message}\n`);
}

function dockerMightAnswer(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

/** The version of the Keycloak at `url` (GET /admin/serverinfo), for a server the harness did not start. */
async function serverVersion(url: string, username: string, password: string): Promise<string> {
  const token = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username, password }),
  });
  if (!token.ok) throw new Error(`KEYCLOAK_URL=${url}: the admin login answered ${token.status}; check KEYCLOAK_ADMIN_USERNAME/KEYCLOAK_ADMIN_PASSWORD.`);
  const { access_token: accessToken } = (await token.json()) as { access_token: string };
  const info = await fetch(`${url}/admin/serverinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (!info.ok) throw new Error(`KEYCLOAK_URL=${url}: GET /admin/serverinfo answered ${info.status}.`);
  return ((await info.json()) as { systemInfo: { version: string } }).systemInfo.version;
}

async function fromDocker(password: string, version: string): Promise<{ url: string; stop: Stop } | undefined> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // a socket without an engine behind it
  }
  const container = await new GenericContainer(`quay.io/keycloak/keycloak:${version}`)
    .withCommand(['start-dev'])
    .withEnvironment({ KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: password })
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/realms/master/.well-known/openid-configuration', 8080).withStartupTimeout(180_000))
    .start();
  return {
    url: `http://127.0.0.1:${container.getMappedPort(8080)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export default async function setup(project: TestProject): Promise<Stop | undefined> {
  const started = Date.now();
  const external = process.env.KEYCLOAK_URL;
  if (external) {
    const password = process.env.KEYCLOAK_ADMIN_PASSWORD;
    if (!password) throw new Error('KEYCLOAK_URL is set: also set KEYCLOAK_ADMIN_PASSWORD (and KEYCLOAK_ADMIN_USERNAME if not "admin").');
    const url = external.replace(/\/+$/, '');
    const username = process.env.KEYCLOAK_ADMIN_USERNAME ?? 'admin';
    const running = await serverVersion(url, username, password);
    project.provide('keycloakUrl', url);
    project.provide('adminUsername', username);
    project.provide('adminPassword', password);
    project.provide('keycloakVersion', running);
    if (process.env.KEYCLOAK_VERSION && process.env.KEYCLOAK_VERSION !== running) {
      log(`KEYCLOAK_VERSION=${process.env.KEYCLOAK_VERSION} is ignored: KEYCLOAK_URL names a server, which runs ${running}`);
    }
    log(`path 1: using KEYCLOAK_URL=${external}, Keycloak ${running}`);
    return undefined;
  }

  const version = checkKeycloakVersion(process.env.KEYCLOAK_VERSION || KEYCLOAK_VERSION, 'KEYCLOAK_VERSION');
  project.provide('keycloakVersion', version);

  const password = randomBytes(18).toString('base64url');
  project.provide('adminUsername', 'admin');
  project.provide('adminPassword', password);

  if (dockerMightAnswer()) {
    const docker = await fromDocker(password, version);
    if (docker) {
      project.provide('keycloakUrl', docker.url);
      log(`path 2: Docker image quay.io/keycloak/keycloak:${version} (Keycloak ${version}) at ${docker.url}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return docker.stop;
    }
  }

  await checkJava();
  const home = await ensureDistribution({ version, onProgress: (m) => log(m) });
  const fetched = Date.now();
  const port = await freePort();
  const logFile = join(tmpdir(), `mcp-keycloak-test-keycloak-${port}.log`);
  const keycloak = await startKeycloak({
    home,
    port,
    managementPort: await freePort(),
    adminUsername: 'admin',
    adminPassword: password,
    db: 'dev-mem',
    logFile,
    // First start-up runs Quarkus' build step: ~35 s on an idle 2-core machine, minutes on a loaded one.
    timeoutMs: 420_000,
  });
  project.provide('keycloakUrl', keycloak.url);
  log(
    `path 3: Keycloak ${version}, distribution ${home} at ${keycloak.url} (log ${logFile}); ` +
      `download/unpack ${((fetched - started) / 1000).toFixed(1)} s, start-up ${(keycloak.startupMs / 1000).toFixed(1)} s`,
  );
  return keycloak.stop;
}
