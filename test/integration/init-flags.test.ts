/**
 * Every option `init --help` lists takes effect, against the real Keycloak: the config file says what
 * was asked and the realm has it (scopes, registration policies, test user). The advice init prints
 * is a command that works when pasted, spelled as this program was run (here: node and the absolute
 * path of bin/mcp-keycloak.js, since this checkout is not on PATH).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { adminClient, CLI, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { PATH_WITHOUT_THIS_CLI } from '../support/path.js';
import type { ConfigFileJson, VscodeJson } from '../support/cli-json.js';

const SHIPPED_SCHEMA = new URL('../../schema/mcp-keycloak.schema.json', import.meta.url);
const POLICY_TYPE = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';
const INSPECTOR = 'http://localhost:6274';
const cimdOn = inject('keycloakFeatures').includes('cimd');

const realms: string[] = [];
afterAll(() => Promise.all(realms.map(deleteRealm)));

/** The CLI under test is not the `mcp-keycloak` on PATH (even after a developer's `npm link`): it must print `node <path>`. */
const PATH = PATH_WITHOUT_THIS_CLI;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-init-flags-'));
});

async function setup(name: string) {
  const realm = uniqueRealm(name);
  realms.push(realm);
  const dir = join(root, realm);
  await mkdir(dir);
  const resource = `http://127.0.0.1:${await freePort()}/mcp`;
  // A state dir of its own: no local Keycloak of the developer's is picked up.
  return { realm, dir, resource, env: { PATH, MCP_KEYCLOAK_STATE: join(dir, '.state') } };
}

async function anonymousPolicies(realm: string) {
  const client = await adminClient();
  return (await client.components.find({ realm, type: POLICY_TYPE })).filter((p) => p.subType === 'anonymous');
}

/** One setting of the realm's anonymous registration policy `providerId`, sorted. */
async function policySetting(realm: string, providerId: string, key: string): Promise<string[] | undefined> {
  const policy = (await anonymousPolicies(realm)).find((p) => p.providerId === providerId);
  return (policy?.config?.[key] as string[] | undefined)?.slice().sort();
}

describe('init with every realm and file option given as a flag', () => {
  it('writes each into the config file (at --config, files in --dir) and applies each to the realm', async () => {
    const { realm, dir, resource, env } = await setup('flags');
    const result = await runCli(
      [
        'init',
        '--no-doctor',
        '--dir',
        dir,
        '--config',
        join(dir, 'conf', 'mcp.json'),
        '--realm',
        realm,
        '--resource',
        resource,
        '--scope',
        'mcp:read',
        '--scope',
        'mcp:write',
        '--dcr',
        'trusted-hosts',
        '--trusted-host',
        'h1.example.com',
        '--trusted-host',
        '127.0.0.1',
        '--web-origin',
        INSPECTOR,
        '--web-origin',
        'http://localhost:5173',
        '--test-user',
        'bob',
        '--admin-user',
        keycloak().adminUsername,
        // --cimd-domain (implies --cimd) needs a Keycloak with the cimd feature, which the default harness starts.
        ...(cimdOn ? ['--cimd-domain', 'clients.example.com'] : []),
      ],
      // cwd is not --dir: the files must still land in --dir; KEYCLOAK_ADMIN_USERNAME is unset so only --admin-user names the admin.
      {
        cwd: root,
        admin: false,
        env: {
          ...env,
          KEYCLOAK_ADMIN_PASSWORD: keycloak().adminPassword,
          MCP_KEYCLOAK_TEST_USER_PASSWORD: 'bob-Secret-1',
        },
      },
    );
    expect(result.code, result.stderr).toBe(0);

    const config = JSON.parse(await readFile(join(dir, 'conf', 'mcp.json'), 'utf8')) as ConfigFileJson;
    expect(config).toMatchObject({
      realm,
      resources: [{ url: resource, scopes: ['mcp:read', 'mcp:write'] }],
      dcr: {
        mode: 'trusted-hosts',
        trustedHosts: ['h1.example.com', '127.0.0.1'],
        webOrigins: [INSPECTOR, 'http://localhost:5173'],
      },
      admin: { username: keycloak().adminUsername },
      testUser: { username: 'bob' },
    });
    if (cimdOn) {
      // What it set up, spelled out: the known clients, and the domain asked for.
      expect(config.cimd).toEqual({
        enabled: true,
        domains: ['clients.example.com'],
        clients: ['vscode', 'claude-code', 'claude-ai', 'inspector'],
      });
      const { policies = [] } = await (
        await adminClient()
      ).clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
      const condition = policies.find((p) => p.name === 'mcp-keycloak-cimd')?.conditions?.[0]?.configuration as Record<
        string,
        string[]
      >;
      expect(condition['client-id-uri-allow-permitted-domains']).toContain('clients.example.com');
    }
    expect(existsSync(join(dir, 'mcp-keycloak.json'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['.env', '.vscode', 'conf']);
    expect((JSON.parse(await readFile(join(dir, '.vscode', 'mcp.json'), 'utf8')) as VscodeJson).servers[realm]).toEqual(
      {
        type: 'http',
        url: resource,
      },
    );
    expect(await readdir(root)).not.toContain('mcp-keycloak.json');

    const client = await adminClient();
    const scopes = (await client.clientScopes.find({ realm })).map((s) => s.name);
    expect(scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(await policySetting(realm, 'trusted-hosts', 'trusted-hosts')).toEqual(['127.0.0.1', 'h1.example.com']);
    expect(await policySetting(realm, 'registration-web-origins', 'web-origins')).toEqual(
      [INSPECTOR, 'http://localhost:5173'].sort(),
    );
    expect(await client.users.find({ realm, username: 'bob', exact: true })).toHaveLength(1);

    // The next steps are run in --dir and name the config file; the program is spelled as it was run.
    expect(result.stdout).toContain(`Next steps (in ${dir})`);
    expect(result.stdout).toContain(`node ${CLI} serve --config conf/mcp.json`);
    expect(result.stdout).toContain(`node ${CLI} doctor --config conf/mcp.json`);
    expect(result.stdout).not.toMatch(/npx mcp-keycloak/);
    // The Inspector line is the 2.x command; no browser-origin advice either way.
    expect(result.stdout).toContain(`npx @modelcontextprotocol/inspector@2 --transport http --server-url ${resource}`);
    expect(result.stdout).not.toContain('--web-origin');
  });
});

describe('init with the environment instead of flags', () => {
  it('honours MCP_KEYCLOAK_WEB_ORIGINS, and --no-test-user wins over MCP_KEYCLOAK_TEST_USER', async () => {
    const { realm, dir, resource, env } = await setup('envs');
    const result = await runCli(['--json', 'init', '--no-doctor', '--no-test-user'], {
      cwd: dir,
      env: {
        ...env,
        MCP_KEYCLOAK_REALM: realm,
        MCP_KEYCLOAK_RESOURCE: resource,
        MCP_KEYCLOAK_WEB_ORIGINS: `${INSPECTOR} http://localhost:5173`,
        MCP_KEYCLOAK_TEST_USER: 'carol',
      },
    });
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(await readFile(join(dir, 'mcp-keycloak.json'), 'utf8')) as ConfigFileJson;
    expect(config.dcr).toEqual({ mode: 'anonymous', webOrigins: [INSPECTOR, 'http://localhost:5173'] });
    expect(config.testUser).toBeUndefined();
    expect(await policySetting(realm, 'registration-web-origins', 'web-origins')).toEqual(
      [INSPECTOR, 'http://localhost:5173'].sort(),
    );
    expect(await (await adminClient()).users.find({ realm, username: 'carol', exact: true })).toHaveLength(0);
  });

  it('refuses a web origin with a path, in one line, and writes nothing', async () => {
    const { realm, dir, resource, env } = await setup('badorigin');
    const result = await runCli(
      ['init', '--no-doctor', '--realm', realm, '--resource', resource, '--web-origin', `${INSPECTOR}/`],
      { cwd: dir, env },
    );
    expect(result.code).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`is not an origin`);
    expect((await readdir(dir)).filter((name) => name !== '.state')).toEqual([]);
    expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
  });

  it('blames a bad --cimd-domain on the flag, not on the config file it would have written, and writes nothing', async () => {
    const { realm, dir, resource, env } = await setup('badcimd');
    const result = await runCli(
      ['init', '--no-doctor', '--realm', realm, '--resource', resource, '--cimd-domain', 'https://x.example'],
      { cwd: dir, env },
    );
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      'error: --cimd-domain: cimd.domains[0]: must be a host without a scheme or port (Keycloak compares hosts only)\n',
    );
    expect((await readdir(dir)).filter((name) => name !== '.state')).toEqual([]);
    expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
  });

  it('names the admin of --admin-user when Keycloak refuses it, and writes nothing', async () => {
    const { realm, dir, resource, env } = await setup('adminuser');
    const result = await runCli(
      ['init', '--no-doctor', '--realm', realm, '--resource', resource, '--admin-user', 'nobody-here'],
      { cwd: dir, env },
    );
    expect(result.code).toBe(1);
    // One line, naming the flag the user name came from.
    expect(result.stderr).toMatch(
      /^error: Keycloak rejected the admin credentials for user "nobody-here" in realm "master": check --admin-user and KEYCLOAK_ADMIN_PASSWORD\.\n$/,
    );
    expect((await readdir(dir)).filter((name) => name !== '.state')).toEqual([]);
  });
});

describe('the advice init prints', () => {
  it('MCP Inspector: the 2.x command with the server URL, no --web-origin advice, and doctor expects no browser client', async () => {
    const { realm, dir, resource, env } = await setup('advice');
    const result = await runCli(['init', '--realm', realm, '--resource', resource], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    const line = /^\s+MCP Inspector:\s+(.+)$/m.exec(result.stdout)?.[1];
    expect(line).toBe(
      `npx @modelcontextprotocol/inspector@2 --transport http --server-url ${resource}   (Node ≥ 22.19)`,
    );
    expect(result.stdout.slice(result.stdout.indexOf('Next steps'))).not.toContain('--web-origin');
    // How clients make themselves known: on a Keycloak with the cimd feature init set CIMD up beside registration.
    expect(result.stdout).toContain(
      cimdOn
        ? 'VS Code and Claude Code send the URL of their client metadata document as client_id (CIMD), others register themselves;\n     each opens '
        : 'The client registers itself with Keycloak and opens ',
    );
    // Doctor (run by init) probed Inspector 2.x as it registers, and warned about nothing.
    expect(result.stdout).toMatch(/✔ MCP Inspector can register/);
    // Warnings, if any, are only Keycloak version differences that can stop clients (none from 26.4.0 on).
    expect(
      result.stdout.split('\n').filter((l) => /^\s*⚠/.test(l) && !/⚠ Keycloak \S+ lacks a fix from/.test(l)),
    ).toEqual([]);
  });

  it('with CIMD kept off, the next steps say the client registers itself', async () => {
    const { realm, dir, resource, env } = await setup('signin');
    const result = await runCli(['init', '--no-doctor', '--no-test-user', '--realm', realm, '--resource', resource], {
      cwd: dir,
      env: { ...env, MCP_KEYCLOAK_CIMD: 'false' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /\n {5}The client registers itself with Keycloak and opens http:\S+\/realms\/\S+ in a browser to sign in\.\n/,
    );
    expect(result.stdout).not.toContain('CIMD');
  });

  it('$schema resolves, next to the config file, to a copy of the shipped schema', async () => {
    const { realm, dir, resource, env } = await setup('schema');
    const result = await runCli(['init', '--no-doctor', '--no-test-user', '--realm', realm, '--resource', resource], {
      cwd: dir,
      env,
    });
    expect(result.code, result.stderr).toBe(0);
    const reference = (JSON.parse(await readFile(join(dir, 'mcp-keycloak.json'), 'utf8')) as ConfigFileJson).$schema;
    expect(reference).toBe('./mcp-keycloak.schema.json');
    expect(await readFile(join(dir, reference), 'utf8')).toBe(await readFile(SHIPPED_SCHEMA, 'utf8'));
  });
});

describe('--start-keycloak and --no-start-keycloak, where nothing answers', () => {
  it('--no-start-keycloak stops with the reason and starts nothing', async () => {
    const { dir, env } = await setup('nostart');
    const port = await freePort();
    const result = await runCli(
      ['init', '--yes', '--no-start-keycloak', '--keycloak-url', `http://127.0.0.1:${port}`],
      { cwd: dir, env },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Nothing answers at http://127.0.0.1:${port}`);
    expect(result.stderr).toContain(`node ${CLI} keycloak start --port ${port}`);
    expect(result.stderr).not.toContain('Starting a local Keycloak');
    expect(existsSync(join(dir, '.state', 'keycloak.json'))).toBe(false);
  });

  it('--start-keycloak starts one without --yes or a terminal (here it stops at the missing Java it needs)', async () => {
    const { dir, env } = await setup('start');
    const port = await freePort();
    const result = await runCli(['init', '--start-keycloak', '--keycloak-url', `http://127.0.0.1:${port}`], {
      cwd: dir,
      env: { ...env, MCP_KEYCLOAK_RUNTIME: 'distribution', JAVA_HOME: join(dir, 'no-java') },
    });
    expect(result.stdout).toContain(`Starting a local Keycloak on port ${port}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Java was not found/);
    expect((await readdir(dir)).filter((name) => name !== '.state')).toEqual([]);
  });
});
