/**
 * Re-running `init` in a folder the user has edited, through the built CLI against the real Keycloak
 * (init provisions): a config file holding every key docs/configuration.md describes is kept as it is
 * (`--yes` changes nothing in it), a flag that changes a key init manages is refused without a
 * terminal with the advice that fits ("drop --yes" on a terminal), and `--force` writes only the
 * managed keys, showing the difference and naming what an answer removes. Left out: `admin.clientId`
 * (a service account of the shared master realm; the merge keeps it like any key, see
 * test/unit/init-merge.test.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { adminClient, CLI, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { ConfigFileJson } from '../support/cli-json.js';

const realm = uniqueRealm('init-keep');
const cimdOn = inject('keycloakFeatures').includes('cimd');
let dir: string;
let env: Record<string, string>;
let edited: Record<string, unknown>;

const readConfig = async () => JSON.parse(await readFile(join(dir, 'mcp-keycloak.json'), 'utf8')) as ConfigFileJson;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-init-keep-'));
  env = { MCP_KEYCLOAK_STATE: join(dir, '.state') };
  const port = await freePort();
  // Every key docs/configuration.md describes, as a user would have edited them.
  edited = {
    $schema: './mcp-keycloak.schema.json',
    keycloakUrl: keycloak().url,
    realm,
    resources: [
      { url: `http://127.0.0.1:${port}/mcp`, scopes: ['mcp:run'], toolScopes: { divide_numbers: ['mcp:admin'] } },
      { url: `http://127.0.0.1:${await freePort()}/files`, scopes: ['files:read', 'files:write'] },
    ],
    dcr: {
      mode: 'trusted-hosts',
      trustedHosts: ['127.0.0.1', 'h1.example.com'],
      webOrigins: ['http://localhost:6274'],
    },
    keycloakFeatures: ['cimd', 'resource-indicators'],
    ...(cimdOn
      ? {
          cimd: {
            enabled: true,
            clients: ['vscode', 'claude-code'],
            domains: ['clients.example.com'],
            allowHttp: true,
          },
        }
      : {}),
    admin: { username: keycloak().adminUsername, realm: 'master' },
    testUser: { username: 'alice' },
    server: { host: '127.0.0.1', port },
  };
  await writeFile(join(dir, 'mcp-keycloak.json'), `${JSON.stringify(edited, null, 2)}\n`);
});
afterAll(() => deleteRealm(realm));

/** `init` on a pseudo-terminal (util-linux `script`), for the advice printed there. */
function onTerminal(args: string[]): Promise<{ code: number; output: string }> {
  const line = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 200; exec ${line}`, '/dev/null'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TERM: 'xterm',
      NO_COLOR: '1',
      KEYCLOAK_ADMIN_USERNAME: keycloak().adminUsername,
      KEYCLOAK_ADMIN_PASSWORD: keycloak().adminPassword,
      ...env,
    },
  });
  // A prompt nobody answers would hold the test until vitest's timeout: end it and show what it printed.
  const stop = setTimeout(() => child.kill(), 30_000);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(stop);
      resolve({ code: code ?? -1, output });
    }),
  );
}

describe('init in a folder whose config file the user edited', () => {
  it('keeps every key it does not manage: --yes provisions from the file and leaves it unchanged', async () => {
    const result = await runCli(['init', '--yes', '--no-doctor'], { cwd: dir, env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/mcp-keycloak\.json: unchanged/);
    expect(await readConfig()).toEqual(edited);
    // …and the realm has what the kept keys ask for: the step-up scope and the second server's scopes.
    const names = (await (await adminClient()).clientScopes.find({ realm })).map((scope) => scope.name);
    expect(names).toEqual(expect.arrayContaining(['mcp:run', 'mcp:admin', 'files:read', 'files:write']));
  });

  it('refuses a change to a key it manages without a terminal, and says "run init on a terminal"', async () => {
    const result = await runCli(['init', '--yes', '--no-doctor', '--dcr', 'anonymous'], { cwd: dir, env });
    expect(result.code).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: mcp-keycloak\.json already exists and differ.*run init on a terminal/);
    expect(await readConfig()).toEqual(edited);
  });

  it('on a terminal with --yes, the advice is to drop --yes (not to use a terminal)', async () => {
    const result = await onTerminal(['init', '--yes', '--no-doctor', '--dcr', 'anonymous']);
    expect(result.code).toBe(64);
    expect(result.output).toMatch(/drop --yes to review the difference/);
    expect(result.output).not.toMatch(/run init on a terminal/);
    expect(await readConfig()).toEqual(edited);
  });

  it('--force writes the managed keys only, shows the difference and names the key an answer removes', async () => {
    const result = await runCli(['init', '--yes', '--no-doctor', '--force', '--dcr', 'anonymous'], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/mcp-keycloak\.json differs: --force writes it, changing:/);
    expect(result.stdout).toMatch(/^- +"mode": "trusted-hosts",$/m);
    expect(result.stdout).toMatch(/^\+ +"mode": "anonymous",$/m);
    expect(result.stderr).toMatch(
      /mcp-keycloak\.json loses dcr\.trustedHosts: your answers \(flags, env\) remove them/,
    );
    const { dcr, ...rest } = edited as { dcr: Record<string, unknown> };
    const { trustedHosts: _dropped, ...dcrKept } = dcr;
    expect(await readConfig()).toEqual({ ...rest, dcr: { ...dcrKept, mode: 'anonymous' } });
  });
});
