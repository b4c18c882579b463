/**
 * Turns flags, env and the config file into one validated `Config`: flags > env > file > defaults.
 * Secrets never pass through here: they come from env (or a prompt) via `secrets.ts`.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ZodError } from 'zod';
import { UsageError } from '../errors.js';
import { command } from '../ui/invocation.js';
import { parseDecimal, printable } from './rules.js';
import { configSchema, DEFAULTS, type Config, type DcrMode } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'mcp-keycloak.json';
/** A config file is a few hundred bytes; a megabyte is a wrong path (a log, a database), not a config. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** The options every Keycloak-facing command accepts (commander camel-cases the flags). */
export interface ConfigFlags {
  config?: string;
  keycloakUrl?: string;
  realm?: string;
  resource?: string;
  scope?: string[];
  dcr?: string;
  trustedHost?: string[];
  webOrigin?: string[];
  cimd?: boolean;
  cimdDomain?: string[];
  cimdAllowHttp?: boolean;
  testUser?: string;
  host?: string;
  port?: string | number;
}

type Env = Record<string, string | undefined>;

/** Env variables that mirror flags. Documented in the README's "Environment" table. */
export const ENV = {
  keycloakUrl: 'KEYCLOAK_URL',
  realm: 'MCP_KEYCLOAK_REALM',
  resource: 'MCP_KEYCLOAK_RESOURCE',
  scope: 'MCP_KEYCLOAK_SCOPE',
  dcr: 'MCP_KEYCLOAK_DCR',
  trustedHosts: 'MCP_KEYCLOAK_TRUSTED_HOSTS',
  webOrigins: 'MCP_KEYCLOAK_WEB_ORIGINS',
  cimd: 'MCP_KEYCLOAK_CIMD',
  cimdDomains: 'MCP_KEYCLOAK_CIMD_DOMAINS',
  testUser: 'MCP_KEYCLOAK_TEST_USER',
  config: 'MCP_KEYCLOAK_CONFIG',
  adminUsername: 'KEYCLOAK_ADMIN_USERNAME',
  adminClientId: 'KEYCLOAK_ADMIN_CLIENT_ID',
  host: 'MCP_KEYCLOAK_HOST',
  port: 'MCP_KEYCLOAK_PORT',
} as const;

export interface LoadedConfig {
  config: Config;
  /** The file that was read, if any. */
  file?: string;
}

/** Loads, merges and validates. Every problem is a UsageError that names the field. */
export async function loadConfig(flags: ConfigFlags, env: Env = process.env, cwd = process.cwd()): Promise<LoadedConfig> {
  const file = pickConfigFile(flags, env, cwd);
  const fromFile = file ? await readConfigFile(file) : {};
  const raw = mergeSources(fromFile, env, flags);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(describeZodError(parsed.error, file));
  const config = parsed.data;
  config.keycloakUrl = config.keycloakUrl.replace(/\/+$/, '');
  return file ? { config, file } : { config };
}

function pickConfigFile(flags: ConfigFlags, env: Env, cwd: string): string | undefined {
  const explicit = flags.config ?? env[ENV.config];
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new UsageError(`Config file ${explicit} does not exist. Create it with \`${command('init')}\` or drop --config.`);
    return path;
  }
  const implicit = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(implicit) ? implicit : undefined;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new UsageError(`Config file ${path} is a directory: pass the JSON file itself, e.g. --config ${resolve(path, DEFAULT_CONFIG_FILE)}.`);
    if (info.size > MAX_CONFIG_FILE_BYTES) throw new UsageError(`Config file ${path} is ${info.size} bytes, more than a config file can be (limit 1 MB): check --config.`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`Cannot read config file ${path} (${code}): check the path and its permissions.`, { cause: error });
  }
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it, people should not have to care.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not valid JSON (${printable((error as Error).message, 200)}). Fix the syntax or regenerate it with \`${command('init --force')}\`.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${path}: must contain a JSON object, e.g. {"realm": "mcp-demo"}.`);
  }
  return value as Record<string, unknown>;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(/[,\s]+/).filter(Boolean);
}

/** Overlays env then flags on the file's object. Exported for unit tests. */
export function mergeSources(fromFile: Record<string, unknown>, env: Env, flags: ConfigFlags): Record<string, unknown> {
  const raw: Record<string, any> = structuredClone(fromFile);
  const pick = <T>(flag: T | undefined, envValue: T | undefined): T | undefined => flag ?? envValue;

  const keycloakUrl = pick(flags.keycloakUrl, env[ENV.keycloakUrl]);
  if (keycloakUrl !== undefined) raw.keycloakUrl = keycloakUrl;
  const realm = pick(flags.realm, env[ENV.realm]);
  if (realm !== undefined) raw.realm = realm;

  // --resource / --scope describe the common single-server case and replace the file's list.
  const resource = pick(flags.resource, env[ENV.resource]);
  const scopes = pick(flags.scope?.length ? flags.scope : undefined, list(env[ENV.scope]));
  if (resource !== undefined || scopes !== undefined) {
    const first = Array.isArray(raw.resources) ? raw.resources[0] : undefined;
    const base = first && typeof first === 'object' ? first : {};
    const next: Record<string, unknown> = { ...base };
    // `--scope` alone keeps the file's URL, else the default one, as every other flag does.
    if (next.url === undefined) next.url = DEFAULTS.resource;
    if (resource !== undefined) next.url = resource;
    if (scopes !== undefined) next.scopes = scopes;
    raw.resources = [next];
  }

  const dcrMode = pick(flags.dcr, env[ENV.dcr]) as DcrMode | undefined;
  const trustedHosts = pick(flags.trustedHost?.length ? flags.trustedHost : undefined, list(env[ENV.trustedHosts]));
  const webOrigins = pick(flags.webOrigin?.length ? flags.webOrigin : undefined, list(env[ENV.webOrigins]));
  if (dcrMode !== undefined || trustedHosts !== undefined || webOrigins !== undefined) {
    raw.dcr = overlay(raw.dcr);
    if (dcrMode !== undefined) raw.dcr.mode = dcrMode;
    if (trustedHosts !== undefined) raw.dcr.trustedHosts = trustedHosts;
    if (webOrigins !== undefined) raw.dcr.webOrigins = webOrigins;
  }

  // --cimd (or MCP_KEYCLOAK_CIMD=true) turns CIMD on; --cimd-domain and --cimd-allow-http imply it.
  const cimdEnv = env[ENV.cimd];
  if (cimdEnv !== undefined && cimdEnv !== '' && !['true', 'false', '1', '0'].includes(cimdEnv)) {
    throw new UsageError(`${ENV.cimd}=${printable(cimdEnv, 20)}: must be true or false.`);
  }
  const cimdDomains = pick(flags.cimdDomain?.length ? flags.cimdDomain : undefined, list(env[ENV.cimdDomains]));
  // A CIMD flag on the command line wins over MCP_KEYCLOAK_CIMD=false in the environment, as flags do.
  const impliedByFlags = Boolean(flags.cimdDomain?.length || flags.cimdAllowHttp) || undefined;
  const cimdOn = flags.cimd ?? impliedByFlags ?? (cimdEnv ? cimdEnv === 'true' || cimdEnv === '1' : undefined);
  if (cimdOn !== undefined || cimdDomains !== undefined || flags.cimdAllowHttp) {
    raw.cimd = overlay(raw.cimd);
    raw.cimd.enabled = cimdOn ?? true;
    if (cimdDomains !== undefined) raw.cimd.domains = cimdDomains;
    if (flags.cimdAllowHttp) raw.cimd.allowHttp = true;
  }

  const testUser = pick(flags.testUser, env[ENV.testUser]);
  if (testUser !== undefined) raw.testUser = { username: testUser };

  const adminUsername = env[ENV.adminUsername];
  const adminClientId = env[ENV.adminClientId];
  if (adminUsername !== undefined || adminClientId !== undefined) {
    raw.admin = overlay(raw.admin);
    if (adminUsername) raw.admin.username = adminUsername;
    if (adminClientId) raw.admin.clientId = adminClientId;
  }

  const host = pick(flags.host, env[ENV.host]);
  const envPort = env[ENV.port] === '' ? undefined : env[ENV.port];
  const port = flags.port !== undefined ? portOf(String(flags.port), '--port') : envPort !== undefined ? portOf(envPort, ENV.port) : undefined;
  if (host !== undefined || port !== undefined) {
    raw.server = overlay(raw.server);
    if (host !== undefined) raw.server.host = host;
    if (port !== undefined) raw.server.port = port;
  }
  return raw;
}

/**
 * The file's section to overlay flags on. A section that is not an object (`"dcr": "x"`) is replaced
 * rather than spread: spreading a string would turn it into fields "0", "1", … and a baffling error.
 */
function overlay(section: unknown): Record<string, unknown> {
  return section !== null && typeof section === 'object' && !Array.isArray(section) ? { ...(section as Record<string, unknown>) } : {};
}

/** A port from a flag or env: decimal digits only (`1e3` or `0x50` are typos, not ports). */
function portOf(value: string, source: string): number {
  const port = parseDecimal(value, 1, 65535);
  if (port === undefined) throw new UsageError(`${source} must be a port number from 1 to 65535 in decimal digits (got "${printable(value, 20)}").`);
  return port;
}

/** How many problems one error line lists; a file with a thousand unknown keys still gets one readable line. */
const MAX_ISSUES = 5;

/** "mcp-keycloak.json: resources[0].url: must be an absolute http:// or https:// URL …" */
export function describeZodError(error: ZodError, file?: string): string {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${printable(String(part), 40)}` : printable(String(part), 40)),
      '',
    );
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.slice(0, MAX_ISSUES).map((k) => `"${printable(k, 40)}"`).join(', ')}${issue.keys.length > MAX_ISSUES ? ', …' : ''}`
        : printable(issue.message, 300);
    return `${path || '(root)'}: ${message}`;
  });
  const more = error.issues.length > MAX_ISSUES ? `; and ${error.issues.length - MAX_ISSUES} more problem(s)` : '';
  const where = file ? `${file}: ` : 'Invalid configuration: ';
  return `${where}${issues.join('; ')}${more}`;
}
