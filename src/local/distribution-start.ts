/**
 * The distribution half of `keycloak start` (and init's start): Java checked, the distribution downloaded once,
 * its build folder for dev-file and these features found or made (builds.ts), kc.sh start-dev run detached
 * from there with the realms in the state directory.
 */
import { buildHome } from './builds.js';
import { ensureDistribution } from './distribution.js';
import { checkJava, startKeycloak, throwIfInterrupted } from './launcher.js';
import type { StartRequest, StartResult } from './start-types.js';
import { freePort } from './process.js';
import { clearState, statePaths, writeState, type LocalKeycloakState } from './state.js';

/** What `startLocalKeycloak` already decided: the state to record (without pid and home) and the admin password. */
export interface DistributionStart {
  base: Omit<LocalKeycloakState, 'runtime' | 'pid' | 'home' | 'startedAt'>;
  version: string;
  features: string[] | undefined;
  password: string;
}

export async function startDistribution(request: StartRequest, start: DistributionStart): Promise<StartResult> {
  const env = request.env ?? process.env;
  const paths = statePaths(env);
  const { version, features } = start;
  await checkJava(env);
  const distribution = await ensureDistribution({
    version,
    env,
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  }).catch((error: unknown) => {
    throwIfInterrupted(request.signal); // an aborted download reports itself as an AbortError
    throw error;
  });
  const build = await buildHome(distribution, { db: 'dev-file', features }, env);
  const withFeatures = features?.length ? ` with --features=${features.join(',')}` : '';
  request.onProgress?.(
    `starting Keycloak ${version} from ${build.home}${withFeatures} ` +
      (build.built === undefined
        ? '(the first start builds it: up to a minute or two)'
        : build.built
          ? '(built before for these features: no build step this time)'
          : '(the first start with these features builds it first: a minute or two)'),
  );
  let state: LocalKeycloakState | undefined;
  try {
    const running = await startKeycloak({
      home: build.home,
      port: request.port,
      managementPort: await freePort(),
      adminUsername: 'admin',
      adminPassword: start.password,
      db: 'dev-file',
      ...(features?.length ? { features } : {}),
      // Realms live in the state directory, not inside a (possibly shared) distribution.
      env: { KC_DB_URL_PATH: paths.data },
      logFile: paths.log,
      detached: true,
      timeoutMs: request.timeoutMs ?? 240_000,
      ...(request.signal ? { signal: request.signal } : {}),
      onSpawn: async (pid) => {
        state = {
          ...start.base,
          runtime: 'distribution',
          pid,
          home: build.home,
          startedAt: new Date().toISOString(),
        };
        await writeState(state, env);
      },
    });
    await build.markStarted();
    return { state: state!, alreadyRunning: false, startupMs: running.startupMs, passwordFile: paths.password };
  } catch (error) {
    await clearState(env);
    throw error;
  }
}
