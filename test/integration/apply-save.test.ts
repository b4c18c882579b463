/**
 * One rule for realm-shaping flags in a folder with a config file, through the built CLI against the
 * real Keycloak: without --save, apply says in one line that doctor and doctor --fix will not keep
 * them (and leaves the file alone); with --save they are written into the file, so that after
 * `destroy` a `doctor --fix` restores what the flags set up (CIMD, a step-up scope).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { adminClient, CLI, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { ApplyJson, ConfigFileJson } from '../support/cli-json.js';

const realm = uniqueRealm('apply-save');
const cimdOn = inject('keycloakFeatures').includes('cimd');
let dir: string;
let original: string;
const env = () => ({ MCP_KEYCLOAK_STATE: join(dir, '.state') });
const configText = () => readFile(join(dir, 'mcp-keycloak.json'), 'utf8');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-apply-save-'));
  const config = {
    keycloakUrl: keycloak().url,
    realm,
    resources: [{ url: `http://127.0.0.1:${await freePort()}/mcp`, scopes: ['mcp:run'] }],
    // Keys --save must keep as they are.
    server: { host: '127.0.0.1' },
    dcr: { mode: 'anonymous' },
  };
  original = `${JSON.stringify(config, null, 2)}\n`;
  await writeFile(join(dir, 'mcp-keycloak.json'), original);
  const first = await runCli(['apply', '--yes'], { cwd: dir, env: env() });
  expect(first.code, first.stderr).toBe(0);
});
afterAll(() => deleteRealm(realm));

/** The CLI on a pseudo-terminal (util-linux `script`), answering each prompt in turn as it appears. */
function onTerminal(
  args: string[],
  answers: Array<[prompt: string, keys: string]>,
): Promise<{ code: number; output: string }> {
  const line = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 250; exec ${line}`, '/dev/null'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TERM: 'xterm',
      NO_COLOR: '1',
      KEYCLOAK_ADMIN_USERNAME: keycloak().adminUsername,
      KEYCLOAK_ADMIN_PASSWORD: keycloak().adminPassword,
      ...env(),
    },
  });
  let output = '';
  let next = 0;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    const answer = answers[next];
    if (answer && output.includes(answer[0])) {
      next++;
      child.stdin.write(answer[1]);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // A prompt nobody answers would hold the test until vitest's timeout: end it and show what it printed.
  const stop = setTimeout(() => child.kill(), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(stop);
      resolve({ code: code ?? -1, output });
    }),
  );
}

async function policyNames(): Promise<string[]> {
  const { policies = [] } = await (
    await adminClient()
  ).clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
  return policies.map((policy) => policy.name!).sort();
}

async function scopeNames(): Promise<string[]> {
  return (await (await adminClient()).clientScopes.find({ realm })).map((scope) => scope.name!);
}

describe('apply with realm-shaping flags in a folder with a config file', () => {
  it('without --save: applies them, leaves the file alone and says in one line how to keep them', async () => {
    const result = await runCli(['apply', '--yes', '--tool-scope', 'divide_numbers=mcp:admin'], {
      cwd: dir,
      env: env(),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await scopeNames()).toContain('mcp:admin');
    const notes = result.stderr.split('\n').filter((line) => line.startsWith('note:'));
    expect(notes).toEqual([
      'note: --tool-scope divide_numbers=mcp:admin is not in mcp-keycloak.json: doctor and doctor --fix will not keep it; run this apply again with --save to write it there.',
    ]);
    expect(await configText()).toBe(original);
  });

  it('--save writes them into the file, keeping the rest; then no note, and a second apply writes nothing', async () => {
    const flags = ['--tool-scope', 'divide_numbers=mcp:admin', ...(cimdOn ? ['--cimd'] : [])];
    const saved = await runCli(['apply', '--yes', '--save', ...flags], { cwd: dir, env: env() });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stderr).toMatch(/^Saved --tool-scope divide_numbers=mcp:admin.* to .*mcp-keycloak\.json\.$/m);
    const config = JSON.parse(await configText()) as ConfigFileJson;
    expect(config.resources[0]!.toolScopes).toEqual({ divide_numbers: ['mcp:admin'] });
    expect(config.server).toEqual({ host: '127.0.0.1' });
    if (cimdOn) expect(config.cimd).toEqual({ enabled: true });

    const again = await runCli(['--json', 'apply', '--yes', ...flags], { cwd: dir, env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/note:/);
    expect((JSON.parse(again.stdout) as ApplyJson).applied).toEqual([]);
  });

  it.skipIf(!cimdOn)('after --save, destroy + doctor --fix restore CIMD and the step-up scope', async () => {
    const destroyed = await runCli(['destroy', '--yes'], { cwd: dir, env: env() });
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(await policyNames()).not.toContain('mcp-keycloak-cimd');
    expect(await scopeNames()).not.toContain('mcp:admin');
    // No MCP server listens, so doctor's server checks fail (exit 1); the realm repair is what counts here.
    await runCli(['doctor', '--fix', '--yes'], { cwd: dir, env: env() });
    expect(await policyNames()).toEqual(expect.arrayContaining(['mcp-keycloak-cimd', 'mcp-keycloak-pkce']));
    expect(await scopeNames()).toContain('mcp:admin');
  });

  it('on a terminal without --yes, apply asks whether to save the flags, and "y" saves them', async () => {
    const flag = 'multiply_numbers=mcp:math';
    const result = await onTerminal(
      ['apply', '--tool-scope', flag],
      [
        ['Apply these changes?', 'y\r'],
        [`Save --tool-scope ${flag} to mcp-keycloak.json, so that doctor and doctor --fix keep it?`, 'y\r'],
      ],
    );
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Saved --tool-scope multiply_numbers=mcp:math to /);
    expect((JSON.parse(await configText()) as ConfigFileJson).resources[0]!.toolScopes).toMatchObject({
      multiply_numbers: ['mcp:math'],
    });
  });

  it('--save without a config file is refused before anything changes', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'mcp-keycloak-apply-save-none-'));
    const result = await runCli(['apply', '--yes', '--save', '--realm', realm, '--cimd'], {
      cwd: empty,
      env: { MCP_KEYCLOAK_STATE: join(empty, '.state') },
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/^error: --save writes the flags into the config file, and there is none here/);
  });
});
