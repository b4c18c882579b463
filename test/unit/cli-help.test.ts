/**
 * Every subcommand's --help lists the global options it takes (they may follow the command name), and
 * option texts fit the command: a read-only command does not call --realm "realm to configure". Exit
 * codes: a usage error (commander's own or ours) is 64, never 2, which `plan --detailed-exitcode` keeps
 * for "changes pending", so a CI gate cannot read a typo in its flags as drift. Runs the built CLI
 * (`npm run build` first); no Keycloak: nothing listens at the URL it is given.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../bin/mcp-keycloak.js', import.meta.url));
const run = (args: string[]) => {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', KEYCLOAK_URL: 'http://127.0.0.1:9' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

/** The lines of a help section ("Options:", "Global Options:") up to the next blank line. */
function section(help: string, title: string): string {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return '';
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Every command as the top-level help lists it, with the subcommands of those that have some. */
function leafCommands(): string[][] {
  const names = (help: string) =>
    section(help, 'Commands')
      .split('\n')
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim().split(/\s/)[0]!)
      .filter((name) => name !== 'help');
  return names(run(['--help']).stdout).flatMap((name) => {
    const subcommands = names(run([name, '--help']).stdout);
    return subcommands.length ? subcommands.map((sub) => [name, sub]) : [[name]];
  });
}

const leaves = leafCommands();

describe('help', () => {
  it('finds every command', () => {
    expect(leaves.map((path) => path.join(' '))).toEqual(
      expect.arrayContaining(['plan', 'apply', 'doctor', 'export', 'clients list', 'keycloak status', 'init']),
    );
  });

  it.each(leaves.map((path) => [path.join(' '), path] as const))('%s --help lists its global options', (_, path) => {
    const help = run([...path, '--help']);
    expect(help.code).toBe(0);
    const global = section(help.stdout, 'Global Options');
    for (const flag of ['--json', '--debug', '--version']) expect(global).toContain(flag);
    // keycloak start|status|stop send nothing that --timeout bounds; every other command talks to Keycloak.
    if (path[0] === 'keycloak') expect(global).not.toContain('--timeout');
    // Help wraps descriptions at the terminal width: compare with the line breaks folded.
    else
      expect(global.replace(/\s+/g, ' ')).toMatch(/--timeout <seconds> seconds Keycloak gets to answer each request/);
  });

  it.each(leaves.filter((path) => path[0] !== 'keycloak').map((path) => [path.join(' '), path] as const))(
    '%s: --realm says what this command does with the realm',
    (name, path) => {
      const options = section(run([...path, '--help']).stdout, 'Options').replace(/\s+/g, ' ');
      const realm = /--realm <name> (.*?) \(env MCP_KEYCLOAK_REALM/.exec(options)?.[1];
      expect(realm).toBeDefined();
      if (['apply', 'init'].includes(name)) expect(realm).toBe('realm to configure');
      else expect(realm).not.toMatch(/configure/);
      if (['plan', 'doctor', 'export'].includes(name)) expect(realm).toMatch(/read only|read and export/);
    },
  );

  it.each([['plan'], ['doctor'], ['export']])('%s --help promises no change', (name) => {
    const options = section(run([name, '--help']).stdout, 'Options').replace(/\s+/g, ' ');
    expect(options).not.toMatch(/realm to configure|create a test user|set up /);
  });
});

describe('exit codes', () => {
  it('a bad flag with --detailed-exitcode is a usage error (64), not "changes pending" (2)', () => {
    const unknown = run(['plan', '--detailed-exitcode', '--realm-name', 'x']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/unknown option '--realm-name'/);
    const missing = run(['plan', '--detailed-exitcode', '--realm']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/option '--realm <name>' argument missing/);
    const choice = run(['plan', '--detailed-exitcode', '--dcr', 'sometimes']);
    expect(choice.code).toBe(64);
    const ours = run(['plan', '--detailed-exitcode', '--realm', 'master']);
    expect(ours.code).toBe(64);
    expect(ours.stderr).toMatch(/realm: must not be "master"/);
  });

  it('an unknown command and a missing subcommand are usage errors too', () => {
    expect(run(['plna']).code).toBe(64);
    expect(run(['keycloak', 'restart']).code).toBe(64);
  });
});
