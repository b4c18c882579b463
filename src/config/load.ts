/**
 * Turns flags, env and the config file into one validated `Config`: flags > env > file > defaults.
 * Secrets never pass through here: they come from env (or a prompt) via `secrets.ts`.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ZodError } from 'zod';
import { UsageError } from '../errors.js';
import { configSchema, type Config, type DcrMode } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'mcp-keycloak.json';

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
    if (!existsSync(path)) throw new UsageError(`Config file ${explicit} does not exist. Create it with \`mcp-keycloak init\` or drop --config.`);
    return path;
  }
  const implicit = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(implicit) ? implicit : undefined;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not valid JSON (${(error as Error).message}). Fix the syntax or regenerate it with \`mcp-keycloak init --force\`.`);
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
    if (resource !== undefined) next.url = resource;
    if (scopes !== undefined) next.scopes = scopes;
    raw.resources = [next];
  }

  const dcrMode = pick(flags.dcr, env[ENV.dcr]) as DcrMode | undefined;
  const trustedHosts = pick(flags.trustedHost?.length ? flags.trustedHost : undefined, list(env[ENV.trustedHosts]));
  const webOrigins = pick(flags.webOrigin?.length ? flags.webOrigin : undefined, list(env[ENV.webOrigins]));
  if (dcrMode !== undefined || trustedHosts !== undefined || webOrigins !== undefined) {
    raw.dcr = { ...(raw.dcr ?? {}) };
    if (dcrMode !== undefined) raw.dcr.mode = dcrMode;
    if (trustedHosts !== undefined) raw.dcr.trustedHosts = trustedHosts;
    if (webOrigins !== undefined) raw.dcr.webOrigins = webOrigins;
  }

  const testUser = pick(flags.testUser, env[ENV.testUser]);
  if (testUser !== undefined) raw.testUser = { username: testUser };

  const adminUsername = env[ENV.adminUsername];
  const adminClientId = env[ENV.adminClientId];
  if (adminUsername !== undefined || adminClientId !== undefined) {
    raw.admin = { ...(raw.admin ?? {}) };
    if (adminUsername) raw.admin.username = adminUsername;
    if (adminClientId) raw.admin.clientId = adminClientId;
  }

  const host = pick(flags.host, env[ENV.host]);
  const port = pick(flags.port, env[ENV.port]);
  if (host !== undefined || port !== undefined) {
    raw.server = { ...(raw.server ?? {}) };
    if (host !== undefined) raw.server.host = host;
    if (port !== undefined) raw.server.port = Number(port);
  }
  return raw;
}

/** "mcp-keycloak.json: resources[0].url: must be an absolute http:// or https:// URL …" */
export function describeZodError(error: ZodError, file?: string): string {
  const issues = error.issues.map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
      '',
    );
    const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    return `${path || '(root)'}: ${message}`;
  });
  const where = file ? `${file}: ` : 'Invalid configuration: ';
  return `${where}${issues.join('; ')}`;
}
