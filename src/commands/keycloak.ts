/** `mcp-keycloak keycloak start|status|stop`: a local dev Keycloak for people who have none. */
import { ExitCode, UsageError } from '../errors.js';
import { localStatus, startLocalKeycloak, stopLocalKeycloak, type Runtime } from '../local/local-keycloak.js';
import { statePaths } from '../local/state.js';
import type { Ui } from '../ui/output.js';

export interface StartFlags {
  port?: string;
  runtime?: Runtime;
}

function parsePort(value: string | undefined): number {
  const port = Number(value ?? 8080);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port ${value}: must be a TCP port (1-65535).`);
  return port;
}

export async function keycloakStart(flags: StartFlags, ui: Ui): Promise<number> {
  const port = parsePort(flags.port);
  // Ctrl-C while starting: stop what was spawned instead of leaving an orphan behind.
  const onInterrupt = () => {
    void stopLocalKeycloak().finally(() => process.exit(ExitCode.interrupted));
  };
  process.once('SIGINT', onInterrupt);
  try {
    // Progress lines rather than a spinner: download percentages and the build notice must stay readable.
    const result = await startLocalKeycloak({ port, runtime: flags.runtime ?? 'auto', onProgress: (message) => ui.warn(message) });
    const { state } = result;
    if (ui.json) {
      ui.data({ ...state, alreadyRunning: result.alreadyRunning, startupMs: result.startupMs, adminPasswordFile: result.passwordFile });
      return ExitCode.ok;
    }
    const how = state.runtime === 'docker' ? `Docker container ${state.container}` : `pid ${state.pid}`;
    ui.info(
      result.alreadyRunning
        ? ui.color.green(`Keycloak already runs at ${state.url} (${how}).`)
        : ui.color.green(`Keycloak ${state.version} runs at ${state.url} (${how}), ready in ${(result.startupMs / 1000).toFixed(1)} s.`),
    );
    ui.info(`  admin user:     ${state.adminUsername}`);
    ui.info(`  admin password: in ${result.passwordFile} (mode 0600; not printed)`);
    ui.info(`  data:           ${state.dataDir} (kept by stop; stop --delete-data forgets it)`);
    ui.info(`  log:            ${state.logFile}`);
    ui.info('');
    const initCommand = port === 8080 ? 'mcp-keycloak init' : `mcp-keycloak init --keycloak-url http://localhost:${port}`;
    ui.info(`Next: ${initCommand}   (finds this admin password by itself)`);
    return ExitCode.ok;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

export async function keycloakStatus(_flags: Record<string, never>, ui: Ui): Promise<number> {
  const status = await localStatus();
  const { state } = status;
  const verdict = !state ? 'not started' : !status.running ? 'stopped' : status.answering ? 'running' : 'starting';
  if (ui.json) {
    ui.data({ status: verdict, ...(state ?? {}), adminPasswordFile: state ? statePaths().password : undefined });
  } else if (!state) {
    ui.info('No local Keycloak was started by mcp-keycloak. Start one with: mcp-keycloak keycloak start');
  } else {
    const how = state.runtime === 'docker' ? `container ${state.container}` : `pid ${state.pid}`;
    ui.info(`Keycloak at ${state.url}: ${verdict} (${how}, since ${state.startedAt}).`);
    ui.info(`  admin password: in ${statePaths().password}`);
    ui.info(`  log:            ${state.logFile}`);
  }
  // 0 when it runs; 3 lets scripts tell "not running" from an error (1).
  return verdict === 'running' ? ExitCode.ok : 3;
}

export interface StopFlags {
  deleteData?: boolean;
}

export async function keycloakStop(flags: StopFlags, ui: Ui): Promise<number> {
  const result = await ui.step('Stopping Keycloak', () => stopLocalKeycloak({ deleteData: Boolean(flags.deleteData) }));
  if (ui.json) {
    ui.data({ stopped: result.stopped, url: result.state?.url, deletedData: result.deletedData });
    return ExitCode.ok;
  }
  if (result.stopped) ui.info(ui.color.green(`Stopped the Keycloak at ${result.state!.url}.`));
  else ui.info('No local Keycloak started by mcp-keycloak was running.');
  if (result.deletedData) ui.info('Deleted its data and admin password.');
  return ExitCode.ok;
}
