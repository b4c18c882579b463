/**
 * A command lists only the flags it honours: a flag that is shown but ignored is worse than none (the
 * user believes it took effect). Commands that do not depend on the MCP server (`export`, `clients`) do
 * not offer --resource/--scope, and `destroy`, which resets Trusted Hosts to Keycloak's default whatever
 * the hosts were, does not offer --trusted-host. Passing one is a usage error, before anything is read.
 * No Keycloak needed: it runs the built CLI (`npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';

const CLI = fileURLToPath(new URL('../../bin/mcp-keycloak.js', import.meta.url));
const run = (args: string[]) => {
  // An address nothing listens on: if a flag were accepted, the command would fail later, and differently.
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', KEYCLOAK_URL: 'http://127.0.0.1:9' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

const NOT_OFFERED: Array<[string[], string[]]> = [
  [['export'], ['--resource', '--scope', '--dcr', '--trusted-host', '--web-origin', '--test-user']],
  [
    ['clients', 'list'],
    ['--resource', '--scope', '--dcr', '--trusted-host'],
  ],
  [
    ['clients', 'prune'],
    ['--resource', '--scope', '--dcr', '--trusted-host'],
  ],
  [['destroy'], ['--trusted-host']],
];

describe('flags a command would ignore are not offered', () => {
  for (const [command, flags] of NOT_OFFERED) {
    it(`${command.join(' ')}: ${flags.join(', ')}`, () => {
      const help = run([...command, '--help']);
      expect(help.code).toBe(0);
      for (const flag of flags) expect(help.stdout).not.toMatch(new RegExp(`${flag}\\b`));
      const refused = run([...command, flags[0]!, 'x']);
      expect(refused.code).toBe(64);
      expect(refused.stderr).toMatch(new RegExp(`unknown option '${flags[0]}'`));
    });
  }

  it('destroy still offers what it uses: --resource, --scope, --dcr, --web-origin, --test-user', () => {
    const help = run(['destroy', '--help']).stdout;
    for (const flag of ['--resource', '--scope', '--dcr', '--web-origin', '--test-user']) expect(help).toContain(flag);
    expect(help).toMatch(/--test-user <name>\s+also delete this test user/);
  });

  it('help examples use a command that works from a checkout too (no `npx mcp-keycloak`, an npm E404 before publishing)', () => {
    for (const command of [[], ['init']]) expect(run([...command, '--help']).stdout).not.toContain('npx mcp-keycloak');
  });

  it("the top-level help's exit codes line names every documented exit code", () => {
    const line = run(['--help'])
      .stdout.split('\n')
      .find((l) => l.startsWith('Exit codes:'));
    expect(line).toBeDefined();
    const listed = [...line!.matchAll(/(?:: |, )(\d+) /g)].map((match) => Number(match[1]));
    expect(listed).toEqual([...new Set(Object.values(ExitCode))].sort((a, b) => a - b));
    expect(line).toContain('3 not running (keycloak status)');
  });
});
