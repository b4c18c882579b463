/**
 * Hostile and contradictory input through the built CLI, against the real Keycloak (issue #12):
 * every refusal is one line with exit code 2, and the admin API shows that nothing was created.
 */
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePrivateFile } from '../../src/local/state.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm, type CliResult } from '../support/keycloak.js';

const realm = uniqueRealm('hostile');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-hostile-'));
});

afterAll(async () => {
  await deleteRealm(realm);
});

function expectOneLine(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(64);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0]!.length).toBeLessThan(600);
  expect(result.stdout + result.stderr).not.toContain(keycloak().adminPassword);
}

async function realmExists(name: string): Promise<boolean> {
  const client = await adminClient();
  return Boolean(await client.realms.findOne({ realm: name }));
}

/** A config file in the test folder; `prefix` lets a test put a BOM before the JSON. */
async function configFile(name: string, content: unknown, prefix = ''): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${prefix}${JSON.stringify(content)}`);
  return path;
}

describe('--scope alone (defect 3)', () => {
  it('plans with the default resource URL, from the flag and from env', async () => {
    const name = uniqueRealm('hostile-scope');
    const flag = await runCli(['plan', '--json', '--realm', name, '--scope', 'mcp:tools']);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stdout).toContain('http://localhost:8000/mcp');
    expect(flag.stdout).toContain('mcp:tools');
    const env = await runCli(['plan', '--json', '--realm', name], { env: { MCP_KEYCLOAK_SCOPE: 'mcp:tools' } });
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toBe(flag.stdout);
  });
});

describe('input refused before anything is written (defects 4, 5, 11)', () => {
  const cases: Array<{ what: string; args: (name: string) => Promise<string[]>; message: RegExp }> = [
    {
      what: 'a resource URL with a query string (apply used to write it as the audience)',
      args: async (name) => ['--realm', name, '--resource', 'http://127.0.0.1:8000/mcp?tenant=1'],
      message: /resources\[0\]\.url: must not have a query string/,
    },
    {
      what: 'a 200 KB resource URL',
      args: async (name) => [
        '--config',
        await configFile('long-url.json', {
          realm: name,
          resources: [{ url: `http://localhost:8000/${'a'.repeat(200_000)}` }],
        }),
      ],
      message: /resources\[0\]\.url: is 200022 characters long; at most 2048 are accepted/,
    },
    {
      what: 'a 200 KB scope (the realm used to be created before the error)',
      args: async (name) => [
        '--config',
        await configFile('long-scope.json', {
          realm: name,
          resources: [{ url: 'http://localhost:8000/mcp', scopes: ['s'.repeat(200_000)] }],
        }),
      ],
      message: /resources\[0\]\.scopes\[0\]: must be at most 255 characters/,
    },
    {
      what: 'a blank trusted host',
      args: async (name) => ['--realm', name, '--dcr', 'trusted-hosts', '--trusted-host', ' '],
      message: /dcr\.trustedHosts\[0\]: must be a hostname or IP address, not blank/,
    },
    {
      what: 'a wildcard trusted host',
      args: async (name) => ['--realm', name, '--dcr', 'trusted-hosts', '--trusted-host', '*'],
      message: /dcr\.trustedHosts\[0\]: .*wildcards are not supported/,
    },
    {
      what: 'a web origin with a path',
      args: async (name) => ['--realm', name, '--web-origin', 'http://localhost:6274/inspector'],
      message: /dcr\.webOrigins\[0\]: must be an origin, .*http:\/\/localhost:6274$/,
    },
    {
      what: 'a non-ASCII host',
      args: async (name) => ['--realm', name, '--resource', 'http://bücher.example/mcp'],
      message: /resources\[0\]\.url: must be plain ASCII .*http:\/\/xn--bcher-kva\.example\/mcp/,
    },
    {
      what: 'a Keycloak URL with a query string',
      args: async (name) => ['--realm', name, '--keycloak-url', `${keycloak().url}/?realm=master`],
      message: /keycloakUrl: must not have a query string/,
    },
    {
      what: 'trusted hosts with --dcr anonymous',
      args: async (name) => ['--realm', name, '--dcr', 'anonymous', '--trusted-host', 'localhost'],
      message: /dcr\.trustedHosts: trusted hosts only apply with dcr mode "trusted-hosts" \(mode is "anonymous"\)/,
    },
    {
      what: 'web origins with --dcr off',
      args: async (name) => ['--realm', name, '--dcr', 'off', '--web-origin', 'http://localhost:6274'],
      message: /dcr\.webOrigins: dcr mode "off" leaves registration policies alone/,
    },
  ];

  for (const { what, args, message } of cases) {
    it(`apply refuses ${what}, and the realm is not created`, async () => {
      const name = uniqueRealm('hostile-refused');
      const result = await runCli(['apply', '--yes', ...(await args(name))]);
      expectOneLine(result, message);
      expect(await realmExists(name)).toBe(false);
    });
  }

  it('serve refuses MCP_KEYCLOAK_PORT=1e3 instead of reading it as 1000', async () => {
    const result = await runCli(['serve', '--realm', realm], { env: { MCP_KEYCLOAK_PORT: '1e3' }, admin: false });
    expectOneLine(result, /MCP_KEYCLOAK_PORT must be a port number from 1 to 65535 in decimal digits \(got "1e3"\)/);
  });

  it('keycloak start --port and clients --days take decimal digits only', async () => {
    // Refused before anything starts: the state folder stays empty.
    const state = join(dir, 'state');
    const start = await runCli(['keycloak', 'start', '--port', '1e3'], {
      env: { MCP_KEYCLOAK_STATE: state },
      admin: false,
    });
    expectOneLine(start, /--port 1e3: must be a TCP port \(1-65535\) in decimal digits/);
    await expect(readdir(state)).rejects.toThrow(/ENOENT/);
    const list = await runCli(['clients', 'list', '--realm', realm, '--days', '0x1e']);
    expectOneLine(list, /--days 0x1e: must be a whole number of days/);
  });

  it('init refuses --no-test-user with --test-user and writes nothing', async () => {
    const target = join(dir, 'init-target');
    await mkdir(target);
    const result = await runCli([
      'init',
      '--yes',
      '--dir',
      target,
      '--realm',
      realm,
      '--no-test-user',
      '--test-user',
      'bob',
    ]);
    expectOneLine(result, /--test-user and --no-test-user contradict each other/);
    expect(await readdir(target)).toEqual([]);
    expect(await realmExists(realm)).toBe(false);
  });
});

describe('files (defects 8 and 11)', () => {
  it('reads a config file that starts with a UTF-8 byte order mark', async () => {
    const file = await configFile(
      'bom.json',
      { realm, resources: [{ url: 'http://localhost:8000/mcp', scopes: ['bom:run'] }] },
      '\uFEFF',
    );
    const result = await runCli(['plan', '--json', '--config', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('bom:run');
  });

  it('--config with a directory is a usage error', async () => {
    const result = await runCli(['plan', '--config', dir]);
    expectOneLine(result, /Config file .* is a directory: pass the JSON file itself/);
  });

  it('export -o with a directory is a usage error and leaves no temporary file', async () => {
    const apply = await runCli(['apply', '--yes', '--realm', realm]);
    expect(apply.code, apply.stderr).toBe(0);
    const target = join(dir, 'export-target');
    await mkdir(target);
    const result = await runCli(['export', '--realm', realm, '-o', target]);
    expectOneLine(result, /-o .*export-target is a directory: name the file to write/);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(await readdir(target)).toEqual([]);
    // A file where a folder should be is found before the realm is read, too.
    const file = await configFile('not-a-folder.json', {});
    const blocked = await runCli(['export', '--realm', realm, '-o', join(file, 'realm.json')]);
    expectOneLine(
      blocked,
      /Cannot write -o .*not-a-folder\.json\/realm\.json: the path has a file where a folder is expected\. Choose another file\.$/,
    );
  });

  it('export -o into a missing folder is refused, before Keycloak is asked, and no folder is made', async () => {
    const missing = join(dir, 'no-such-folder', 'deeper');
    // An unreachable Keycloak: the refusal must come first.
    const result = await runCli([
      'export',
      '--realm',
      realm,
      '--keycloak-url',
      'http://127.0.0.1:9',
      '-o',
      join(missing, 'realm.json'),
    ]);
    expectOneLine(
      result,
      new RegExp(
        `^error: Cannot write -o .*realm\\.json: the folder ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist: create it first, or choose another file\\.$`,
      ),
    );
    expect(await readdir(dir)).not.toContain('no-such-folder');
  });

  it.each([
    ['/proc/mcp-export.json', 'the folder /proc does not exist or takes no new files'],
    ['/sys/mcp-export.json', 'the folder /sys is not writable for this user (permission denied)'],
  ])('export -o %s: found when writing, a usage error in words', async (target, words) => {
    const apply = await runCli(['apply', '--yes', '--realm', realm]);
    expect(apply.code, apply.stderr).toBe(0);
    const result = await runCli(['export', '--realm', realm, '-o', target]);
    expectOneLine(
      result,
      new RegExp(`^error: Cannot write -o ${target}: ${words.replace(/[()]/g, '\\$&')}\\. Choose another file\\.$`),
    );
  });

  it('the atomic write removes its temporary file when the rename fails', async () => {
    // A directory in the way is found only by the rename, after the temporary file was written.
    const target = join(dir, 'rename-target');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'x');
    await expect(writePrivateFile(target, '{}')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect((await readdir(dir)).filter((name) => name.startsWith('rename-target.'))).toEqual([]);
  });
});
