/**
 * Turns flags, env and the config file into one validated `Config`: flags > env > file > defaults.
 * Secrets never pass through here: they come from env (or a prompt) via `secrets.ts`.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ZodError } from 'zod';
import { UsageError } from '../errors.js';
import { command } from '../ui/invocation.js';
import { ownProtoKeyPath, parseBoolean, parseDecimal, printable, reservedKeyProblem } from './rules.js';
import { configSchema, DEFAULTS, scopeName, type Config, type DcrMode } from './schema.js';

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
  /** `--require-dpop`: anonymously created clients get DPoP-bound tokens. */
  requireDpop?: boolean;
  testUser?: string;
  host?: string;
  port?: string | number;
  /** `--tool-scope <tool>=<scope>`, repeatable (plan, apply, serve): step-up scopes of the first resource. */
  toolScope?: string[];
  /** `--machine-client <clientId>[:private_key_jwt|client_secret_basic]`, repeatable (plan, apply, serve). */
  machineClient?: string[];
  /** `--client <ids>` (doctor, apply, init): catalogue ids, comma-separated or repeated, or `all` (config `clients`). */
  client?: string[];
}

type Env = Record<string, string | undefined>;

/**
 * The command-line flags among `flags` that change what `apply` provisions, spelled as typed (one
 * argument each), for an apply the user pastes next (after doctor or serve): with the same config file
 * and these flags it reads the same config. Environment variables are not repeated: they are still set
 * where the command is pasted. `--test-user` is left out: it makes apply demand the user's password,
 * so only the fixes about the test user add it.
 */
export function applyOverrideArgs(flags: ConfigFlags): string[] {
  const args: string[] = [];
  const one = (flag: string, value: string | undefined) => value !== undefined && args.push(flag, value);
  const many = (flag: string, values: string[] | undefined) => values?.forEach((value) => args.push(flag, value));
  one('--keycloak-url', flags.keycloakUrl);
  one('--realm', flags.realm);
  one('--resource', flags.resource);
  many('--scope', flags.scope);
  many('--tool-scope', flags.toolScope);
  many('--machine-client', flags.machineClient);
  many('--client', flags.client);
  one('--dcr', flags.dcr);
  many('--trusted-host', flags.trustedHost);
  many('--web-origin', flags.webOrigin);
  if (flags.cimd) args.push('--cimd');
  many('--cimd-domain', flags.cimdDomain);
  if (flags.cimdAllowHttp) args.push('--cimd-allow-http');
  if (flags.requireDpop) args.push('--require-dpop');
  return args;
}

/** A true/false environment variable (1/0, yes/no, on/off too); undefined when unset or empty. */
function booleanEnv(env: Env, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const parsed = parseBoolean(value);
  if (parsed === undefined)
    throw new UsageError(
      `${name}=${printable(value, 20)}: must be true or false (1/0, yes/no and on/off are read the same way).`,
    );
  return parsed;
}

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
  requireDpop: 'MCP_KEYCLOAK_REQUIRE_DPOP',
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

/**
 * A value a flag or env variable put into the merged config: its path there and the flag or variable,
 * so that an error about it names where it came from instead of blaming the config file.
 */
export interface Origin {
  path: readonly (string | number)[];
  source: string;
}

/** Loads, merges and validates. Every problem is a UsageError that names the field and where its value came from. */
export async function loadConfig(
  flags: ConfigFlags,
  env: Env = process.env,
  cwd = process.cwd(),
): Promise<LoadedConfig> {
  const file = pickConfigFile(flags, env, cwd);
  const fromFile = file ? await readConfigFile(file) : {};
  const origins: Origin[] = [];
  const raw = mergeSources(fromFile, env, flags, origins);
  const protoKey = ownProtoKeyPath(raw);
  if (protoKey) {
    const issue = { code: 'custom' as const, path: protoKey, message: reservedKeyProblem('__proto__')!, input: raw };
    throw new UsageError(describeZodError(new ZodError([issue]), file, { origins, fromFile }));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(describeZodError(parsed.error, file, { origins, fromFile }));
  const config = parsed.data;
  config.keycloakUrl = config.keycloakUrl.replace(/\/+$/, '');
  return file ? { config, file } : { config };
}

/** The config file a command reads: --config / MCP_KEYCLOAK_CONFIG (which must exist), else ./mcp-keycloak.json when present. */
export function pickConfigFile(flags: ConfigFlags, env: Env, cwd: string): string | undefined {
  const explicit = flags.config ?? env[ENV.config];
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path))
      throw new UsageError(
        `Config file ${explicit} does not exist. Create it with \`${command('init')}\` or drop --config.`,
      );
    return path;
  }
  const implicit = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(implicit) ? implicit : undefined;
}

/** The config file's JSON object (a BOM allowed); every problem is a UsageError naming the file. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory())
      throw new UsageError(
        `Config file ${path} is a directory: pass the JSON file itself, e.g. --config ${resolve(path, DEFAULT_CONFIG_FILE)}.`,
      );
    if (info.size > MAX_CONFIG_FILE_BYTES)
      throw new UsageError(
        `Config file ${path} is ${info.size} bytes, more than a config file can be (limit 1 MB): check --config.`,
      );
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`Cannot read config file ${path} (${code}): check the path and its permissions.`, {
      cause: error,
    });
  }
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it, people should not have to care.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${path}: not valid JSON (${printable((error as Error).message, 200)}). Fix the syntax or regenerate it with \`${command('init --force')}\`.`,
    );
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

/**
 * `--tool-scope tool=scope` flags by tool, in the order given: a tool named several times needs all
 * its scopes. Only the syntax and the scope token are checked here; the schema checks the rest.
 */
function toolScopeFlags(flags: readonly string[]): Map<string, string[]> {
  const byTool = new Map<string, string[]>();
  for (const flag of flags) {
    const match = /^([^=]+)=(.*)$/.exec(flag);
    if (!match)
      throw new UsageError(
        `--tool-scope must be TOOL=SCOPE, e.g. divide_numbers=mcp:admin (got "${printable(flag, 60)}").`,
      );
    const [, tool, scope] = match as unknown as [string, string, string];
    const toolProblem = reservedKeyProblem(tool);
    if (toolProblem) throw new UsageError(`--tool-scope ${printable(tool, 60)}=…: the tool name ${toolProblem}.`);
    const parsed = scopeName.safeParse(scope);
    if (!parsed.success)
      throw new UsageError(`--tool-scope ${printable(tool, 60)}=…: the scope ${parsed.error.issues[0]!.message}.`);
    const scopes = byTool.get(tool) ?? [];
    if (!scopes.includes(scope)) scopes.push(scope);
    byTool.set(tool, scopes);
  }
  return byTool;
}

/**
 * Overlays env then flags on the file's object. Exported for unit tests. Each value a flag or env
 * variable sets is recorded in `origins`, for error messages.
 */
export function mergeSources(
  fromFile: Record<string, unknown>,
  env: Env,
  flags: ConfigFlags,
  origins: Origin[] = [],
): Record<string, unknown> {
  const raw: Record<string, any> = structuredClone(fromFile);
  /** The flag's value, else the env variable's; records which of them set `path`. */
  const pick = <T>(
    path: Origin['path'],
    flag: T | undefined,
    flagName: string,
    envValue: T | undefined,
    envName: string,
  ): T | undefined => {
    const source = flag !== undefined ? flagName : envValue !== undefined ? envName : undefined;
    if (source !== undefined) origins.push({ path, source });
    return flag ?? envValue;
  };
  const many = (values: string[] | undefined) => (values?.length ? values : undefined);

  const keycloakUrl = pick(['keycloakUrl'], flags.keycloakUrl, '--keycloak-url', env[ENV.keycloakUrl], ENV.keycloakUrl);
  if (keycloakUrl !== undefined) raw.keycloakUrl = keycloakUrl;
  const realm = pick(['realm'], flags.realm, '--realm', env[ENV.realm], ENV.realm);
  if (realm !== undefined) raw.realm = realm;

  // --resource / --scope describe the common single-server case and replace the file's list.
  const resource = pick(['resources', 0, 'url'], flags.resource, '--resource', env[ENV.resource], ENV.resource);
  const scopes = pick(['resources', 0, 'scopes'], many(flags.scope), '--scope', list(env[ENV.scope]), ENV.scope);
  if (resource !== undefined || scopes !== undefined) {
    const next = overlay(Array.isArray(raw.resources) ? raw.resources[0] : undefined);
    // `--scope` alone keeps the file's URL, else the default one, as every other flag does.
    if (next.url === undefined) next.url = DEFAULTS.resource;
    if (resource !== undefined) next.url = resource;
    if (scopes !== undefined) next.scopes = scopes;
    raw.resources = [next];
  }

  // --tool-scope: a tool named by a flag gets exactly the flags' scopes for it (repeat the flag for
  // several), other tools keep the file's. plan and apply read it as serve does, so that the scope a
  // quick `serve --tool-scope` needs is created by the same flags. Tool names are checked by serve.
  if (flags.toolScope?.length) {
    const byTool = toolScopeFlags(flags.toolScope);
    if (Array.isArray(raw.resources) && raw.resources.length > 1) {
      throw new UsageError(
        `--tool-scope names the tools of one MCP server, and the config lists ${raw.resources.length}: set toolScopes on that resource in the config file, or pick it with --resource URL --scope SCOPE.`,
      );
    }
    const next = overlay(Array.isArray(raw.resources) ? raw.resources[0] : undefined);
    if (next.url === undefined) next.url = DEFAULTS.resource;
    // A file's toolScopes that is no object is left for the schema to refuse, naming the file.
    if (next.toolScopes === undefined || isObject(next.toolScopes)) {
      next.toolScopes = { ...(next.toolScopes as object | undefined), ...Object.fromEntries(byTool) };
      for (const tool of byTool.keys())
        origins.push({ path: ['resources', 0, 'toolScopes', tool], source: '--tool-scope' });
    }
    raw.resources = [next];
  }

  const dcrMode = pick(['dcr', 'mode'], flags.dcr, '--dcr', env[ENV.dcr], ENV.dcr) as DcrMode | undefined;
  const trustedHosts = pick(
    ['dcr', 'trustedHosts'],
    many(flags.trustedHost),
    '--trusted-host',
    list(env[ENV.trustedHosts]),
    ENV.trustedHosts,
  );
  const webOrigins = pick(
    ['dcr', 'webOrigins'],
    many(flags.webOrigin),
    '--web-origin',
    list(env[ENV.webOrigins]),
    ENV.webOrigins,
  );
  if (dcrMode !== undefined || trustedHosts !== undefined || webOrigins !== undefined) {
    raw.dcr = overlay(raw.dcr);
    if (dcrMode !== undefined) raw.dcr.mode = dcrMode;
    // The file's hosts belong to the file's mode: `--dcr anonymous` over a trusted-hosts file drops them
    // rather than being refused for them (doctor's fix for a Trusted Hosts rejection is exactly that).
    if (dcrMode !== undefined && dcrMode !== 'trusted-hosts' && trustedHosts === undefined) delete raw.dcr.trustedHosts;
    if (trustedHosts !== undefined) raw.dcr.trustedHosts = trustedHosts;
    if (webOrigins !== undefined) raw.dcr.webOrigins = webOrigins;
  }

  // --cimd (or MCP_KEYCLOAK_CIMD=true) turns CIMD on; --cimd-domain and --cimd-allow-http imply it.
  const cimdFromEnv = booleanEnv(env, ENV.cimd);
  const cimdDomains = pick(
    ['cimd', 'domains'],
    many(flags.cimdDomain),
    '--cimd-domain',
    list(env[ENV.cimdDomains]),
    ENV.cimdDomains,
  );
  // A CIMD flag on the command line wins over MCP_KEYCLOAK_CIMD=false in the environment, as flags do.
  const impliedByFlags = Boolean(flags.cimdDomain?.length || flags.cimdAllowHttp) || undefined;
  const cimdOn = flags.cimd ?? impliedByFlags ?? cimdFromEnv;
  if (cimdOn !== undefined || cimdDomains !== undefined || flags.cimdAllowHttp) {
    raw.cimd = overlay(raw.cimd);
    raw.cimd.enabled = cimdOn ?? true;
    if (cimdDomains !== undefined) raw.cimd.domains = cimdDomains;
    if (flags.cimdAllowHttp) raw.cimd.allowHttp = true;
  }

  const requireDpop = flags.requireDpop ?? booleanEnv(env, ENV.requireDpop);
  if (requireDpop !== undefined) raw.requireDpop = requireDpop;
  if (flags.machineClient?.length) {
    raw.machineClients = withMachineClientFlags(raw.machineClients, flags.machineClient);
    origins.push({ path: ['machineClients'], source: '--machine-client' });
  }

  // --client names the clients in use: it replaces the file's list (as --scope does), comma-separated or repeated.
  if (flags.client?.length) {
    raw.clients = [
      ...new Set(
        flags.client
          .flatMap((value) => value.split(','))
          .map((id) => id.trim())
          .filter(Boolean),
      ),
    ];
    origins.push({ path: ['clients'], source: '--client' });
  }

  const testUser = pick(['testUser'], flags.testUser, '--test-user', env[ENV.testUser], ENV.testUser);
  if (testUser !== undefined) raw.testUser = { username: testUser };

  const adminUsername = env[ENV.adminUsername];
  const adminClientId = env[ENV.adminClientId];
  if (adminUsername !== undefined || adminClientId !== undefined) {
    raw.admin = overlay(raw.admin);
    if (adminUsername) {
      raw.admin.username = adminUsername;
      origins.push({ path: ['admin', 'username'], source: ENV.adminUsername });
    }
    if (adminClientId) {
      raw.admin.clientId = adminClientId;
      origins.push({ path: ['admin', 'clientId'], source: ENV.adminClientId });
    }
  }

  const host = pick(['server', 'host'], flags.host, '--host', env[ENV.host], ENV.host);
  const envPort = env[ENV.port] === '' ? undefined : env[ENV.port];
  const port =
    flags.port !== undefined
      ? portOf(String(flags.port), '--port')
      : envPort !== undefined
        ? portOf(envPort, ENV.port)
        : undefined;
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
function overlay(section: unknown): Record<string, any> {
  return isObject(section) ? { ...section } : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A port from a flag or env: decimal digits only (`1e3` or `0x50` are typos, not ports). */
function portOf(value: string, source: string): number {
  const port = parseDecimal(value, 1, 65535);
  if (port === undefined)
    throw new UsageError(
      `${source} must be a port number from 1 to 65535 in decimal digits (got "${printable(value, 20)}").`,
    );
  return port;
}

/** How many problems one error line lists; a file with a thousand unknown keys still gets one readable line. */
const MAX_ISSUES = 5;

/** `resources[0].toolScopes.divide_numbers[0]`; a key that would be ambiguous there is quoted: `toolScopes[""]`. */
function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === 'number') return `${acc}[${part}]`;
    const key = printable(String(part), 40);
    if (key === '' || /[.[\]"\s]/.test(key)) return `${acc}[${JSON.stringify(key)}]`;
    return acc ? `${acc}.${key}` : key;
  }, '');
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((part, i) => part === path[i]);
}

function inObject(value: unknown, path: readonly PropertyKey[]): boolean {
  let here = value;
  for (const part of path) {
    if (here === null || typeof here !== 'object' || !Object.hasOwn(here, part)) return false;
    here = (here as Record<PropertyKey, unknown>)[part];
  }
  return true;
}

/**
 * Where the value at `path` came from: the flag or env variable that set it, else the file when the
 * file has it, else "Invalid configuration" (a default, or two settings that contradict each other).
 */
function sourceOf(
  path: readonly PropertyKey[],
  file: string | undefined,
  sources: { origins: readonly Origin[]; fromFile: unknown } | undefined,
): string {
  if (!sources) return file ?? 'Invalid configuration';
  const origin = sources.origins
    .filter((o) => startsWith(path, o.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (origin) return origin.source;
  return file && inObject(sources.fromFile, path) ? file : 'Invalid configuration';
}

/**
 * "mcp-keycloak.json: resources[0].url: must be an absolute http:// or https:// URL …", or
 * "--cimd-domain: cimd.domains[0]: …" when a flag or env variable set the value (`sources`); problems
 * from several places are grouped by place, in the order met.
 */
export function describeZodError(
  error: ZodError,
  file?: string,
  sources?: { origins: readonly Origin[]; fromFile: unknown },
): string {
  const groups = new Map<string, string[]>();
  for (const issue of error.issues.slice(0, MAX_ISSUES)) {
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys
            .slice(0, MAX_ISSUES)
            .map((k) => `"${printable(k, 40)}"`)
            .join(', ')}${issue.keys.length > MAX_ISSUES ? ', …' : ''}`
        : // A record key's own words ("must be a tool name, not empty"), not zod's "Invalid key in record".
          printable(issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message, 300);
    const source = sourceOf(issue.path, file, sources);
    groups.set(source, [...(groups.get(source) ?? []), `${pathText(issue.path) || '(root)'}: ${message}`]);
  }
  const more = error.issues.length > MAX_ISSUES ? `; and ${error.issues.length - MAX_ISSUES} more problem(s)` : '';
  return `${[...groups].map(([source, problems]) => `${source}: ${problems.join('; ')}`).join('; ')}${more}`;
}

/** --machine-client: an entry per flag, added to the file's (a flag naming a clientId the file has wins). */
function withMachineClientFlags(fromConfig: unknown, values: string[]): Record<string, unknown>[] {
  const fromFlags = values.map(machineClientFlag);
  const named = new Set(fromFlags.map((entry) => entry.clientId));
  const kept = Array.isArray(fromConfig)
    ? (fromConfig as Record<string, unknown>[]).filter((entry) => !named.has(String(entry?.clientId)))
    : [];
  return [...kept, ...fromFlags];
}

/** `ci-agent` or `ci-agent:client_secret_basic` (the schema checks both parts and says what is wrong). */
function machineClientFlag(value: string): { clientId: string; auth?: string } {
  const colon = value.lastIndexOf(':');
  if (colon < 0) return { clientId: value };
  return { clientId: value.slice(0, colon), auth: value.slice(colon + 1) };
}
