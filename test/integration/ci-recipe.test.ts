/**
 * The CI recipe of docs/ci.md, run as GitHub would run it: the `run:` scripts of action.yml (through
 * test/support/composite-action.ts, so the action and this test cannot drift apart), against the real
 * Keycloak, with the config in a "repository" folder. A pull request's plan shows the changes (exit 2)
 * with a Markdown summary, the main branch applies them, the next plan is clean (exit 0), and a change made
 * by hand through the admin API between two runs makes the scheduled drift check fail (exit 2) with a
 * summary naming it. Errors (a bad URL, a wrong password, an unknown command) are never read as drift, and
 * the admin password appears in no output.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_ROOT, runAction, type ActionRun } from '../support/composite-action.js';
import { ExitCode } from '../../src/errors.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('ci');
const resource = 'https://mcp.ci.example/mcp';
const scratch = mkdtempSync(join(tmpdir(), 'ci-recipe-'));
const repository = join(scratch, 'repository');
const runs: ActionRun[] = [];

/** The action with the job's environment a workflow would give it: the password only as the input. */
async function action(inputs: Record<string, string>): Promise<ActionRun> {
  const { adminUsername, adminPassword } = keycloak();
  const run = await runAction(
    { 'admin-password': adminPassword, ...inputs },
    {
      cwd: repository,
      tempRoot: scratch,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        MCP_KEYCLOAK_STATE: join(scratch, 'state'),
        KEYCLOAK_ADMIN_USERNAME: adminUsername,
      },
    },
  );
  runs.push(run);
  return run;
}

beforeAll(() => {
  mkdirSync(repository);
  // What `init` leaves in a repository, with the Keycloak the team provisions named in it.
  const config = {
    $schema: './mcp-keycloak.schema.json',
    keycloakUrl: keycloak().url,
    realm,
    resources: [{ url: resource, scopes: ['mcp:run'] }],
    dcr: { mode: 'anonymous' },
  };
  writeFileSync(join(repository, 'mcp-keycloak.json'), JSON.stringify(config, null, 2));
  copyFileSync(join(ACTION_ROOT, 'schema', 'mcp-keycloak.schema.json'), join(repository, 'mcp-keycloak.schema.json'));
});
afterAll(async () => {
  await deleteRealm(realm);
  rmSync(scratch, { recursive: true, force: true });
});

describe('the CI recipe through action.yml', () => {
  it('pull request: plan shows the changes (exit 2) with a Markdown summary; the step passes and writes nothing', async () => {
    const run = await action({ command: 'plan' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ 'exit-code': '2', changes: 'true' });
    expect(run.stepSummary).toContain(`### mcp-keycloak plan: realm \`${realm}\``);
    expect(run.stepSummary).toMatch(/\*\*\d+ changes pending\*\* \(\d+ to create, \d+ to update, \d+ to delete\)/);
    expect(run.stepSummary).toContain(`\`\`\`diff\n+ create realm ${realm}\n`);
    expect(run.stepSummary).toContain('\n+ create client-scope mcp:run\n');
    expect(readFileSync(run.outputs['summary-file']!, 'utf8')).toBe(run.stepSummary);
    const plan = JSON.parse(readFileSync(run.outputs['plan-file']!, 'utf8'));
    expect(plan).toMatchObject({ formatVersion: 1, realm, requests: { writes: 0 } });
    expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
  });

  it('main branch: apply makes the changes the plan showed', async () => {
    const run = await action({ command: 'apply' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ 'exit-code': '2', changes: 'true' });
    expect(run.stdout).toMatch(/^::stop-commands::\w{32}\n[^]*Applied \d+ change\(s\) to realm[^]*^::\w{32}::$/m);
    expect(run.stepSummary).toContain('Applied by `mcp-keycloak apply --yes`; its log lists each change it made.');
    const defaults = await (await adminClient()).clientScopes.listDefaultClientScopes({ realm } as never);
    expect(defaults.map((scope) => scope.name)).toContain('mcp:run');
  });

  it('the next plan, apply and drift check find nothing to do (exit 0)', async () => {
    for (const command of ['plan', 'apply', 'drift']) {
      const run = await action({ command });
      expect(run.code, run.stderr).toBe(0);
      expect(run.outputs).toMatchObject({ 'exit-code': '0', changes: 'false' });
      expect(run.stepSummary).toContain('**no changes**, the realm matches the configuration.');
      expect(run.stdout).not.toContain('Applied');
    }
  });

  it('a config elsewhere: the config and working-directory inputs find it', async () => {
    mkdirSync(join(repository, 'infra'), { recursive: true });
    copyFileSync(join(repository, 'mcp-keycloak.json'), join(repository, 'infra', 'realm.json'));
    const run = await action({ command: 'drift', 'working-directory': 'infra', config: 'realm.json' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stepSummary).toContain(`realm \`${realm}\``);
  });

  it('schedule: a change made by hand between two runs fails the drift check (exit 2), the summary names it', async () => {
    const client = await adminClient();
    const scope = (await client.clientScopes.find({ realm })).find((candidate) => candidate.name === 'mcp:run')!;
    const [mapper] = await client.clientScopes.listProtocolMappers({ realm, id: scope.id! });
    await client.clientScopes.delProtocolMapper({ realm, id: scope.id!, mapperId: mapper!.id! });
    await client.clientScopes.delDefaultClientScope({ realm, id: scope.id! });

    const run = await action({ command: 'drift' });
    expect(run.code).toBe(2);
    expect(run.outputs).toMatchObject({ 'exit-code': '2', changes: 'true' });
    expect(run.stdout).toContain('::error title=Realm drift::the realm differs from mcp-keycloak.json');
    // In the log, the plan (values typed into the realm) sits where workflow commands are paused.
    const [, token, logged] = /^::stop-commands::(\w{32})\n([\s\S]*?)^::\1::$/m.exec(run.stdout) ?? [];
    expect(token).toBeDefined();
    expect(logged).toBe(run.stepSummary);
    expect(run.stepSummary).toContain('**2 changes pending** (2 to create, 0 to update, 0 to delete)');
    expect(run.stepSummary).toContain('\n+ create audience-mapper mcp:run › mcp-audience\n');
    expect(run.stepSummary).toContain(`    included.custom.audience: → ${resource}\n`);
    expect(run.stepSummary).toContain('\n+ create default-scope mcp:run\n');
  });

  it('apply repairs the drift, and the drift check passes again', async () => {
    expect((await action({ command: 'apply' })).code).toBe(0);
    const run = await action({ command: 'drift' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.outputs.changes).toBe('false');
  });
});

describe('errors are errors, never drift', () => {
  it('a Keycloak URL without a scheme: the usage error line, the step fails with neither 0 nor 2', async () => {
    const run = await action({ command: 'drift', 'keycloak-url': 'localhost:8080' });
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBe(2);
    expect(run.outputs['exit-code']).toBe(String(run.code));
    expect(run.outputs.changes).toBe('');
    expect(run.stderr).toMatch(/^error: --keycloak-url: .*\n$/);
    expect(run.stdout).toContain(`::error title=mcp-keycloak::plan failed with exit code ${run.code}`);
    expect(run.stepSummary).toBe(`mcp-keycloak plan failed (exit ${run.code}): see the error line above.\n`);
  });

  it('a wrong admin password fails the step with exit 1', async () => {
    const run = await action({ command: 'plan', 'admin-password': 'wrong-password-ci-recipe' });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ 'exit-code': '1', changes: '' });
    expect(run.stderr).toMatch(/^error: .*\n$/);
    expect(`${run.stdout}${run.stderr}${run.stepSummary}`).not.toContain('wrong-password-ci-recipe');
  });

  it('an unknown command is refused before anything runs (exit 64)', async () => {
    const run = await action({ command: 'destroy' });
    expect(run.code).toBe(64);
    expect(run.stdout).toContain('::error title=mcp-keycloak::input command must be plan, apply or drift');
    expect(run.outputs['exit-code']).toBe('');
  });

  it('plan --summary into a folder that does not exist: a usage error before Keycloak is asked anything', async () => {
    // A closed port: had plan connected first, the line would be "Cannot reach Keycloak".
    const result = await runCli([
      'plan',
      '--keycloak-url',
      'http://127.0.0.1:9',
      '--summary',
      '/nonexistent-ci/plan.md',
    ]);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toBe(
      'error: --summary: cannot write /nonexistent-ci/plan.md: the folder /nonexistent-ci does not exist or is not writable.\n',
    );
  });

  it('the admin password appears in no output, summary or output value of any run', () => {
    const { adminPassword } = keycloak();
    expect(runs.length).toBeGreaterThanOrEqual(8);
    for (const run of runs) {
      const everything = [run.stdout, run.stderr, run.stepSummary, ...Object.values(run.outputs)].join('\n');
      expect(everything).not.toContain(adminPassword);
    }
  });
});
