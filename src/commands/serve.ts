/** `mcp-keycloak serve`: run the reference MCP server for the configured realm until SIGINT/SIGTERM. */
import { portOf } from '../addresses.js';
import { applyOverrideArgs, loadConfig, type ConfigFlags } from '../config/load.js';
import { parseDecimal, printable } from '../config/rules.js';
import { ExitCode, UsageError } from '../errors.js';
import {
  AUTH_MODES,
  startReferenceServer,
  type AuthMode,
  type DpopMode,
  type DpopSettings,
  type ReferenceServerOptions,
} from '../server/index.js';
import { watchConfigFile } from '../server/config-watch.js';
import { followConfig, type Followed } from '../server/follow-config.js';
import { DEFAULT_INTROSPECTION_CACHE_MS } from '../server/introspect.js';
import { commandLine } from '../ui/invocation.js';
import type { Ui } from '../ui/output.js';

export interface ServeFlags extends ConfigFlags {
  auth?: string;
  dpop?: string;
  dpopNonce?: boolean;
}

const DPOP_MODES: readonly DpopMode[] = ['off', 'allowed', 'required'];

/** --dpop (env MCP_KEYCLOAK_DPOP) and --dpop-nonce: which tokens serve accepts, bearer or DPoP-bound (RFC 9449). */
function dpopSettings(flags: ServeFlags, env: Record<string, string | undefined>): DpopSettings | undefined {
  const source = flags.dpop !== undefined ? '--dpop' : 'MCP_KEYCLOAK_DPOP';
  const mode = (flags.dpop ?? env.MCP_KEYCLOAK_DPOP ?? 'off') as DpopMode;
  if (!DPOP_MODES.includes(mode)) throw new UsageError(`${source} must be one of ${DPOP_MODES.join(', ')}.`);
  if (flags.dpopNonce && mode === 'off') throw new UsageError('--dpop-nonce needs --dpop allowed or required.');
  return mode === 'off' ? undefined : { mode, nonce: flags.dpopNonce === true };
}

/** Credentials of the confidential client that may call Keycloak's introspection endpoint. */
const INTROSPECTION_ENV = {
  clientId: 'MCP_KEYCLOAK_INTROSPECTION_CLIENT_ID',
  clientSecret: 'MCP_KEYCLOAK_INTROSPECTION_CLIENT_SECRET',
  /** Seconds an introspection answer is reused (default 30); 0 asks Keycloak on every request. */
  cacheSeconds: 'MCP_KEYCLOAK_INTROSPECTION_CACHE_SECONDS',
} as const;

/**
 * The `apply` that creates what serve finds missing in the realm (the realm, a scope, a step-up scope),
 * aimed at what this run read: the config file, and the flags that override it, `--tool-scope` included
 * (apply reads the environment, and ./.env, as serve does, so variables need no repeating).
 */
export function applyFixCommand(flags: ServeFlags, file: string | undefined): string {
  return commandLine(['apply', ...(file ? ['--config', file] : []), ...applyOverrideArgs(flags)]);
}

/** Turns flags/env/file into server options; exported so tests can check the derivation without a socket. */
async function serveOptions(
  flags: ServeFlags,
  env: Record<string, string | undefined> = process.env,
): Promise<{ options: ReferenceServerOptions; file: string | undefined }> {
  const { config, file } = await loadConfig(flags, env);
  if (config.resources.length > 1) {
    throw new UsageError(
      `The config lists ${config.resources.length} resources; serve runs one MCP server: pick it with --resource URL --scope SCOPE.`,
    );
  }
  const resource = config.resources[0]!;
  const auth = (flags.auth ?? 'jwt') as AuthMode;
  if (!AUTH_MODES.includes(auth)) throw new UsageError(`--auth must be one of ${AUTH_MODES.join(', ')}.`);
  const options: ReferenceServerOptions = {
    keycloakUrl: config.keycloakUrl,
    realm: config.realm,
    resource: resource.url,
    scopes: resource.scopes,
    // --tool-scope is merged into the config by loadConfig, as for plan and apply.
    toolScopes: resource.toolScopes ?? {},
    host: config.server.host,
    port: config.server.port ?? portOf(resource.url),
    auth,
    applyCommand: applyFixCommand(flags, file),
  };
  // Service-account tokens only from the machine clients that call this server (src/server/authenticate.ts).
  const machineClients = (config.machineClients ?? [])
    .filter((machine) => (machine.resource ?? resource.url) === resource.url)
    .map((machine) => machine.clientId);
  if (machineClients.length) options.machineClients = machineClients;
  const dpop = dpopSettings(flags, env);
  if (dpop) options.dpop = dpop;
  if (auth === 'introspection') {
    // Keycloak ≥ 26.6.2 only introspects for clients in the token's `aud` (CVE-2026-37979), and `aud`
    // holds the resource URL: a confidential client named exactly like the resource qualifies as is.
    const clientId = env[INTROSPECTION_ENV.clientId] || resource.url;
    const clientSecret = env[INTROSPECTION_ENV.clientSecret];
    if (!clientSecret) {
      throw new UsageError(
        `--auth introspection needs the secret of a confidential client of realm "${config.realm}" (client id ${clientId}): set ${INTROSPECTION_ENV.clientSecret}.`,
      );
    }
    options.introspection = { clientId, clientSecret };
    const cache = env[INTROSPECTION_ENV.cacheSeconds];
    if (cache !== undefined && cache !== '') {
      const seconds = parseDecimal(cache, 0, 300);
      if (seconds === undefined) {
        throw new UsageError(
          `${INTROSPECTION_ENV.cacheSeconds} must be a whole number of seconds from 0 to 300 in decimal digits (got "${printable(cache, 20)}").`,
        );
      }
      options.introspection.cacheTtlMs = seconds * 1000;
    }
  }
  return { options, file };
}

/** Runs the reference MCP server until SIGINT/SIGTERM, following its config file; returns the exit code. */
export async function serve(flags: ServeFlags, ui: Ui): Promise<number> {
  const { options, file } = await serveOptions(flags);
  withLogging(options, ui);
  const server = await ui.step(`Starting the MCP server for realm ${options.realm}`, () =>
    startReferenceServer(options),
  );
  const running: Followed = { options, server };
  announce(running, ui);
  let fail: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const watch = file
    ? await watchConfigFile(file, () =>
        followConfig(
          {
            file,
            ui,
            load: async () => withLogging((await serveOptions(flags)).options, ui),
            announce: (next) => announce(next, ui),
          },
          running,
        ).catch(fail),
      )
    : undefined;
  if (file && !ui.json)
    ui.info(`Config        ${file}: watched (scopes and toolScopes apply at once, other changes restart the server)`);
  if (!ui.json) ui.info('Press Ctrl-C to stop.');
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  try {
    const signal = await Promise.race([stopped, failed]);
    await running.server.close();
    if (!ui.json) ui.info(`Stopped (${signal}).`);
  } finally {
    watch?.close();
  }
  // A requested stop is the normal end of a server's life.
  return ExitCode.ok;
}

function withLogging(options: ReferenceServerOptions, ui: Ui): ReferenceServerOptions {
  if (ui.json)
    options.onRequest = (entry) => process.stdout.write(`${JSON.stringify({ event: 'request', ...entry })}\n`);
  else options.log = (line) => ui.info(line);
  return options;
}

/** The start-up banner (text), or the `listening` event (--json). */
function announce({ options, server }: Followed, ui: Ui): void {
  const listening = `${options.host}:${options.port}`;
  if (ui.json) {
    process.stdout.write(
      `${JSON.stringify({ event: 'listening', url: server.url, metadataUrl: server.metadataUrl, issuer: server.issuer, auth: server.auth, dpop: options.dpop?.mode ?? 'off', scopes: options.scopes, toolScopes: options.toolScopes, machineClients: options.machineClients ?? [], listen: listening })}\n`,
    );
    return;
  }
  ui.info(`MCP endpoint  ${ui.color.bold(server.url)}  (listening on ${listening})`);
  ui.info(`Metadata      ${server.metadataUrl}`);
  ui.info(`Issuer        ${server.issuer}`);
  const cache = options.introspection?.cacheTtlMs ?? DEFAULT_INTROSPECTION_CACHE_MS;
  const cacheNote =
    server.auth === 'introspection' ? ` (${cache > 0 ? `answers cached ${cache / 1000} s` : 'every request'})` : '';
  ui.info(`Auth          ${describeAuth(server.auth)}${cacheNote}; scope ${options.scopes.join(' or ')}`);
  if (server.auth !== 'off')
    ui.info(
      `Machines      ${options.machineClients?.length ? `service-account tokens of ${options.machineClients.join(', ')} only` : 'service-account tokens refused (no machine clients configured)'}`,
    );
  if (options.dpop && server.auth !== 'off')
    ui.info(
      `DPoP          ${options.dpop.mode === 'required' ? 'required: Bearer tokens are refused' : 'allowed beside Bearer'}${options.dpop.nonce ? '; proofs need a server nonce' : ''}`,
    );
  const stepUp = describeStepUpRules(options);
  if (stepUp) ui.info(`Step-up       ${stepUp}${server.auth === 'off' ? ' (not checked: authentication is off)' : ''}`);
  if (server.auth === 'off')
    ui.warn(ui.color.yellow('warning: authentication is OFF: anyone on this machine can call the tools.'));
}

function describeStepUpRules(options: ReferenceServerOptions): string {
  return Object.entries(options.toolScopes ?? {})
    .filter(([, scopes]) => scopes.length > 0)
    .map(([tool, scopes]) => `${tool} also needs ${scopes.join(' ')}`)
    .join('; ');
}

function describeAuth(auth: AuthMode): string {
  if (auth === 'jwt') return 'JWT validated locally against the realm JWKS';
  if (auth === 'introspection') return 'RFC 7662 introspection';
  return 'off';
}
