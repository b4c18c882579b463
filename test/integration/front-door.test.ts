/**
 * Errors name the first real cause, through the built CLI against the real Keycloak (issue 21): nothing
 * at the URL before a missing password; "did you mean" for a realm typo (from the realm list with admin
 * credentials, from the running MCP server's metadata without); a 404 realm is not "did not answer";
 * Keycloak examples for --keycloak-url; https:// on Keycloak's http port in one sentence; an issuer pasted
 * as Keycloak URL; a trailing slash in --resource; a stopped local Keycloak's state file (password and
 * features) in the hints; a failed admin login that changed nothing does not say it may have.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { CLI, deleteRealm, keycloak, runCli, startServe, uniqueRealm, type CliResult } from '../support/keycloak.js';

const realm = uniqueRealm('front');
/** Two neighbouring letters of the suffix swapped: the typo people make. */
const typo = (() => {
  for (let i = realm.length - 1; i > realm.length - 8; i--)
    if (realm[i] !== realm[i - 1]) return `${realm.slice(0, i - 1)}${realm[i]}${realm[i - 1]}${realm.slice(i + 1)}`;
  return `${realm.slice(0, -1)}${realm.at(-1) === 'x' ? 'y' : 'x'}`;
})();
const created: string[] = [realm];
let state: string;
let nothingUrl: string;

/** The CLI with a state directory of its own (never the shared Keycloak's), with or without admin credentials. */
const cli = (args: string[], options: { admin?: boolean; env?: Record<string, string> } = {}) =>
  runCli(args, { admin: options.admin ?? true, env: { MCP_KEYCLOAK_STATE: state, ...options.env } });

function oneLine(result: CliResult, code: number): string {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout + result.stderr).not.toContain(keycloak().adminPassword);
  return lines[0]!;
}

interface Check {
  id: string;
  status: string;
  actual?: string;
  why?: string;
  fix?: string;
  fixable?: boolean;
}
const checksOf = (result: CliResult): Check[] => (JSON.parse(result.stdout) as { checks: Check[] }).checks;
const check = (result: CliResult, id: string) => checksOf(result).find((c) => c.id === id)!;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'front-state-'));
  nothingUrl = `http://127.0.0.1:${await freePort()}`;
  const result = await cli(['apply', '--yes', '--realm', realm]);
  expect(result.code, result.stderr).toBe(0);
});
afterAll(async () => {
  for (const name of created) await deleteRealm(name);
});

describe('reachability before credentials', () => {
  it.each([['plan'], ['apply', '--yes'], ['export'], ['clients', 'list'], ['destroy', '--yes']])(
    '%s: nothing at --keycloak-url is said as such, not as a missing password',
    async (...command) => {
      const line = oneLine(await cli([...command, '--keycloak-url', nothingUrl], { admin: false }), 1);
      expect(line).toMatch(new RegExp(`^error: Nothing answers at ${nothingUrl} \\(connection refused\\): `));
      expect(line).not.toMatch(/KEYCLOAK_ADMIN_PASSWORD/);
    },
  );

  it('on a terminal: no password prompt for a Keycloak that is not there', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal, where a missing password would be asked for.
    const command = [process.execPath, CLI, 'plan', '--keycloak-url', nothingUrl].map((part) => `'${part}'`).join(' ');
    const { code, output } = await new Promise<{ code: unknown; output: string }>((resolve) => {
      const child = execFile(
        'script',
        ['-qfec', `stty cols 200 rows 40; exec ${command}`, '/dev/null'],
        {
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', MCP_KEYCLOAK_STATE: state },
          timeout: 20_000,
        },
        (error, stdout) => resolve({ code: error ? (error as { code?: unknown }).code : 0, output: stdout }),
      );
      child.stdin?.end();
    });
    expect(output).toContain(`Nothing answers at ${nothingUrl} (connection refused)`);
    expect(output).not.toMatch(/Password of Keycloak admin/);
    expect(code).toBe(1);
  });

  it('doctor: the realm checks are not run because nothing answers, not for want of credentials', async () => {
    const result = await cli(['doctor', '--json', '--keycloak-url', nothingUrl], { admin: false });
    expect(result.code).toBe(1);
    expect(check(result, 'keycloak.realm')).toMatchObject({
      status: 'fail',
      actual: expect.stringMatching(/^Nothing answers at .*connection refused/),
    });
    const audit = check(result, 'realm.exists');
    expect(audit.status).toBe('skip');
    expect(audit.why).toBe(`nothing answers at ${nothingUrl} (see keycloak.realm)`);
    expect(audit.fix).not.toMatch(/KEYCLOAK_ADMIN_PASSWORD/);
    expect(result.stdout).not.toMatch(/no admin credentials/);
  });
});

describe('a realm that does not exist', () => {
  it('plan warns that it would create a typo of an existing realm, naming the realm meant', async () => {
    const result = await cli(['plan', '--realm', typo]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`+ create realm ${typo}`);
    expect(result.stderr).toContain(
      `warning: realm "${typo}" does not exist at ${keycloak().url}, so this plan creates it. Did you mean "${realm}"?`,
    );
    // A name close to no realm is planned without a word.
    const fresh = await cli(['plan', '--realm', uniqueRealm('elsewhere')]);
    expect(fresh.stderr).not.toMatch(/did you mean/i);
  });

  it('destroy has nothing to remove, and names the realm meant', async () => {
    const result = await cli(['destroy', '--dry-run', '--realm', typo]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`Realm ${typo} does not exist: nothing to remove. Did you mean "${realm}"?`);
  });

  it.each([['export'], ['clients', 'list']])('%s names the realm meant', async (...command) => {
    const line = oneLine(await cli([...command, '--realm', typo]), 1);
    expect(line).toBe(
      `error: Realm "${typo}" does not exist at ${keycloak().url}. Did you mean "${realm}"? Check --realm / MCP_KEYCLOAK_REALM / the config file.`,
    );
  });

  it('doctor with admin credentials: did you mean, and --fix does not offer to create the typo', async () => {
    const result = await cli(['doctor', '--json', '--realm', typo]);
    const keycloakRealm = check(result, 'keycloak.realm');
    expect(keycloakRealm.actual).toMatch(new RegExp(`has no realm "${typo}".*answered 404`));
    expect(keycloakRealm.fix).toMatch(new RegExp(`^Did you mean realm "${realm}" \\(the closest realm name`));
    const exists = check(result, 'realm.exists');
    expect(exists).toMatchObject({ status: 'fail', fix: expect.stringContaining(`Did you mean realm "${realm}"`) });
    expect(exists.fixable).toBeUndefined();
  });

  describe('without admin credentials, from the running MCP server', () => {
    let serve: ChildProcess;
    let resource: string;
    beforeAll(async () => {
      resource = `http://127.0.0.1:${await freePort()}/mcp`;
      ({ child: serve } = await startServe(['--realm', realm, '--resource', resource]));
    });
    afterAll(() => void serve?.kill());

    it('doctor names the realm the PRM names, and a 404 is not "did not answer"', async () => {
      const result = await cli(['doctor', '--json', '--realm', typo, '--resource', resource], { admin: false });
      expect(result.code).toBe(1);
      expect(check(result, 'keycloak.realm').fix).toMatch(
        new RegExp(`^Did you mean realm "${realm}" \\(the realm the MCP server's metadata names`),
      );
      const prm = check(result, 'prm.authorization_servers');
      expect(prm.why).toMatch(new RegExp(`^Cannot confirm: realm "${typo}" does not exist at `));
      expect(result.stdout).not.toMatch(/did not answer/);
    });
  });
});

describe('the Keycloak URL', () => {
  it('without a scheme: a Keycloak example and the URL meant, not an MCP URL', async () => {
    const line = oneLine(await cli(['plan', '--keycloak-url', 'localhost:8080'], { admin: false }), 64);
    expect(line).toContain('e.g. http://localhost:8080');
    expect(line).toContain('did you mean http://localhost:8080?');
    expect(line).not.toContain('8000/mcp');
  });

  it('https:// on Keycloak http port: one sentence with the URL to use, with or without a password', async () => {
    const https = keycloak().url.replace(/^http:/, 'https:');
    for (const admin of [true, false]) {
      const line = oneLine(await cli(['plan', '--keycloak-url', https], { admin }), 64);
      expect(line).toBe(
        `error: ${https} answers plain HTTP, not TLS: use --keycloak-url ${keycloak().url} (or KEYCLOAK_URL / keycloakUrl in the config file).`,
      );
    }
  });

  it('an issuer pasted as Keycloak URL gets the base URL and the realm', async () => {
    const line = oneLine(await cli(['export', '--keycloak-url', `${keycloak().url}/realms/${realm}`]), 64);
    expect(line).toContain(
      `is the issuer of realm "${realm}", not Keycloak's base URL: use --keycloak-url ${keycloak().url} --realm ${realm}`,
    );
  });
});

it('plan and apply warn about a trailing slash in --resource, with why', async () => {
  const slashed = uniqueRealm('front-slash');
  created.push(slashed);
  const args = ['--realm', slashed, '--resource', 'http://localhost:8000/mcp/'];
  const warning =
    /^warning: the resource URL http:\/\/localhost:8000\/mcp\/ ends in a slash\. It is the token audience, and MCP clients compare it byte for byte .*\(RFC 9728 §3\.3\)/m;
  const planned = await cli(['plan', ...args]);
  expect(planned.code).toBe(0);
  expect(planned.stderr).toMatch(warning);
  const applied = await cli(['apply', '--yes', ...args]);
  expect(applied.code).toBe(0);
  expect(applied.stderr).toMatch(warning);
  expect((await cli(['plan', '--realm', slashed])).stderr).not.toMatch(/slash/);
});

describe('a stopped local Keycloak (its state file)', () => {
  let url: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const dir = await mkdtemp(join(tmpdir(), 'front-stopped-'));
    // What `keycloak start --features cimd,resource-indicators` then `keycloak stop` leave behind.
    const record = {
      formatVersion: 1,
      runtime: 'distribution',
      url,
      port,
      dataDir: join(dir, 'keycloak-data'),
      logFile: join(dir, 'keycloak.log'),
      adminUsername: 'admin',
      version: '26.7.3',
      features: ['cimd', 'resource-indicators'],
      startedAt: new Date().toISOString(),
      stoppedAt: new Date().toISOString(),
    };
    await writeFile(join(dir, 'keycloak.json'), JSON.stringify(record), { mode: 0o600 });
    await writeFile(join(dir, 'admin-password'), 'kept-in-the-state-file\n', { mode: 0o600 });
    env = { MCP_KEYCLOAK_STATE: dir };
  });

  it('plan says it is stopped and how to start it with its features', async () => {
    const line = oneLine(await cli(['plan', '--keycloak-url', url], { admin: false, env }), 1);
    expect(line).toMatch(/the local Keycloak that `.*keycloak start` ran at .* is stopped/);
    expect(line).toMatch(
      /start it again with `.*keycloak start --port \d+ --runtime distribution --features cimd,resource-indicators`\.$/,
    );
  });

  it('doctor: not "no admin credentials", and the start command carries the features', async () => {
    const result = await cli(['doctor', '--json', '--keycloak-url', url], { admin: false, env });
    expect(result.stdout).not.toMatch(/no admin credentials/);
    expect(check(result, 'keycloak.realm').fix).toMatch(
      /^The local Keycloak .* is stopped .*: start it again with `.*keycloak start --port \d+ --runtime distribution --features cimd,resource-indicators`\.$/,
    );
    expect(check(result, 'keycloak.version').fix).toBe(
      'Make Keycloak answer first (keycloak.realm says how), then run doctor again.',
    );
  });
});

it('a login whose connection is reset is not said to have maybe changed something', async () => {
  const proxy = await startFaultProxy(keycloak().url);
  try {
    proxy.failOnce({ method: 'POST', path: '/realms/master/protocol/openid-connect/token' }, 'reset');
    const line = oneLine(await cli(['plan', '--realm', realm], { env: { KEYCLOAK_URL: proxy.url } }), 1);
    expect(line).toMatch(/^error: Logging in as admin ".+" in realm "master" failed: the connection was reset/);
    expect(line).toMatch(/check Keycloak's log and any proxy in front of it\.$/);
    expect(line).not.toMatch(/may or may not|Running the same command again completes it/);
  } finally {
    await proxy.close();
  }
});
