/**
 * One real Keycloak for the whole test run (vitest globalSetup), found or started in this order:
 *   1. KEYCLOAK_URL (+ KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD) → that server;
 *   2. a Docker engine answers → testcontainers, official image of KEYCLOAK_VERSION;
 *   3. otherwise Keycloak's server distribution of KEYCLOAK_VERSION from Maven Central, cached outside
 *      the repo, `kc.sh start-dev` on a free port with an in-memory database. CI takes this path here.
 * KEYCLOAK_VERSION (e.g. 26.0.8) picks the version for paths 2 and 3; default: the pinned newest. The
 * version that really runs (for path 1: read from the server) is printed and provided to the tests.
 * KEYCLOAK_FEATURES (e.g. `cimd`; empty or `none` for none) picks the features paths 2 and 3 start it
 * with; default `cimd,resource-indicators` from 26.6.0 on, none before (older versions get none even
 * when asked). The features that really are on (GET /admin/serverinfo, every path) are printed and provided.
 * Test files each create a realm of their own, so they can run in parallel against it.
 * Path 3 also makes a CA of the run under os.tmpdir() (test/support/tls.ts, milliseconds) and starts Keycloak with
 * `--truststore-paths=<its certificate>`, so tests can serve https on 127.0.0.1 that Keycloak fetches (a client
 * metadata document); provided as `loopbackCa`, deleted when the run ends. Paths 1 and 2 provide why there is none.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { olderThan, versionDifference } from '../../src/keycloak/versions.js';
import { checkKeycloakVersion, ensureDistribution, KEYCLOAK_VERSION } from '../../src/local/distribution.js';
import {
  describeFeatures,
  enabledFeatures,
  featureKey,
  MCP_FEATURES,
  parseFeatures,
  sameFeatures,
} from '../../src/local/features.js';
import { buildHome } from '../../src/local/builds.js';
import { checkJava, startKeycloak } from '../../src/local/launcher.js';
import { freePort } from '../../src/local/process.js';
import { fileURLToPath } from 'node:url';
import { assertBuildIsFresh } from './dist-guard.js';
import { createLoopbackCa } from './tls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    keycloakUrl: string;
    adminUsername: string;
    adminPassword: string;
    /** The Keycloak version the tests run against, e.g. "26.7.3". */
    keycloakVersion: string;
    /**
     * The features the server reports enabled (GET /admin/serverinfo), in kc.sh spelling: `cimd`,
     * `resource-indicators`, and the ones on by default (`dpop`, `admin-fine-grained-authz:v2`, …).
     */
    keycloakFeatures: string[];
    /**
     * A CA this Keycloak trusts for its outgoing TLS (path 3: made in a temp folder and passed as
     * `--truststore-paths`), for tests that serve https on 127.0.0.1 (test/support/tls.ts); on paths 1 and 2,
     * `unavailable` says why there is none.
     */
    loopbackCa: { certPath: string; keyPath: string } | { unavailable: string };
  }
}

type Stop = () => Promise<void>;

function log(message: string): void {
  process.stdout.write(`[keycloak] ${message}\n`);
}

function dockerMightAnswer(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

interface ServerFeature {
  name: string;
  type?: string;
  enabled?: boolean;
}

/** The version and features of the Keycloak at `url` (GET /admin/serverinfo). */
async function serverInfo(
  url: string,
  username: string,
  password: string,
): Promise<{ version: string; features: ServerFeature[] }> {
  const token = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username, password }),
  });
  if (!token.ok)
    throw new Error(
      `Keycloak at ${url}: the admin login answered ${token.status}; check KEYCLOAK_ADMIN_USERNAME/KEYCLOAK_ADMIN_PASSWORD.`,
    );
  const { access_token: accessToken } = (await token.json()) as { access_token: string };
  const info = await fetch(`${url}/admin/serverinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (!info.ok) throw new Error(`Keycloak at ${url}: GET /admin/serverinfo answered ${info.status}.`);
  const body = (await info.json()) as { systemInfo: { version: string }; features?: ServerFeature[] };
  return { version: body.systemInfo.version, features: body.features ?? [] };
}

/** The first version with the MCP features (CIMD, resource indicators), from the table of version differences. */
const FEATURES_SINCE = versionDifference('cimd-and-resource-indicators').fixedIn;

/** The features paths 2 and 3 start `version` with: KEYCLOAK_FEATURES, else the MCP features from FEATURES_SINCE on. */
function requestedFeatures(version: string): string[] {
  const value = process.env.KEYCLOAK_FEATURES;
  const asked = value === undefined ? undefined : value.trim() === '' ? [] : parseFeatures(value, 'KEYCLOAK_FEATURES');
  if (olderThan(version, FEATURES_SINCE)) {
    if (asked?.length)
      log(
        `KEYCLOAK_FEATURES=${value} is ignored: Keycloak ${version} is older than ${FEATURES_SINCE}; it starts with no features`,
      );
    return [];
  }
  return asked ?? [...MCP_FEATURES];
}

/**
 * Reads the server's enabled features, provides them to the tests and says which are on beyond the
 * defaults; `requested` (a server the harness started) must all be on.
 */
function provideFeatures(project: TestProject, features: ServerFeature[], requested?: string[]): string {
  const enabled = enabledFeatures(features);
  project.provide('keycloakFeatures', enabled);
  const extra = enabledFeatures(features.filter((feature) => feature.type !== 'DEFAULT'));
  // serverinfo names a version 1 feature without its suffix (token-exchange:v1 → TOKEN_EXCHANGE); names it does
  // not list at all (kc.sh's `preview`) are not checked.
  const known = new Set(features.map((feature) => featureKey(feature.name)));
  const missing = (requested ?? [])
    .map((name) => name.replace(/:v1$/, ''))
    .filter((name) => known.has(name) && !enabled.includes(name));
  if (missing.length)
    throw new Error(
      `Keycloak was started with --features=${requested!.join(',')}, but GET /admin/serverinfo reports ${missing.join(', ')} off.`,
    );
  return `features ${describeFeatures(extra.sort())} (+${enabled.length - extra.length} on by default)`;
}

/** provideFeatures for a Keycloak the harness started (admin `admin`, its generated password). */
async function startedFeatures(
  project: TestProject,
  url: string,
  password: string,
  requested: string[],
): Promise<string> {
  return provideFeatures(project, (await serverInfo(url, 'admin', password)).features, requested);
}

async function fromDocker(
  password: string,
  version: string,
  features: string[],
): Promise<{ url: string; stop: Stop } | undefined> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // a socket without an engine behind it
  }
  const container = await new GenericContainer(`quay.io/keycloak/keycloak:${version}`)
    .withCommand(['start-dev', ...(features.length ? [`--features=${features.join(',')}`] : [])])
    .withEnvironment({ KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: password })
    .withExposedPorts(8080)
    // Other features than the image was built with make start-dev run Quarkus' build step first.
    .withWaitStrategy(Wait.forHttp('/realms/master/.well-known/openid-configuration', 8080).withStartupTimeout(420_000))
    .start();
  return {
    url: `http://127.0.0.1:${container.getMappedPort(8080)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export default async function setup(project: TestProject): Promise<Stop | undefined> {
  // Before anything slow: the tests of this tier run dist/, so a stale build fails the run in one line.
  assertBuildIsFresh(fileURLToPath(new URL('../..', import.meta.url)));
  const started = Date.now();
  const external = process.env.KEYCLOAK_URL;
  if (external) {
    const password = process.env.KEYCLOAK_ADMIN_PASSWORD;
    if (!password)
      throw new Error(
        'KEYCLOAK_URL is set: also set KEYCLOAK_ADMIN_PASSWORD (and KEYCLOAK_ADMIN_USERNAME if not "admin").',
      );
    const url = external.replace(/\/+$/, '');
    const username = process.env.KEYCLOAK_ADMIN_USERNAME ?? 'admin';
    const { version: running, features } = await serverInfo(url, username, password);
    project.provide('keycloakUrl', url);
    project.provide('adminUsername', username);
    project.provide('adminPassword', password);
    project.provide('keycloakVersion', running);
    if (process.env.KEYCLOAK_VERSION && process.env.KEYCLOAK_VERSION !== running) {
      log(
        `KEYCLOAK_VERSION=${process.env.KEYCLOAK_VERSION} is ignored: KEYCLOAK_URL names a server, which runs ${running}`,
      );
    }
    const described = provideFeatures(project, features);
    if (process.env.KEYCLOAK_FEATURES !== undefined) {
      const asked =
        process.env.KEYCLOAK_FEATURES.trim() === ''
          ? []
          : parseFeatures(process.env.KEYCLOAK_FEATURES, 'KEYCLOAK_FEATURES');
      const on = enabledFeatures(features.filter((feature) => feature.type !== 'DEFAULT'));
      if (!sameFeatures(asked, on))
        log(
          `KEYCLOAK_FEATURES=${process.env.KEYCLOAK_FEATURES} is ignored: KEYCLOAK_URL names a server, which runs with ${describeFeatures(on.sort())}`,
        );
    }
    project.provide('loopbackCa', {
      unavailable: `KEYCLOAK_URL names a server the harness did not start, so it trusts no CA of this run (the https tests need a Keycloak started with --truststore-paths): unset KEYCLOAK_URL to let the harness start one`,
    });
    log(`path 1: using KEYCLOAK_URL=${external}, Keycloak ${running}, ${described}`);
    return undefined;
  }

  const version = checkKeycloakVersion(process.env.KEYCLOAK_VERSION || KEYCLOAK_VERSION, 'KEYCLOAK_VERSION');
  project.provide('keycloakVersion', version);
  const features = requestedFeatures(version);

  const password = randomBytes(18).toString('base64url');
  project.provide('adminUsername', 'admin');
  project.provide('adminPassword', password);

  if (dockerMightAnswer()) {
    const docker = await fromDocker(password, version, features);
    if (docker) {
      project.provide('keycloakUrl', docker.url);
      project.provide('loopbackCa', {
        unavailable: `Keycloak runs in a container, whose 127.0.0.1 is not this machine's (it cannot reach a document served on the test's loopback), and it trusts no CA of this run`,
      });
      const described = await startedFeatures(project, docker.url, password, features).catch(async (error: unknown) => {
        await docker.stop();
        throw error;
      });
      log(
        `path 2: Docker image quay.io/keycloak/keycloak:${version} (Keycloak ${version}), ${described}, at ${docker.url}, ` +
          `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return docker.stop;
    }
  }

  await checkJava();
  const distribution = await ensureDistribution({ version, onProgress: (m) => log(m) });
  // A build folder per features (builds.ts): the features-on run and the features-off leg of `npm test` each
  // find their Quarkus build from the last run instead of redoing the other's.
  const build = await buildHome(distribution, { db: 'dev-mem', features });
  const home = build.home;
  const fetched = Date.now();
  const port = await freePort();
  const logFile = join(tmpdir(), `mcp-keycloak-test-keycloak-${port}.log`);
  // A CA of this run that Keycloak trusts (--truststore-paths), so tests can serve https on 127.0.0.1 (tls.ts). Milliseconds.
  const ca = createLoopbackCa();
  const keycloak = await startKeycloak({
    home,
    port,
    managementPort: await freePort(),
    adminUsername: 'admin',
    adminPassword: password,
    db: 'dev-mem',
    features,
    truststorePaths: [ca.certPath],
    logFile,
    // The first start-up of a build folder runs Quarkus' build step: ~35 s on an idle 2-core machine, minutes on a
    // loaded one; later ones skip it.
    timeoutMs: 420_000,
  }).catch((error: unknown) => {
    ca.remove();
    throw error;
  });
  await build.markStarted();
  const stop = async () => {
    await keycloak.stop();
    ca.remove();
  };
  project.provide('keycloakUrl', keycloak.url);
  project.provide('loopbackCa', { certPath: ca.certPath, keyPath: ca.keyPath });
  const described = await startedFeatures(project, keycloak.url, password, features).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  log(
    `path 3: Keycloak ${version}, ${described}, distribution ${home} at ${keycloak.url} (log ${logFile}); ` +
      `download/unpack ${((fetched - started) / 1000).toFixed(1)} s, start-up ${(keycloak.startupMs / 1000).toFixed(1)} s` +
      `${build.built === undefined ? '' : build.built ? ' (built before)' : ' (with its first build)'}; ` +
      `trusts the run's loopback CA ${ca.certPath}`,
  );
  return stop;
}
