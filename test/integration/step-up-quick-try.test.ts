/**
 * The quick try of step-up on a realm that apply made without it (review A): `serve --tool-scope
 * divide_numbers=mcp:admin` stops, and the fix it prints is the apply that creates mcp:admin, aimed at
 * the same config file (one that is not ./mcp-keycloak.json) with the same --tool-scope. Running that
 * command exactly as printed, in a shell, lets the same serve start. `plan` and `apply` take the flag.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import {
  adminClient,
  deleteRealm,
  keycloak,
  runCli,
  startServe,
  uniqueRealm,
  type CliResult,
} from '../support/keycloak.js';
import type { PlanJson } from '../support/cli-json.js';

const realm = uniqueRealm('step-up-try');
const decoy = `${realm}-decoy`;
const TOOL_SCOPE = 'divide_numbers=mcp:admin';
let dir: string;

/** A printed command run as a user pastes it: by a shell, in `dir`, with the admin credentials in the environment. */
function shell(line: string): Promise<CliResult> {
  const { url, adminUsername, adminPassword } = keycloak();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KEYCLOAK_URL: url,
    KEYCLOAK_ADMIN_USERNAME: adminUsername,
    KEYCLOAK_ADMIN_PASSWORD: adminPassword,
  };
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', line], { cwd: dir, env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code =
        error && typeof (error as { code?: unknown }).code === 'number'
          ? (error as { code: number }).code
          : error
            ? 1
            : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-quick-try-'));
  const resource = `http://127.0.0.1:${await freePort()}/mcp`;
  // The config in use is not the default file name; a ./mcp-keycloak.json for another realm sits beside it,
  // so a fix that dropped --config would set up the wrong realm.
  await writeFile(
    join(dir, 'mcp-keycloak.json.orig'),
    JSON.stringify({ keycloakUrl: keycloak().url, realm, resources: [{ url: resource, scopes: ['mcp:run'] }] }),
  );
  await writeFile(
    join(dir, 'mcp-keycloak.json'),
    JSON.stringify({ keycloakUrl: keycloak().url, realm: decoy, resources: [{ url: resource, scopes: ['mcp:run'] }] }),
  );
  const applied = await runCli(['apply', '--yes', '--config', 'mcp-keycloak.json.orig'], { cwd: dir });
  expect(applied.code, applied.stderr).toBe(0);
});

afterAll(async () => {
  await deleteRealm(realm);
  await deleteRealm(decoy);
  await deleteRealm(`${realm}-flag`);
});

it('plan --tool-scope shows the step-up scope apply would make', async () => {
  const planned = await runCli(['--json', 'plan', '--config', 'mcp-keycloak.json.orig', '--tool-scope', TOOL_SCOPE], {
    cwd: dir,
  });
  expect(planned.code, planned.stderr).toBe(0);
  const changes = (JSON.parse(planned.stdout) as { changes: { action: string; kind: string; name: string }[] }).changes;
  expect(changes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ action: 'create', kind: 'client-scope', name: 'mcp:admin' }),
      expect.objectContaining({ action: 'create', kind: 'optional-scope', name: 'mcp:admin' }),
    ]),
  );
});

it('serve --tool-scope prints an apply that really creates the scope, after which serve starts', async () => {
  const args = ['--config', 'mcp-keycloak.json.orig', '--tool-scope', TOOL_SCOPE];
  const refused = await runCli(['serve', ...args], { cwd: dir, admin: false });
  expect(refused.code).toBe(64);
  expect(refused.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  const fix =
    /has no client scope "mcp:admin", which toolScopes requires for divide_numbers: tokens could never carry it\. Run `([^`]+)`/.exec(
      refused.stderr,
    )?.[1];
  expect(fix, refused.stderr).toMatch(
    / apply --config \S*mcp-keycloak\.json\.orig --tool-scope divide_numbers=mcp:admin$/,
  );

  const fixed = await shell(fix!);
  expect(fixed.code, fixed.stderr).toBe(0);
  expect(fixed.stdout).toContain('created client-scope mcp:admin');
  // It worked on the realm of the file serve read, not on ./mcp-keycloak.json's.
  expect(await (await adminClient()).realms.findOne({ realm: decoy })).toBeFalsy();
  const again = await runCli(['--json', 'plan', ...args], { cwd: dir });
  expect((JSON.parse(again.stdout) as PlanJson).changes).toEqual([]);

  const { child, output } = await startServe([
    '--config',
    join(dir, 'mcp-keycloak.json.orig'),
    '--tool-scope',
    TOOL_SCOPE,
  ]);
  try {
    expect(output()).toContain('Step-up       divide_numbers also needs mcp:admin\n');
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

it('destroy --tool-scope with the same values removes the scope apply --tool-scope made; a plain destroy leaves it', async () => {
  const plain = await runCli(['--json', 'destroy', '--dry-run', '--config', 'mcp-keycloak.json.orig'], { cwd: dir });
  expect(plain.code, plain.stderr).toBe(0);
  expect((JSON.parse(plain.stdout) as { removals: { name: string }[] }).removals.map((r) => r.name)).not.toContain(
    'mcp:admin',
  );
  const removed = await runCli(['destroy', '--yes', '--config', 'mcp-keycloak.json.orig', '--tool-scope', TOOL_SCOPE], {
    cwd: dir,
  });
  expect(removed.code, removed.stderr).toBe(0);
  expect(removed.stdout).toContain(
    '- delete client-scope mcp:admin: with its audience mapper and its place among the optional scopes (a step-up scope)',
  );
  expect((await (await adminClient()).clientScopes.find({ realm })).map((s) => s.name)).not.toContain('mcp:admin');
});

it('doctor on a config file plus --realm: the fix it prints keeps the flag, and pasted as printed sets up that realm', async () => {
  const other = `${realm}-flag`;
  const result = await runCli(['--json', 'doctor', '--config', 'mcp-keycloak.json.orig', '--realm', other], {
    cwd: dir,
  });
  expect(result.code).toBe(1);
  const checks = (JSON.parse(result.stdout) as { checks: { id: string; status: string; fix?: string }[] }).checks;
  const fix = checks.find((f) => f.id === 'realm.exists');
  expect(fix).toMatchObject({
    status: 'fail',
    fix: expect.stringMatching(new RegExp(` apply --config \\S*mcp-keycloak\\.json\\.orig --realm ${other}$`)),
  });
  const fixed = await shell(fix!.fix!);
  expect(fixed.code, fixed.stderr).toBe(0);
  expect(await (await adminClient()).realms.findOne({ realm: other })).toBeTruthy();
  expect(await (await adminClient()).realms.findOne({ realm: decoy })).toBeFalsy();
});
