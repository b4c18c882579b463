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
import { CliError } from '../errors.js';
import { run, which } from './process.js';

/** Pinned: the newest keycloak-quarkus-dist served on Maven Central when this was written. */
export const KEYCLOAK_VERSION = '26.7.3';
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
      throw new CliError(`KEYCLOAK_HOME=${home} has no bin/kc.sh: point it at an unpacked Keycloak server distribution, or unset it.`);
    }
    return home;
  }
  const version = options.version ?? KEYCLOAK_VERSION;
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
async function downloadArchive(version: string, root: string, env: NodeJS.ProcessEnv, onProgress?: (m: string) => void, signal?: AbortSignal): Promise<string> {
  const target = join(root, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (existsSync(target)) return target;
  if (!env.MCP_KEYCLOAK_MAVEN_REPO && (await which('mvn'))) {
    onProgress?.(`downloading Keycloak ${version} with Maven`);
    await run('mvn', [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
      `-DoutputDirectory=${root}`,
    ]).catch((error: Error) => {
      throw new CliError(`Maven could not download org.keycloak:keycloak-quarkus-dist:${version}: ${error.message.split('\n')[0]}`);
    });
    if (existsSync(target)) return target;
  }
  return downloadOverHttps(version, target, repository(env), onProgress, signal);
}

async function downloadOverHttps(version: string, target: string, repo: string, onProgress?: (m: string) => void, signal?: AbortSignal): Promise<string> {
  const url = `${repo}/${artifactPath(version)}`;
  const expected = await fetchChecksum(url);
  const partial = `${target}.part`;
  const response = await fetch(url, signal ? { signal } : {}).catch((error: Error) => {
    throw new CliError(`Cannot download ${url}: ${error.message}. Check your network, or set KEYCLOAK_HOME to an unpacked distribution.`);
  });
  if (!response.ok || !response.body) throw new CliError(`The Maven repository answered ${response.status} for ${url}.`);
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
    throw new CliError(`Checksum mismatch for ${url} (${expected.algorithm}): the download is corrupt or tampered with; nothing was unpacked.`);
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
