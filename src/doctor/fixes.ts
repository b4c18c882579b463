/**
 * The `mcp-keycloak` commands doctor suggests, spelled with the user's own target so they can be
 * pasted as they are. Values that came from a config file are reached through `--config`.
 */
import { DEFAULTS, type Config } from '../config/schema.js';
import { command } from '../ui/invocation.js';
import type { DoctorInput } from './types.js';

function quoteArg(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Flags that point a command at the same Keycloak, realm and MCP server doctor examined. */
function targetFlags(input: Pick<DoctorInput, 'config' | 'configFile' | 'resource'>): string[] {
  const { config, configFile, resource } = input;
  if (configFile) return ['--config', quoteArg(configFile)];
  const flags: string[] = [];
  if (config.keycloakUrl !== DEFAULTS.keycloakUrl) flags.push('--keycloak-url', quoteArg(config.keycloakUrl));
  if (config.realm !== DEFAULTS.realm) flags.push('--realm', quoteArg(config.realm));
  if (resource.url !== DEFAULTS.resource) flags.push('--resource', quoteArg(resource.url));
  if (resource.scopes.length !== 1 || resource.scopes[0] !== DEFAULTS.scope) for (const scope of resource.scopes) flags.push('--scope', quoteArg(scope));
  return flags;
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

/** `mcp-keycloak apply …` for this target, with extra flags (e.g. `--web-origin X`) appended. */
export function applyCommand(input: Pick<DoctorInput, 'config' | 'configFile' | 'resource'>, extra: string[] = []): string {
  const base = input.configFile ? [] : dcrFlags(input.config);
  return [command('apply'), ...targetFlags(input), ...base, ...extra].join(' ');
}

/** `mcp-keycloak doctor --fix …` for this target. */
export function doctorFixCommand(input: Pick<DoctorInput, 'config' | 'configFile' | 'resource'>): string {
  return [command('doctor --fix'), ...targetFlags(input)].join(' ');
}
