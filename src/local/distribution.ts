/**
 * Keycloak's server distribution (org.keycloak:keycloak-quarkus-dist) on this machine: found through
 * KEYCLOAK_HOME, or downloaded once into a cache outside any project and unpacked there. Used by
 * `mcp-keycloak keycloak start` and by the test harness, so both run the same Keycloak the same way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, UsageError } from '../errors.js';
import { olderThan } from '../keycloak/versions.js';
import { run, which } from './process.js';

/** Pinned: the newest keycloak-quarkus-dist served on Maven Central when this was written (the default). */
export const KEYCLOAK_VERSION = '26.7.3';
/** The oldest Keycloak the tool and the test harness start (docs/keycloak-versions.md: 26.0 → 26.7 supported). */
export const OLDEST_STARTED = '26.0.0';

/** A Maven version as Keycloak publishes them: 26.0.8, 26.4.7 (a qualifier such as -test is allowed). */
const VERSION_SYNTAX = /^\d{1,4}\.\d{1,4}\.\d{1,4}(?:[.-][0-9A-Za-z][0-9A-Za-z.-]{0,40})?$/;

/**
 * `version` when it reads like a Keycloak version, else a usage error naming `source` (the flag or
 * variable it came from): the value ends up in a URL, a path and a Docker image tag. Versions older
 * than OLDEST_STARTED are refused too: their admin bootstrap variables differ.
 */
export function checkKeycloakVersion(version: string, source: string): string {
  if (!VERSION_SYNTAX.test(version)) {
    const shown = JSON.stringify(version.length > 40 ? `${version.slice(0, 40)}…` : version);
    throw new UsageError(
      `${source} ${shown}: must be a Keycloak version such as ${KEYCLOAK_VERSION} (major.minor.patch).`,
    );
  }
  if (olderThan(version, OLDEST_STARTED)) {
    throw new UsageError(
      `${source} ${version}: mcp-keycloak starts Keycloak ${OLDEST_STARTED} or later (older versions take their first admin from KEYCLOAK_ADMIN, not KC_BOOTSTRAP_ADMIN_*); ` +
        'run that Keycloak yourself and pass --keycloak-url (best-effort, untested), or pick a supported version.',
    );
  }
  return version;
}
const CENTRAL = 'https://repo1.maven.org/maven2';

/** MCP_KEYCLOAK_MAVEN_REPO: a mirror (or a test's loopback server); when set, Maven is not used. */
const repository = (env: NodeJS.ProcessEnv) => (env.MCP_KEYCLOAK_MAVEN_REPO || CENTRAL).replace(/\/+$/, '');

/** Where downloaded Keycloak distributions are kept: MCP_KEYCLOAK_CACHE, else $XDG_CACHE_HOME/mcp-keycloak. */
function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_KEYCLOAK_CACHE) return env.MCP_KEYCLOAK_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-keycloak');
}

export interface DistributionOptions {
  version?: string;
  env?: NodeJS.ProcessEnv;
  /** Progress lines for people ("downloading 34%"); silent when absent. */
  onProgress?: (message: string) => void;
  /** Aborted (Ctrl-C): the download stops, its partial file stays `.part` and is never used. */
  signal?: AbortSignal;
}

/** Returns the home of an unpacked distribution, downloading and unpacking it when needed. */
export async function ensureDistribution(options: DistributionOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (env.KEYCLOAK_HOME) {
    const home = env.KEYCLOAK_HOME;
    if (!existsSync(join(home, 'bin', 'kc.sh'))) {
      throw new CliError(
        `KEYCLOAK_HOME=${home} has no bin/kc.sh: point it at an unpacked Keycloak server distribution, or unset it.`,
      );
    }
    return home;
  }
  const version = checkKeycloakVersion(options.version ?? KEYCLOAK_VERSION, 'Keycloak version');
  const root = cacheRoot(env);
  const home = join(root, `keycloak-${version}`);
  if (existsSync(join(home, 'bin', 'kc.sh'))) return home;

  await mkdir(root, { recursive: true });
  const archive = await downloadArchive(version, root, env, options.onProgress, options.signal);
  // Unpack into a temporary folder and rename, so an interrupted unpack never looks like a distribution.
  const staging = await mkdtemp(join(root, '.unpack-'));
  try {
    options.onProgress?.(`unpacking Keycloak ${version}`);
    await run('tar', ['-xzf', archive, '-C', staging]);
    const [top] = await readdir(staging);
    if (!top) throw new CliError(`The Keycloak archive ${archive} was empty; delete it and retry.`);
    await rm(home, { recursive: true, force: true });
    await rename(join(staging, top), home);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return home;
}

function artifactPath(version: string): string {
  return `org/keycloak/keycloak-quarkus-dist/${version}/keycloak-quarkus-dist-${version}.tar.gz`;
}

/** With Maven on PATH, Maven fetches (and checks) it; otherwise HTTPS from Maven Central, checksum verified. */
async function downloadArchive(
  version: string,
  root: string,
  env: NodeJS.ProcessEnv,
  onProgress?: (m: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const target = join(root, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (existsSync(target)) return target;
  await refuseUnservedVersion(version, repository(env), signal);
  if (!env.MCP_KEYCLOAK_MAVEN_REPO && (await which('mvn'))) {
    onProgress?.(`downloading Keycloak ${version} with Maven`);
    await run('mvn', [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
      `-DoutputDirectory=${root}`,
    ]).catch((error: Error) => {
      throw new CliError(
        `Maven could not download org.keycloak:keycloak-quarkus-dist:${version}: ${error.message.split('\n')[0]}`,
      );
    });
    if (existsSync(target)) return target;
  }
  return downloadOverHttps(version, target, repository(env), onProgress, signal);
}

/**
 * One clear line for a version the repository does not serve (a typo, a version not released yet),
 * instead of Maven's page of output or a missing-checksum error. Only a definite 404 counts: when the
 * repository cannot be reached (a proxy, Maven's own mirror settings), the download decides.
 */
async function refuseUnservedVersion(version: string, repo: string, signal?: AbortSignal): Promise<void> {
  const url = `${repo}/${artifactPath(version)}`;
  const response = await fetch(url, { method: 'HEAD', ...(signal ? { signal } : {}) }).catch(() => undefined);
  if (response?.status === 404) {
    throw new UsageError(
      `Keycloak ${version} is not served by ${repo} (HTTP 404 for its server distribution): pick a version it serves, e.g. ${KEYCLOAK_VERSION}.`,
    );
  }
}

async function downloadOverHttps(
  version: string,
  target: string,
  repo: string,
  onProgress?: (m: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const url = `${repo}/${artifactPath(version)}`;
  const expected = await fetchChecksum(url);
  const partial = `${target}.part`;
  const response = await fetch(url, signal ? { signal } : {}).catch((error: Error) => {
    throw new CliError(
      `Cannot download ${url}: ${error.message}. Check your network, or set KEYCLOAK_HOME to an unpacked distribution.`,
    );
  });
  if (!response.ok || !response.body)
    throw new CliError(`The Maven repository answered ${response.status} for ${url}.`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let received = 0;
  let lastShown = -1;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    // One line per 10 % step crossed: chunks rarely end exactly on a multiple of ten.
    const step = total ? Math.floor((received / total) * 10) * 10 : -1;
    if (step > lastShown) {
      lastShown = step;
      onProgress?.(`downloading Keycloak ${version}: ${step}% of ${Math.round(total / 1e6)} MB`);
    }
  });
  await pipeline(body, createWriteStream(partial), signal ? { signal } : {});
  const actual = await hashFile(partial, expected.algorithm);
  if (actual !== expected.value) {
    await rm(partial, { force: true });
    throw new CliError(
      `Checksum mismatch for ${url} (${expected.algorithm}): the download is corrupt or tampered with; nothing was unpacked.`,
    );
  }
  await rename(partial, target);
  return target;
}

async function fetchChecksum(url: string): Promise<{ algorithm: 'sha512' | 'sha1'; value: string }> {
  for (const algorithm of ['sha512', 'sha1'] as const) {
    const response = await fetch(`${url}.${algorithm}`).catch(() => undefined);
    if (response?.ok) {
      const value = (await response.text()).trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      if (value) return { algorithm, value };
    }
  }
  throw new CliError(`The Maven repository publishes no checksum for ${url}; refusing to use an unverified download.`);
}

async function hashFile(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
