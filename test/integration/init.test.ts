/**
 * `init --yes` in an empty folder against the real Keycloak: files written, realm applied, doctor
 * green (it runs against the reference server init starts in-process); a second run is quick and
 * changes nothing. Without a terminal, a missing password or a conflicting file is one line, and
 * nothing is written.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { olderThan } from '../../src/keycloak/versions.js';
import { configSchema } from '../../src/config/schema.js';
import { freePort } from '../../src/local/process.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { ConfigFileJson, InitJson, VscodeJson } from '../support/cli-json.js';

const realm = uniqueRealm('init');
let dir: string;
let resource: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-init-'));
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  // A state dir of its own: no local Keycloak of the developer's is picked up.
  env = { MCP_KEYCLOAK_STATE: join(dir, '.state'), MCP_KEYCLOAK_REALM: realm, MCP_KEYCLOAK_RESOURCE: resource };
});
afterAll(() => deleteRealm(realm));

const files = () =>
  ['mcp-keycloak.json', 'mcp-keycloak.schema.json', '.vscode/mcp.json', '.env'].map((name) => join(dir, name));

describe('init --yes', () => {
  it('writes the files, applies the realm and ends with a green doctor', async () => {
    const started = Date.now();
    const result = await runCli(['--json', 'init', '--yes'], { cwd: dir, env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as InitJson;
    expect(report.ok).toBe(true);
    expect(report.realm).toBe(realm);
    expect(report.doctor.ok).toBe(true);
    expect(report.doctor.summary.fail).toBe(0);
    // A default setup on a supported Keycloak from 26.4.0 warns about nothing (MCP Inspector 2.x registers from
    // its backend, no browser origin needed; keycloak#50807 stops no client and is only named in the version line);
    // before 26.4.0 the missing RFC 8414 path-inserted metadata is the one warning.
    const status = (id: string) => report.doctor.checks.find((c: { id: string }) => c.id === id)?.status;
    const warnings = report.doctor.checks
      .filter((c: { status: string }) => c.status === 'warn')
      .map((c: { id: string }) => c.id);
    // With --features=cimd init sets CIMD up too (Keycloak advertises it in every realm), and before 26.8.0 Keycloak
    // refuses claude.ai's document (keycloak#50362): that one warning.
    const cimd = inject('keycloakFeatures').includes('cimd');
    expect(warnings).toEqual([
      ...(olderThan(inject('keycloakVersion'), '26.4.0')
        ? ['as.metadata', 'keycloak.version.rfc8414-path-inserted-metadata']
        : []),
      ...(cimd && olderThan(inject('keycloakVersion'), '26.8.0')
        ? ['keycloak.version.cimd-jwt-bearer-public-client']
        : []),
    ]);
    if (cimd) expect(status('realm.cimd')).toBe('pass');
    expect([status('registration.inspector'), status('registration.inspector-0x')]).toEqual(['pass', 'skip']);
    expect(report.files.map((f: { path: string; status: string }) => `${f.path}:${f.status}`)).toEqual([
      'mcp-keycloak.json:create',
      'mcp-keycloak.schema.json:create',
      '.vscode/mcp.json:create',
      '.env:create',
    ]);
    process.stdout.write(`[init] first init --yes: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

    const config = JSON.parse(await readFile(join(dir, 'mcp-keycloak.json'), 'utf8')) as ConfigFileJson;
    expect(configSchema.safeParse(config).success).toBe(true);
    expect(config).toMatchObject({
      keycloakUrl: keycloak().url,
      realm,
      resources: [{ url: resource, scopes: ['mcp:run'] }],
      testUser: { username: 'alice' },
    });
    // What init set up for a Keycloak that offers CIMD, spelled out (it used to write "cimd": {}).
    if (cimd) expect(config.cimd).toEqual({ clients: ['vscode', 'claude-code', 'claude-ai', 'inspector'] });
    else expect(config.cimd).toBeUndefined();
    // $schema names the copy init wrote beside the config: it resolves in every install mode, offline too.
    expect(await readFile(join(dir, config.$schema), 'utf8')).toBe(
      await readFile(new URL('../../schema/mcp-keycloak.schema.json', import.meta.url), 'utf8'),
    );
    const vscode = JSON.parse(await readFile(join(dir, '.vscode/mcp.json'), 'utf8')) as VscodeJson;
    expect(vscode.servers[realm]).toEqual({ type: 'http', url: resource });
    const dotenv = await readFile(join(dir, '.env'), 'utf8');
    expect(dotenv).toMatch(/^MCP_KEYCLOAK_TEST_USER_PASSWORD=\S{12,}$/m);
    expect((await stat(join(dir, '.env'))).mode & 0o777).toBe(0o600);
    // The admin password is in no file and no output.
    for (const file of files()) expect(await readFile(file, 'utf8')).not.toContain(keycloak().adminPassword);
    expect(result.stdout).not.toContain(keycloak().adminPassword);

    const client = await adminClient();
    const scopes = await client.clientScopes.find({ realm });
    expect(scopes.map((s) => s.name)).toContain('mcp:run');
    expect((await client.users.find({ realm, username: 'alice', exact: true })).length).toBe(1);
  });

  it('is safe and quick to run again: no change to the realm or the files', async () => {
    const before = await Promise.all(files().map((f) => readFile(f, 'utf8')));
    const started = Date.now();
    const result = await runCli(['--json', 'init', '--no-doctor'], { cwd: dir, env });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as InitJson;
    expect(report.applied).toEqual([]);
    expect(report.files.every((f: { status: string }) => f.status === 'unchanged')).toBe(true);
    expect(await Promise.all(files().map((f) => readFile(f, 'utf8')))).toEqual(before);
    process.stdout.write(`[init] re-run without doctor: ${seconds.toFixed(1)} s\n`);
    expect(seconds).toBeLessThan(15);
  });

  it('refuses to overwrite a file that differs without a terminal or --force, and --force overwrites it', async () => {
    await writeFile(
      join(dir, '.vscode/mcp.json'),
      '{"servers": {"other": {"type": "http", "url": "http://localhost:9/mcp"}}}\n',
    );
    const refused = await runCli(['init', '--no-doctor'], { cwd: dir, env });
    expect(refused.code).toBe(64);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(
      /^error: \.vscode\/mcp\.json already exists and differ.*--force\. Nothing was written\./,
    );
    expect(await readFile(join(dir, '.vscode/mcp.json'), 'utf8')).not.toContain(realm);

    const forced = await runCli(['init', '--no-doctor', '--force'], { cwd: dir, env });
    expect(forced.code).toBe(0);
    const vscode = JSON.parse(await readFile(join(dir, '.vscode/mcp.json'), 'utf8')) as VscodeJson;
    // Our server is added; the user's other server stays.
    expect(Object.keys(vscode.servers).sort()).toEqual(['other', realm].sort());
  });

  it("replaces a stale JSON Schema without asking: it is generated, not the user's", async () => {
    await writeFile(join(dir, 'mcp-keycloak.schema.json'), '{"title": "from an older mcp-keycloak"}\n');
    const result = await runCli(['--json', 'init', '--no-doctor'], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    expect(
      (JSON.parse(result.stdout) as InitJson).files.find(
        (f: { path: string }) => f.path === 'mcp-keycloak.schema.json',
      ),
    ).toEqual({ path: 'mcp-keycloak.schema.json', status: 'update', written: true });
    expect(await readFile(join(dir, 'mcp-keycloak.schema.json'), 'utf8')).toBe(
      await readFile(new URL('../../schema/mcp-keycloak.schema.json', import.meta.url), 'utf8'),
    );
  });
});

describe('init without a terminal and without required values', () => {
  it('names the missing admin password in one line and writes nothing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'mcp-keycloak-init-empty-'));
    const result = await runCli(['init'], {
      cwd: empty,
      admin: false,
      env: { ...env, MCP_KEYCLOAK_REALM: uniqueRealm('never') },
    });
    expect(result.code).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: KEYCLOAK_ADMIN_PASSWORD is not set and there is no terminal to ask/);
    expect(
      existsSync(join(empty, 'mcp-keycloak.json')) ||
        existsSync(join(empty, '.env')) ||
        existsSync(join(empty, '.vscode')),
    ).toBe(false);
  });

  it('says where nothing answers, without starting anything unasked', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'mcp-keycloak-init-empty-'));
    const port = await freePort();
    const result = await runCli(['init', '--keycloak-url', `http://127.0.0.1:${port}`], { cwd: empty, env });
    expect(result.code).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`Nothing answers at http://127.0.0.1:${port}`);
    expect(result.stderr).toContain('--start-keycloak');
    expect(existsSync(join(empty, 'mcp-keycloak.json'))).toBe(false);
  });
});
