/**
 * Helpers for tests that talk to the run's one real Keycloak (started by global-setup.ts):
 * connection facts, a realm name of the test file's own, an admin client, and the built CLI.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const CLI = fileURLToPath(new URL('../../bin/mcp-keycloak.js', import.meta.url));

export interface KeycloakFacts {
  url: string;
  adminUsername: string;
  adminPassword: string;
}

export function keycloak(): KeycloakFacts {
  return { url: inject('keycloakUrl'), adminUsername: inject('adminUsername'), adminPassword: inject('adminPassword') };
}

/** A realm name no other test file (or earlier run against the same server) uses. */
export function uniqueRealm(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function adminClient(): Promise<KcAdminClient> {
  const { url, adminUsername, adminPassword } = keycloak();
  const client = new KcAdminClient({ baseUrl: url, realmName: 'master' });
  await client.auth({ grantType: 'password', clientId: 'admin-cli', username: adminUsername, password: adminPassword });
  return client;
}

export async function deleteRealm(realm: string): Promise<void> {
  const client = await adminClient();
  await client.realms.del({ realm }).catch(() => undefined);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as a user would, with a clean environment: only what the test passes, plus the
 * admin credentials unless `admin: false`.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; admin?: boolean; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  const { url, adminUsername, adminPassword } = keycloak();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KEYCLOAK_URL: url,
    // Without admin credentials means without the local Keycloak's stored password too: a state folder that does
    // not exist, so a Keycloak that `keycloak start` runs on this machine cannot lend the CLI its admin password.
    ...(options.admin === false
      ? { MCP_KEYCLOAK_STATE: join(tmpdir(), 'mcp-keycloak-test-no-local-state') }
      : { KEYCLOAK_ADMIN_USERNAME: adminUsername, KEYCLOAK_ADMIN_PASSWORD: adminPassword }),
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd: options.cwd, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : error
              ? 1
              : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/**
 * `serve` as users run it (the built binary, a process of its own, a clean environment), resolved once it
 * is listening: it printed "Press Ctrl-C" (text) or a "listening" event (--json). No fixed sleep.
 */
export function startServe(args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KEYCLOAK_URL: keycloak().url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/Press Ctrl-C|"event":"listening"/.test(stdout)) resolve({ child, output: () => stdout });
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
  });
}
