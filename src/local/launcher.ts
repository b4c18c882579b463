/**
 * Starts Keycloak's distribution in dev mode (`kc.sh start-dev`) on a chosen port, waits until it
 * answers, and stops exactly the process group it started. Shared by `mcp-keycloak keycloak start`
 * and the test harness.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { run } from './process.js';

/** The in-memory database of `--db=dev-mem`, as Keycloak builds it (NON_KEYWORDS, DB_CLOSE_ON_EXIT) but kept while the JVM runs. */
const DEV_MEM_URL = 'jdbc:h2:mem:keycloakdb;NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE;DB_CLOSE_DELAY=-1';

export interface StartOptions {
  home: string;
  port: number;
  managementPort: number;
  adminUsername: string;
  adminPassword: string;
  /** `dev-mem` forgets everything on stop (tests); `dev-file` keeps realms under the distribution's data/. */
  db: 'dev-mem' | 'dev-file';
  /** Keycloak features to enable (`--features=cimd,resource-indicators`); none when absent or empty. */
  features?: readonly string[];
  /**
   * Extra certificates Keycloak trusts for its outgoing TLS (`--truststore-paths`, PEM or PKCS12 files or folders,
   * absolute paths), besides the JDK's own: the test harness's loopback CA, so Keycloak fetches https documents
   * from 127.0.0.1. None when absent or empty.
   */
  truststorePaths?: readonly string[];
  /** Where Keycloak's console output goes (a file path); inherited stdio is never used. */
  logFile: string;
  timeoutMs?: number;
  /** Run detached so the caller may exit while Keycloak keeps running (`keycloak start`). */
  detached?: boolean;
  /** Extra environment for kc.sh, e.g. KC_DB_URL_PATH to keep dev-file data outside the distribution. */
  env?: NodeJS.ProcessEnv;
  /** Called as soon as the process exists, before it is ready: lets `keycloak start` record its pid early. */
  onSpawn?: (pid: number) => void | Promise<void>;
  /** Aborted (Ctrl-C): nothing is spawned, or what was spawned is stopped. */
  signal?: AbortSignal;
}

export interface RunningKeycloak {
  url: string;
  pid: number;
  startupMs: number;
  stop(): Promise<void>;
}

/** Keycloak 26.6+ runs on Java 17, 21 or 25. */
export async function checkJava(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
  let output: string;
  try {
    const { stderr, stdout } = await run(java, ['-version']);
    output = `${stderr}${stdout}`;
  } catch {
    throw new CliError(
      'Java was not found: Keycloak needs Java 17, 21 or 25. Install one (e.g. `apt-get install openjdk-17-jre-headless`, `brew install openjdk@21`) or set JAVA_HOME.',
    );
  }
  const major = Number(/version "(\d+)/.exec(output)?.[1] ?? 0);
  if (major < 17) {
    throw new CliError(
      `Java ${major || '(unknown)'} is too old: Keycloak needs Java 17, 21 or 25. Install a newer one or point JAVA_HOME at it.`,
    );
  }
  return `${major}`;
}

/** Starts the Keycloak distribution on 127.0.0.1:`port` and waits until it answers. */
export async function startKeycloak(options: StartOptions): Promise<RunningKeycloak> {
  throwIfInterrupted(options.signal);
  const started = Date.now();
  const url = `http://127.0.0.1:${options.port}`;
  const log = openSync(options.logFile, 'a');
  const child = spawn(
    join(options.home, 'bin', 'kc.sh'),
    [
      'start-dev',
      `--http-port=${options.port}`,
      `--http-management-port=${options.managementPort}`,
      '--http-host=127.0.0.1',
      `--db=${options.db}`,
      ...(options.features?.length ? [`--features=${options.features.join(',')}`] : []),
      ...(options.truststorePaths?.length ? [`--truststore-paths=${options.truststorePaths.join(',')}`] : []),
    ],
    {
      detached: true, // own process group: stop() kills Keycloak and its JVM, nothing else
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        // H2 drops an in-memory database when its last connection closes, and the pool closes idle
        // connections after about 5 minutes of quiet: Keycloak 26.0.8's dev-mem URL has no DB_CLOSE_DELAY,
        // and its database was found empty mid-run ("Table USER_ENTITY not found"). -1 keeps it as long
        // as the JVM runs. The whole URL is given, not db-url-properties: 26.4.7 appends its own
        // DB_CLOSE_DELAY=0 to the default URL without looking at the properties, and H2 then refuses to
        // start ("Duplicate property DB_CLOSE_DELAY"); an explicit URL is taken as it is by every version.
        ...(options.db === 'dev-mem' ? { KC_DB_URL: DEV_MEM_URL } : {}),
        ...options.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: options.adminUsername,
        KC_BOOTSTRAP_ADMIN_PASSWORD: options.adminPassword,
      },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = () => stopGroup(child, exited);
  try {
    if (child.pid !== undefined) await options.onSpawn?.(child.pid);
    await waitUntilReady(url, exited, options.timeoutMs ?? 180_000, options.logFile, options.signal);
  } catch (error) {
    await stop();
    throw error;
  }
  if (options.detached) child.unref();
  return { url, pid: child.pid ?? 0, startupMs: Date.now() - started, stop };
}

async function waitUntilReady(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  logFile: string,
  signal?: AbortSignal,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  await waitForKeycloak(url, {
    timeoutMs,
    logFile,
    ...(signal ? { signal } : {}),
    failure: () =>
      exitCode !== undefined ? `Keycloak exited with code ${exitCode} while starting; see ${logFile}.` : undefined,
  });
}

/**
 * Polls the master realm's discovery document until it answers (the readiness signal that works with
 * and without the management interface). `failure` is asked between polls and ends the wait early.
 */
export async function waitForKeycloak(
  url: string,
  options: {
    timeoutMs: number;
    logFile: string;
    failure?: () => string | undefined | Promise<string | undefined>;
    signal?: AbortSignal;
  },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    throwIfInterrupted(options.signal);
    const failed = await options.failure?.();
    if (failed) throw new CliError(failed);
    try {
      const response = await fetch(`${url}/realms/master/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(2000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new CliError(
    `Keycloak did not become ready within ${Math.round(options.timeoutMs / 1000)} s; see ${options.logFile}.`,
  );
}

/** Ends a start that Ctrl-C interrupted (the caller turns it into exit code 130 after cleaning up). */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CliError('Interrupted while starting Keycloak.', ExitCode.interrupted);
}

async function stopGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Whether `pid` is still a Keycloak (kc.sh or its JVM): a recorded pid may have been reused by an
 * unrelated process after a reboot, and that one must never be signalled.
 */
export async function isKeycloakProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const { stdout } = await run('ps', ['-o', 'command=', '-p', String(pid)]);
    return /kc\.sh|-Dkc\.|quarkus-run\.jar|keycloak/i.test(stdout);
  } catch {
    return false;
  }
}

/** Stops a Keycloak started earlier by pid (process group), as `keycloak stop` does. */
export async function stopByPid(pid: number, timeoutMs = 20_000): Promise<boolean> {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
  return true;
}
