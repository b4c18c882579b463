/**
 * One real Keycloak for the whole test run (vitest globalSetup), found or started in this order:
 *   1. KEYCLOAK_URL (+ KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD) → that server;
 *   2. a Docker engine answers → testcontainers, official image, pinned version;
 *   3. otherwise Keycloak's server distribution from Maven Central, cached outside the repo,
 *      `kc.sh start-dev` on a free port with an in-memory database. This is the path CI takes here.
 * Test files each create a realm of their own, so they can run in parallel against it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDistribution, KEYCLOAK_VERSION } from '../../src/local/distribution.js';
import { checkJava, startKeycloak } from '../../src/local/launcher.js';
import { freePort } from '../../src/local/process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    keycloakUrl: string;
    adminUsername: string;
    adminPassword: string;
  }
}

type Stop = () => Promise<void>;

function log(message: string): void {
  process.stdout.write(`[keycloak] ${message}\n`);
}

function dockerMightAnswer(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

async function fromDocker(password: string): Promise<{ url: string; stop: Stop } | undefined> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // a socket without an engine behind it
  }
  const container = await new GenericContainer(`quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`)
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
    project.provide('keycloakUrl', external.replace(/\/+$/, ''));
    project.provide('adminUsername', process.env.KEYCLOAK_ADMIN_USERNAME ?? 'admin');
    project.provide('adminPassword', password);
    log(`path 1: using KEYCLOAK_URL=${external}`);
    return undefined;
  }

  const password = randomBytes(18).toString('base64url');
  project.provide('adminUsername', 'admin');
  project.provide('adminPassword', password);

  if (dockerMightAnswer()) {
    const docker = await fromDocker(password);
    if (docker) {
      project.provide('keycloakUrl', docker.url);
      log(`path 2: Docker image quay.io/keycloak/keycloak:${KEYCLOAK_VERSION} at ${docker.url}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return docker.stop;
    }
  }

  await checkJava();
  const home = await ensureDistribution({ onProgress: (m) => log(m) });
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
    `path 3: distribution ${home} at ${keycloak.url} (log ${logFile}); ` +
      `download/unpack ${((fetched - started) / 1000).toFixed(1)} s, start-up ${(keycloak.startupMs / 1000).toFixed(1)} s`,
  );
  return keycloak.stop;
}
