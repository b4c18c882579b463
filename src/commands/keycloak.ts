/** `mcp-keycloak keycloak start|status|stop`: a local dev Keycloak for people who have none. */
import { parseDecimal, printable } from '../config/rules.js';
import { ExitCode, UsageError } from '../errors.js';
import { describeFeatures, parseFeatures, startArguments } from '../local/features.js';
import { interruptible } from '../local/interrupt.js';
import { localStatus, startLocalKeycloak, stopLocalKeycloak, type Runtime } from '../local/local-keycloak.js';
import { statePaths, type LocalKeycloakState } from '../local/state.js';
import { command } from '../ui/invocation.js';
import type { Ui } from '../ui/output.js';

export interface StartFlags {
  port?: string;
  runtime?: Runtime;
  /** --keycloak-version: which Keycloak to download and run (default: the pinned newest). */
  keycloakVersion?: string;
  /** --features: Keycloak features to enable, comma-separated (default: env MCP_KEYCLOAK_FEATURES). */
  features?: string;
}

function parsePort(value: string | undefined): number {
  // Decimal digits only: Number() would read `1e3` as port 1000.
  const port = parseDecimal(value ?? '8080', 1, 65535);
  if (port === undefined)
    throw new UsageError(`--port ${printable(value ?? '', 20)}: must be a TCP port (1-65535) in decimal digits.`);
  return port;
}

/** `keycloak start` with the flags that bring this Keycloak (its port, its runtime's data, its version and features) back. */
function startCommand(state: Pick<LocalKeycloakState, 'port' | 'runtime' | 'version' | 'features'>): string {
  return command(startArguments(state));
}

/**
 * The config file's `keycloakFeatures` (./mcp-keycloak.json or MCP_KEYCLOAK_CONFIG), when neither
 * --features nor MCP_KEYCLOAK_FEATURES decides; a config file that does not validate is its one-line error.
 */
async function featuresFromConfigFile(): Promise<string[] | undefined> {
  // An empty variable counts as unset, as startLocalKeycloak reads it.
  if (process.env.MCP_KEYCLOAK_FEATURES) return undefined;
  const { loadConfig } = await import('../config/load.js');
  const { config, file } = await loadConfig({});
  return file ? config.keycloakFeatures : undefined;
}

/** `keycloak start`: starts (or finds running) the local dev Keycloak and says where it is; returns the exit code. */
export async function keycloakStart(flags: StartFlags, ui: Ui): Promise<number> {
  const port = parsePort(flags.port);
  const features =
    flags.features !== undefined ? parseFeatures(flags.features, '--features') : await featuresFromConfigFile();
  // Progress lines rather than a spinner: download percentages and the build notice must stay readable.
  const result = await interruptible((signal) =>
    startLocalKeycloak({
      port,
      runtime: flags.runtime ?? 'auto',
      ...(flags.keycloakVersion !== undefined ? { version: flags.keycloakVersion } : {}),
      ...(features !== undefined ? { features } : {}),
      signal,
      onProgress: (message) => ui.warn(message),
    }),
  );
  const { state } = result;
  if (ui.json) {
    ui.data({
      ...state,
      features: state.features ?? [],
      alreadyRunning: result.alreadyRunning,
      startupMs: result.startupMs,
      adminPasswordFile: result.passwordFile,
    });
    return ExitCode.ok;
  }
  const how = state.runtime === 'docker' ? `Docker container ${state.container}` : `pid ${state.pid}`;
  ui.info(
    result.alreadyRunning
      ? ui.color.green(`Keycloak already runs at ${state.url} (${how}).`)
      : ui.color.green(
          `Keycloak ${state.version} runs at ${state.url} (${how}), ready in ${(result.startupMs / 1000).toFixed(1)} s.`,
        ),
  );
  ui.info(`  features:       ${describeFeatures(state.features)}`);
  ui.info(`  admin user:     ${state.adminUsername}`);
  ui.info(`  admin password: in ${result.passwordFile} (mode 0600; not printed)`);
  ui.info(`  data:           ${state.dataDir} (kept by stop; stop --delete-data forgets it)`);
  ui.info(`  log:            ${state.logFile}`);
  ui.info('');
  const initCommand = command(port === 8080 ? 'init' : `init --keycloak-url http://localhost:${port}`);
  ui.info(`Next: ${initCommand}   (finds this admin password by itself)`);
  return ExitCode.ok;
}

type Verdict = 'not started' | 'stopped' | 'starting' | 'running';

/** Exit code 0 only when Keycloak runs and answers; 3 (ExitCode.notRunning) for every other state, 1 on errors. */
export async function keycloakStatus(_flags: Record<string, never>, ui: Ui): Promise<number> {
  const status = await localStatus();
  const { state } = status;
  const verdict: Verdict = !state
    ? 'not started'
    : !status.running
      ? 'stopped'
      : status.answering
        ? 'running'
        : 'starting';
  const passwordFile = statePaths().password;
  if (ui.json) {
    ui.data({
      status: verdict,
      ...(state ? { ...state, features: state.features ?? [] } : {}),
      adminPasswordFile: state ? passwordFile : undefined,
    });
  } else if (!state) {
    ui.info(`No local Keycloak was started by mcp-keycloak. Start one with: ${command('keycloak start')}`);
  } else if (verdict === 'stopped') {
    const when = state.stoppedAt ? `since ${state.stoppedAt}` : '(its process is gone)';
    ui.info(`Keycloak at ${state.url}: stopped ${when}.`);
    ui.info(`  data:           ${state.dataDir} (kept: its realms come back with it)`);
    ui.info(`  features:       ${describeFeatures(state.features)}`);
    ui.info(`  admin password: in ${passwordFile}`);
    ui.info(`  start it again: ${startCommand(state)}`);
    ui.info(`  or forget it:   ${command('keycloak stop --delete-data')}`);
  } else {
    const how = state.runtime === 'docker' ? `container ${state.container}` : `pid ${state.pid}`;
    ui.info(`Keycloak at ${state.url}: ${verdict} (${how}, since ${state.startedAt}).`);
    ui.info(`  features:       ${describeFeatures(state.features)}`);
    ui.info(`  admin password: in ${passwordFile}`);
    ui.info(`  log:            ${state.logFile}`);
  }
  return verdict === 'running' ? ExitCode.ok : ExitCode.notRunning;
}

export interface StopFlags {
  deleteData?: boolean;
}

/** `keycloak stop`: stops the local dev Keycloak, keeping its data unless --delete-data; returns the exit code. */
export async function keycloakStop(flags: StopFlags, ui: Ui): Promise<number> {
  const result = await ui.step('Stopping Keycloak', () => stopLocalKeycloak({ deleteData: Boolean(flags.deleteData) }));
  if (ui.json) {
    ui.data({
      stopped: result.stopped,
      url: result.state?.url,
      deletedData: result.deletedData,
      ...(result.state && !flags.deleteData ? { dataDir: result.state.dataDir } : {}),
    });
    return ExitCode.ok;
  }
  if (result.stopped) ui.info(ui.color.green(`Stopped the Keycloak at ${result.state!.url}.`));
  else if (result.state) ui.info(`The Keycloak at ${result.state.url} was not running.`);
  else ui.info('No local Keycloak started by mcp-keycloak was running.');
  if (result.deletedData) ui.info('Deleted its data and admin password.');
  else if (result.state)
    ui.info(
      `Its data is kept in ${result.state.dataDir}: ${startCommand(result.state)} brings it back; add --delete-data to forget it.`,
    );
  return ExitCode.ok;
}
