/**
 * The `mcp-keycloak` commands doctor suggests, spelled with the user's own target so they can be
 * pasted as they are. With a config file: `--config FILE` and the flags this run gave on top of it;
 * without one: the values that differ from the defaults.
 */
import { DEFAULTS, type Config } from '../config/schema.js';
import { command } from '../ui/invocation.js';
import type { DoctorInput } from './types.js';

type Target = Pick<DoctorInput, 'config' | 'configFile' | 'resource' | 'overrides'>;

function quoteArg(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Flags that point a command at the same Keycloak, realm, MCP server and registration setup doctor examined. */
function targetFlags(input: Target): string[] {
  const { config, configFile, resource } = input;
  // The pasted command reads the file again; what the command line changed on top of it must come along
  // (environment variables are still set where it is pasted).
  if (configFile) return ['--config', configFile, ...(input.overrides ?? [])].map(quoteArg);
  const flags: string[] = [];
  if (config.keycloakUrl !== DEFAULTS.keycloakUrl) flags.push('--keycloak-url', quoteArg(config.keycloakUrl));
  if (config.realm !== DEFAULTS.realm) flags.push('--realm', quoteArg(config.realm));
  if (resource.url !== DEFAULTS.resource) flags.push('--resource', quoteArg(resource.url));
  if (resource.scopes.length !== 1 || resource.scopes[0] !== DEFAULTS.scope)
    for (const scope of resource.scopes) flags.push('--scope', quoteArg(scope));
  return [...flags, ...dcrFlags(config)];
}

function dcrFlags(config: Config): string[] {
  const flags: string[] = [];
  if (config.dcr.mode !== 'anonymous') flags.push('--dcr', config.dcr.mode);
  for (const host of config.dcr.trustedHosts) flags.push('--trusted-host', quoteArg(host));
  for (const origin of config.dcr.webOrigins ?? []) flags.push('--web-origin', quoteArg(origin));
  if (config.cimd?.enabled) {
    flags.push('--cimd');
    for (const domain of config.cimd.domains) flags.push('--cimd-domain', quoteArg(domain));
    if (config.cimd.allowHttp) flags.push('--cimd-allow-http');
  }
  return flags;
}

/**
 * `mcp-keycloak apply …` for this target, with extra flags (e.g. `--web-origin X`) appended. An extra
 * `--dcr MODE` replaces the run's mode and its trusted hosts (a fix that changes the mode).
 */
export function applyCommand(input: Target, extra: string[] = []): string {
  let target = targetFlags(input);
  if (extra.includes('--dcr')) target = withoutFlags(target, ['--dcr', '--trusted-host']);
  return [command('apply'), ...target, ...extra].join(' ');
}

/** `mcp-keycloak doctor --fix …` for this target. */
export function doctorFixCommand(input: Target): string {
  return [command('doctor --fix'), ...targetFlags(input)].join(' ');
}

/** `args` without the named flags and their values (each of these flags takes one value). */
function withoutFlags(args: string[], names: string[]): string[] {
  return args.filter((arg, i) => !names.includes(arg) && !names.includes(args[i - 1] ?? ''));
}
