/**
 * The local dev Keycloak behind `mcp-keycloak keycloak start|status|stop` and init's offer: Docker
 * when an engine answers, else the server distribution (the test harness's mechanism). One at a time
 * per user; its facts live in the state directory (see state.ts), its realms survive `stop`.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isLoopbackUrl, portOf } from '../addresses.js';
import { UsageError } from '../errors.js';
import { KEYCLOAK_VERSION, checkKeycloakVersion } from './distribution.js';
import { startDistribution } from './distribution-start.js';
import { describeFeatures, parseFeatures, restartCommand, sameFeatures } from './features.js';
import {
  containerLogs,
  containerRunning,
  dockerAnswers,
  removeContainer,
  startContainer,
  DATA_VOLUME,
} from './docker.js';
import { isKeycloakProcess, stopByPid, throwIfInterrupted, waitForKeycloak } from './launcher.js';
import { run } from './process.js';
import { command } from '../ui/invocation.js';
import { adminPassword, clearState, readState, statePaths, writeState, type LocalKeycloakState } from './state.js';
import type { Runtime, StartRequest, StartResult } from './start-types.js';

export type { Runtime, StartRequest, StartResult } from './start-types.js';

export interface LocalStatus {
  state?: LocalKeycloakState;
  /** The recorded process or container still exists. */
  running: boolean;
  /** Keycloak answers at the recorded URL. */
  answering: boolean;
}

/** Whether a Keycloak answers at `url` (its master realm's discovery document), within `timeoutMs`. */
export async function keycloakAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/realms/master/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function alive(state: LocalKeycloakState): Promise<boolean> {
  if (state.stoppedAt) return false; // stopped by `keycloak stop`: its old pid may belong to anything now
  if (state.runtime === 'docker') return state.container ? containerRunning(state.container) : false;
  return state.pid ? isKeycloakProcess(state.pid) : false;
}

/** What the state directory records about the local Keycloak, whether it still runs and whether it answers. */
export async function localStatus(env: NodeJS.ProcessEnv = process.env): Promise<LocalStatus> {
  const state = await readState(env);
  if (!state) return { running: false, answering: false };
  const running = await alive(state);
  return { state, running, answering: running && (await keycloakAnswers(state.url)) };
}

/** Starts the local dev Keycloak (Docker or the distribution), or returns the one already running on that port. */
export async function startLocalKeycloak(request: StartRequest): Promise<StartResult> {
  const env = request.env ?? process.env;
  const version = checkKeycloakVersion(request.version ?? KEYCLOAK_VERSION, '--keycloak-version');
  if (request.version !== undefined && env.KEYCLOAK_HOME) {
    throw new UsageError(
      `KEYCLOAK_HOME=${env.KEYCLOAK_HOME} and --keycloak-version ${version} both choose a Keycloak: unset KEYCLOAK_HOME or drop the flag.`,
    );
  }
  const features = request.features ?? featuresFromEnv(env);
  const paths = statePaths(env);
  const started = Date.now();
  const current = await localStatus(env);
  if (current.state && current.running) {
    if (request.version !== undefined && current.state.version !== version) {
      throw new UsageError(
        `The local Keycloak at ${current.state.url} runs ${current.state.version}, not ${version}: stop it first (${command('keycloak stop')}).`,
      );
    }
    if (current.state.port !== request.port) {
      throw new UsageError(
        `A local Keycloak already runs at ${current.state.url}: use it, or stop it first (${command('keycloak stop')}).`,
      );
    }
    if (features !== undefined && !sameFeatures(current.state.features, features)) {
      throw new UsageError(
        `The local Keycloak at ${current.state.url} runs with features ${describeFeatures(current.state.features)}, not ${describeFeatures(features)}: ` +
          `restart it with them: ${restartCommand(current.state, features)}`,
      );
    }
    if (!current.answering) {
      await waitForKeycloak(current.state.url, {
        timeoutMs: request.timeoutMs ?? 240_000,
        logFile: current.state.logFile,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    }
    return {
      state: current.state,
      alreadyRunning: true,
      startupMs: Date.now() - started,
      passwordFile: paths.password,
    };
  }
  const url = `http://127.0.0.1:${request.port}`;
  if (await keycloakAnswers(url)) {
    throw new UsageError(
      `A Keycloak that mcp-keycloak did not start already answers at ${url}: use it (--keycloak-url ${url}) or pick another --port.`,
    );
  }
  if (!(await portFree(request.port)))
    throw new UsageError(
      `Port ${request.port} is in use by another program: pick another port (keycloak start --port N, or init --keycloak-url http://localhost:N).`,
    );

  // MCP_KEYCLOAK_RUNTIME pins the choice for `init`, which has no --runtime flag (e.g. CI with Docker but wanting the distribution).
  const wanted = request.runtime === 'auto' ? runtimeFromEnv(env) : request.runtime;
  const runtime = wanted === 'auto' ? ((await dockerAnswers()) ? 'docker' : 'distribution') : wanted;
  if (runtime === 'docker' && wanted === 'docker' && !(await dockerAnswers())) {
    throw new UsageError('No Docker engine answers (docker info failed): start Docker, or use --runtime distribution.');
  }
  const password = await adminPassword(env);
  const base = {
    formatVersion: 1 as const,
    url,
    port: request.port,
    dataDir: paths.data,
    logFile: paths.log,
    adminUsername: 'admin',
    version,
    ...(features?.length ? { features } : {}),
  };
  await rm(paths.log, { force: true });
  const withFeatures = features?.length ? ` with --features=${features.join(',')}` : '';

  if (runtime === 'docker') {
    const container = `mcp-keycloak-${request.port}`;
    const state: LocalKeycloakState = {
      ...base,
      runtime,
      container,
      dataDir: `docker volume ${DATA_VOLUME}`,
      startedAt: new Date().toISOString(),
    };
    request.onProgress?.(`starting quay.io/keycloak/keycloak:${version} in Docker${withFeatures}`);
    throwIfInterrupted(request.signal);
    await startContainer({
      name: container,
      image: `quay.io/keycloak/keycloak:${version}`,
      port: request.port,
      adminUsername: 'admin',
      adminPassword: password,
      ...(features?.length ? { features } : {}),
    });
    await writeState(state, env);
    try {
      await waitForKeycloak(url, {
        timeoutMs: request.timeoutMs ?? 240_000,
        logFile: paths.log,
        ...(request.signal ? { signal: request.signal } : {}),
        failure: async () =>
          (await containerRunning(container))
            ? undefined
            : `The Keycloak container stopped while starting; see ${paths.log}.`,
      });
    } catch (error) {
      await containerLogs(container, paths.log);
      await removeContainer(container);
      await clearState(env);
      throw error;
    }
    return { state, alreadyRunning: false, startupMs: Date.now() - started, passwordFile: paths.password };
  }

  return startDistribution(request, { base, version, features, password });
}

/** MCP_KEYCLOAK_FEATURES: the features `keycloak start` and init's start use when no --features is given. */
function featuresFromEnv(env: NodeJS.ProcessEnv): string[] | undefined {
  const value = env.MCP_KEYCLOAK_FEATURES;
  return value === undefined || value.trim() === '' ? undefined : parseFeatures(value, 'MCP_KEYCLOAK_FEATURES');
}

function runtimeFromEnv(env: NodeJS.ProcessEnv): Runtime {
  const value = env.MCP_KEYCLOAK_RUNTIME;
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'docker' || value === 'distribution') return value;
  throw new UsageError(`MCP_KEYCLOAK_RUNTIME=${value}: must be auto, docker or distribution.`);
}

async function portFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface StopResult {
  stopped: boolean;
  state?: LocalKeycloakState;
  deletedData: boolean;
}

/**
 * Stops only what the state file names (its process group or its container). The state file stays,
 * marked stopped, while the data is kept, so `status` can say where the realms are and how to start
 * them again; --delete-data forgets the data, the password and the state.
 */
export async function stopLocalKeycloak(
  options: { env?: NodeJS.ProcessEnv; deleteData?: boolean } = {},
): Promise<StopResult> {
  const env = options.env ?? process.env;
  const paths = statePaths(env);
  const status = await localStatus(env);
  let stopped = false;
  if (status.state && status.running) {
    if (status.state.runtime === 'docker' && status.state.container) await removeContainer(status.state.container);
    else if (status.state.pid) await stopByPid(status.state.pid);
    stopped = true;
  }
  if (status.state && !options.deleteData) {
    const { pid: _pid, ...kept } = status.state;
    await writeState({ ...kept, stoppedAt: status.state.stoppedAt ?? new Date().toISOString() }, env);
  } else await clearState(env);
  let deletedData = false;
  if (options.deleteData) {
    if (status.state?.runtime === 'docker') await run('docker', ['volume', 'rm', DATA_VOLUME]).catch(() => undefined);
    deletedData = existsSync(paths.data) || existsSync(paths.password);
    await rm(paths.data, { recursive: true, force: true });
    await rm(paths.password, { force: true });
  }
  const result: StopResult = { stopped, deletedData };
  if (status.state) result.state = status.state;
  return result;
}

/**
 * The admin password of the local Keycloak mcp-keycloak started, when `keycloakUrl` points at it
 * (loopback, same port, still running); undefined otherwise. Lets commands work right after
 * `keycloak start` / `init --yes` without the user copying the password anywhere.
 */
export async function localAdminPassword(
  keycloakUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (!isLoopbackUrl(keycloakUrl)) return undefined;
  const status = await localStatus(env);
  if (!status.state || !status.running || status.state.port !== portOf(keycloakUrl)) return undefined;
  const { storedAdminPassword } = await import('./state.js');
  return storedAdminPassword(env);
}
