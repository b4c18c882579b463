/**
 * Where `mcp-keycloak keycloak start` keeps what it needs to find its Keycloak again: a small JSON
 * file (no secrets, safe to print) and the generated admin password in a file of its own, both mode
 * 0600 under the user's state directory ($XDG_STATE_HOME/mcp-keycloak, else ~/.local/state/mcp-keycloak;
 * MCP_KEYCLOAK_STATE overrides). The password lives in a file, never in argv or output, so it stays
 * out of shell history and logs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface LocalKeycloakState {
  formatVersion: 1;
  runtime: 'distribution' | 'docker';
  url: string;
  port: number;
  /** Process group leader (distribution runtime). */
  pid?: number;
  /** Container name (docker runtime). */
  container?: string;
  home?: string;
  dataDir: string;
  logFile: string;
  adminUsername: string;
  version: string;
  /** Keycloak features it was started with (`--features`); absent when none (and in records written before features existed). */
  features?: string[];
  startedAt: string;
  /** Set by `keycloak stop` (which keeps the data): status then reports "stopped", not "not started". */
  stoppedAt?: string;
}

/** The state directory: MCP_KEYCLOAK_STATE, else $XDG_STATE_HOME/mcp-keycloak. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_KEYCLOAK_STATE) return env.MCP_KEYCLOAK_STATE;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'mcp-keycloak');
}

/** The files in the state directory: the state record, the admin password, the data and log. */
export const statePaths = (env: NodeJS.ProcessEnv = process.env) => {
  const dir = stateDir(env);
  return {
    dir,
    state: join(dir, 'keycloak.json'),
    password: join(dir, 'admin-password'),
    data: join(dir, 'keycloak-data'),
    log: join(dir, 'keycloak.log'),
  };
};

/**
 * Writes through a temporary file and a rename, so a reader never sees half a file; when any step
 * fails, the temporary file is removed, so a failed write leaves nothing behind. The folder is made
 * (mode 0700) when missing, unless `createFolder` is false: then a missing folder fails with ENOENT.
 */
export async function writePrivateFile(
  path: string,
  content: string,
  options: { createFolder?: boolean } = {},
): Promise<void> {
  if (options.createFolder !== false) await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Random, not just the pid: two writes of one process to the same path must not share a temporary file.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    // EEXIST: the name belongs to someone else's file ('wx'), which is not ours to remove.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** The recorded local Keycloak, or undefined when there is none (or the record is unreadable). */
export async function readState(env: NodeJS.ProcessEnv = process.env): Promise<LocalKeycloakState | undefined> {
  const { state } = statePaths(env);
  if (!existsSync(state)) return undefined;
  try {
    const value = JSON.parse(await readFile(state, 'utf8')) as LocalKeycloakState;
    return value.formatVersion === 1 ? value : undefined;
  } catch {
    return undefined; // unreadable state is treated as "nothing running"; start rewrites it
  }
}

/** Records the local Keycloak (mode 0600). */
export async function writeState(state: LocalKeycloakState, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await writePrivateFile(statePaths(env).state, `${JSON.stringify(state, null, 2)}\n`);
}

/** Forgets the local Keycloak's record (its data and password stay). */
export async function clearState(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await rm(statePaths(env).state, { force: true });
}

/**
 * The admin password of the local Keycloak: reused while its data directory exists (Keycloak only
 * creates the bootstrap admin in an empty database), generated otherwise.
 */
export async function adminPassword(
  env: NodeJS.ProcessEnv = process.env,
  options: { fresh?: boolean } = {},
): Promise<string> {
  const { password } = statePaths(env);
  if (!options.fresh && existsSync(password)) {
    const value = (await readFile(password, 'utf8')).trim();
    if (value) return value;
  }
  const value = randomBytes(18).toString('base64url');
  await writePrivateFile(password, `${value}\n`);
  return value;
}

/** The stored password, if any, without generating one. */
export async function storedAdminPassword(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const { password } = statePaths(env);
  if (!existsSync(password)) return undefined;
  return (await readFile(password, 'utf8')).trim() || undefined;
}
