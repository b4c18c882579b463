/**
 * The files `init` writes: the config file, `.vscode/mcp.json` and `.env`. Each is computed first
 * (merged with what the user already has), compared, and only then written, each through a temporary
 * file and a rename, so an interruption never leaves half a file.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import { configSchema, type DcrMode } from '../config/schema.js';
import { describeZodError } from '../config/load.js';
import { UsageError } from '../errors.js';
import { lineDiff } from './diff.js';
import { fill, fillJson, loadTemplate, mergeEnv, parseEnv } from './render.js';

export interface InitAnswers {
  keycloakUrl: string;
  realm: string;
  resource: string;
  /** Scopes of the MCP server (usually one: mcp:run). */
  scopes: string[];
  dcr: DcrMode;
  trustedHosts: string[];
  adminUsername: string;
  testUser?: { username: string; password: string; generated: boolean };
}

export type FileStatus = 'create' | 'update' | 'unchanged';

export interface PlannedFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the project folder, for messages. */
  name: string;
  status: FileStatus;
  content: string;
  mode: number;
  /** Lines of difference against the existing file, secrets masked. */
  diff: string[];
}

export const ENV_FILE = '.env';
export const VSCODE_FILE = join('.vscode', 'mcp.json');
export const TEST_USER_PASSWORD_KEY = 'MCP_KEYCLOAK_TEST_USER_PASSWORD';

/** The name of our server entry in .vscode/mcp.json. */
export const serverName = (answers: InitAnswers) => answers.realm;

/**
 * `$schema` for editors: the copy inside the project's node_modules when the package is installed
 * there, else the published copy of this very version (npx runs leave nothing in the project).
 */
export function schemaReference(dir: string, version: string): string {
  const local = join(dir, 'node_modules', 'mcp-keycloak', 'schema', 'mcp-keycloak.schema.json');
  if (existsSync(local)) return `./${relative(dir, local).split('\\').join('/')}`;
  return `https://unpkg.com/mcp-keycloak@${version}/schema/mcp-keycloak.schema.json`;
}

async function readIfExists(path: string): Promise<string | undefined> {
  return existsSync(path) ? readFile(path, 'utf8') : undefined;
}

function parseJsonObject(text: string | undefined, name: string, force: boolean): Record<string, any> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // handled below
  }
  if (force) return {};
  throw new UsageError(`${name} exists but is not a JSON object (comments are not supported): fix it, move it away, or rerun with --force to replace it.`);
}

const stringify = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

async function configFile(dir: string, answers: InitAnswers, version: string, force: boolean): Promise<string> {
  const path = join(dir, DEFAULT_CONFIG_FILE);
  const existing = parseJsonObject(await readIfExists(path), DEFAULT_CONFIG_FILE, force);
  const filled = fillJson(await loadTemplate('mcp-keycloak.json'), {
    schema: schemaReference(dir, version),
    keycloakUrl: answers.keycloakUrl,
    realm: answers.realm,
    resource: answers.resource,
    scopes: answers.scopes,
    dcr: answers.dcr === 'trusted-hosts' ? { mode: answers.dcr, trustedHosts: answers.trustedHosts } : { mode: answers.dcr },
    adminUsername: answers.adminUsername,
  });
  // Keep what the user added: further resources, web origins, server settings, unknown keys.
  const merged: Record<string, any> = { ...filled };
  if (Array.isArray(existing.resources) && existing.resources.length > 1) merged.resources = [filled.resources && (filled.resources as unknown[])[0], ...existing.resources.slice(1)];
  if (existing.dcr && typeof existing.dcr === 'object') merged.dcr = { ...existing.dcr, ...(filled.dcr as object) };
  if (answers.dcr !== 'trusted-hosts' && merged.dcr) delete merged.dcr.trustedHosts;
  if (existing.admin && typeof existing.admin === 'object') merged.admin = { ...existing.admin, ...(filled.admin as object) };
  if (answers.testUser) merged.testUser = { username: answers.testUser.username };
  for (const [key, value] of Object.entries(existing)) if (!(key in merged) && key !== 'testUser') merged[key] = value;
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new UsageError(describeZodError(parsed.error, DEFAULT_CONFIG_FILE));
  return stringify(merged);
}

async function vscodeFile(dir: string, answers: InitAnswers, force: boolean): Promise<string> {
  const existing = parseJsonObject(await readIfExists(join(dir, VSCODE_FILE)), VSCODE_FILE, force);
  const filled = fillJson(await loadTemplate('vscode/mcp.json'), { serverName: serverName(answers), resource: answers.resource }) as {
    servers: Record<string, unknown>;
  };
  // Other servers in the file stay; ours is added or updated by name.
  const servers = { ...(existing.servers ?? {}), ...filled.servers };
  return stringify({ ...existing, servers });
}

async function envFile(dir: string, answers: InitAnswers): Promise<string> {
  // Only secrets: a setting here would override mcp-keycloak.json (env beats file) and drift from it.
  const rendered = fill(await loadTemplate('env'), {});
  const updates = new Map<string, string>();
  if (answers.testUser) updates.set(TEST_USER_PASSWORD_KEY, answers.testUser.password);
  const existing = await readIfExists(join(dir, ENV_FILE));
  return mergeEnv(existing ?? rendered, updates);
}

const SECRET_KEY = /^\s*(?:export\s+)?([A-Z0-9_]*(?:PASSWORD|SECRET|TOKEN)[A-Z0-9_]*)\s*=.*$/gim;

/**
 * Masks the values of password-like keys, so a diff of .env never shows a secret; a secret whose value
 * changes is marked as such, so the diff still says something changed.
 */
function maskSecrets(text: string, changed: Set<string> = new Set()): string {
  return text.replace(SECRET_KEY, (_line, key: string) => `${key}=********${changed.has(key) ? ' (new value)' : ''}`);
}

function changedKeys(before: string, after: string): Set<string> {
  const old = parseEnv(before);
  return new Set([...parseEnv(after)].filter(([key, value]) => old.has(key) && old.get(key) !== value).map(([key]) => key));
}

export async function planFiles(dir: string, answers: InitAnswers, version: string, force: boolean): Promise<PlannedFile[]> {
  const contents: Array<[string, string, number]> = [
    [DEFAULT_CONFIG_FILE, await configFile(dir, answers, version, force), 0o644],
    [VSCODE_FILE, await vscodeFile(dir, answers, force), 0o644],
    [ENV_FILE, await envFile(dir, answers), 0o600],
  ];
  const planned: PlannedFile[] = [];
  for (const [name, content, mode] of contents) {
    const path = join(dir, name);
    const existing = await readIfExists(path);
    const status: FileStatus = existing === undefined ? 'create' : existing === content ? 'unchanged' : 'update';
    const diff = status === 'update' ? lineDiff(maskSecrets(existing!), maskSecrets(content, name === ENV_FILE ? changedKeys(existing!, content) : undefined)) : [];
    planned.push({ path, name, status, content, mode, diff });
  }
  return planned;
}

/** Writes the files: all contents are staged in temporary files first, then renamed into place. */
export async function writeFiles(files: PlannedFile[]): Promise<void> {
  const staged: Array<[string, string]> = [];
  try {
    for (const file of files) {
      await mkdir(dirname(file.path), { recursive: true });
      const temporary = `${file.path}.mcp-keycloak-${process.pid}.tmp`;
      await writeFile(temporary, file.content, { mode: file.mode });
      await chmod(temporary, file.mode);
      staged.push([temporary, file.path]);
    }
    for (const [temporary, path] of staged) await rename(temporary, path);
  } finally {
    const { rm } = await import('node:fs/promises');
    for (const [temporary] of staged) await rm(temporary, { force: true });
  }
}

/** The test user's password from an existing .env, so re-running init does not reset it. */
export async function existingTestUserPassword(dir: string): Promise<string | undefined> {
  const text = await readIfExists(join(dir, ENV_FILE));
  return text ? parseEnv(text).get(TEST_USER_PASSWORD_KEY) : undefined;
}
