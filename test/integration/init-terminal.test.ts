/**
 * The init wizard in a real pseudo-terminal (util-linux `script`, present on CI runners): prompts with
 * the recipe's defaults, hidden passwords that never reach the screen, and Ctrl-C at any prompt
 * leaving the folder and the realm untouched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { olderThan } from '../../src/keycloak/versions.js';
import { freePort } from '../../src/local/process.js';
import { adminClient, CLI, deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';

const realms: string[] = [];
afterAll(() => Promise.all(realms.map(deleteRealm)));

/** A process on a pty: waits for text to appear (never for a fixed time) and types keys. */
class Terminal {
  output = '';
  readonly exited: Promise<number>;
  private child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(args: string[], cwd: string, env: Record<string, string>) {
    const command = `stty cols 120 rows 40; exec ${[process.execPath, CLI, ...args].map((p) => `'${p}'`).join(' ')}`;
    this.child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', ...env },
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const wake of this.waiters.splice(0)) wake();
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code ?? -1)));
  }

  /** Resolves once `text` has appeared after `from` in the output; returns the position after it. */
  async waitFor(text: string, from = 0, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.output.indexOf(text, from);
      if (at >= 0) return at + text.length;
      if (Date.now() > deadline) throw new Error(`"${text}" did not appear; output so far:\n${this.output}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000).unref();
      });
    }
  }

  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Waits for a prompt, then answers it; returns the position after the prompt. */
  async answer(prompt: string, keys: string, from = 0): Promise<number> {
    const at = await this.waitFor(prompt, from);
    this.type(keys);
    return at;
  }
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-tty-'));
  const realm = uniqueRealm('wizard');
  realms.push(realm);
  return { dir, realm, env: { MCP_KEYCLOAK_STATE: join(dir, '.state') } };
}

it(
  'asks each question with its default, hides both passwords, and sets everything up',
  { timeout: 120_000 },
  async () => {
    const { dir, realm, env } = await setup();
    const resource = `http://127.0.0.1:${await freePort()}/mcp`;
    const testUserPassword = 'typed-Secret-4711';
    const term = new Terminal(['init'], dir, env);
    let at = await term.answer('Keycloak URL (http://localhost:8080): ', `${keycloak().url}\r`);
    at = await term.answer('Keycloak admin user (admin): ', `${keycloak().adminUsername}\r`, at);
    at = await term.answer(
      `Password of Keycloak admin "${keycloak().adminUsername}": `,
      `${keycloak().adminPassword}\r`,
      at,
    );
    at = await term.answer('Realm (mcp-demo): ', `${realm}\r`, at);
    at = await term.answer('MCP server URL (the token audience) (http://localhost:8000/mcp): ', `${resource}\r`, at);
    at = await term.answer('Scope the MCP server requires (mcp:run): ', '\r', at);
    at = await term.answer('Dynamic Client Registration: anonymous | trusted-hosts | off (anonymous): ', '\r', at);
    at = await term.answer('Create a test user to sign in with? [Y/n]: ', '\r', at);
    at = await term.answer('Test user name (alice): ', '\r', at);
    at = await term.answer('Password for "alice" (empty: generate one, kept in .env): ', `${testUserPassword}\r`, at);
    await term.answer('Apply these changes? [y/N]', 'y\r', at);
    expect(await term.exited).toBe(0);
    // With --features=cimd on Keycloak before 26.8.0, the one warning is claude.ai's refused document (keycloak#50362).
    const cimdWarning = inject('keycloakFeatures').includes('cimd') && olderThan(inject('keycloakVersion'), '26.8.0');
    expect(term.output).toMatch(
      cimdWarning ? /No failures(\u001b\[\d+m)?: \d+ passed, 1 warning\(s\)/ : /All checks passed/,
    );
    expect(term.output).toContain('Next steps');
    // Typed passwords are never echoed, and never printed later either.
    expect(term.output).not.toContain(keycloak().adminPassword);
    expect(term.output).not.toContain(testUserPassword);

    const config = JSON.parse(await readFile(join(dir, 'mcp-keycloak.json'), 'utf8'));
    expect(config).toMatchObject({
      keycloakUrl: keycloak().url,
      realm,
      resources: [{ url: resource, scopes: ['mcp:run'] }],
      dcr: { mode: 'anonymous' },
    });
    expect(await readFile(join(dir, '.env'), 'utf8')).toContain(`MCP_KEYCLOAK_TEST_USER_PASSWORD=${testUserPassword}`);
    expect(await (await adminClient()).realms.findOne({ realm })).toBeTruthy();
  },
);

it('asks again for a mistyped admin password instead of ending the wizard', { timeout: 120_000 }, async () => {
  const { dir, realm, env } = await setup();
  const resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const wrong = 'mistyped-Password-1';
  const term = new Terminal(['init', '--no-doctor'], dir, env);
  let at = await term.answer('Keycloak URL (http://localhost:8080): ', `${keycloak().url}\r`);
  at = await term.answer('Keycloak admin user (admin): ', `${keycloak().adminUsername}\r`, at);
  at = await term.answer(`Password of Keycloak admin "${keycloak().adminUsername}": `, `${wrong}\r`, at);
  at = await term.answer('Realm (mcp-demo): ', `${realm}\r`, at);
  at = await term.answer('MCP server URL (the token audience) (http://localhost:8000/mcp): ', `${resource}\r`, at);
  at = await term.answer('Scope the MCP server requires (mcp:run): ', '\r', at);
  at = await term.answer('Dynamic Client Registration: anonymous | trusted-hosts | off (anonymous): ', '\r', at);
  at = await term.answer('Create a test user to sign in with? [Y/n]: ', 'n\r', at);
  at = await term.waitFor('Keycloak rejected that password for admin', at);
  at = await term.answer(
    `Password of Keycloak admin "${keycloak().adminUsername}": `,
    `${keycloak().adminPassword}\r`,
    at,
  );
  await term.answer('Apply these changes? [y/N]', 'y\r', at);
  expect(await term.exited).toBe(0);
  expect(term.output).not.toContain(wrong);
  expect(term.output).not.toContain(keycloak().adminPassword);
  expect(await (await adminClient()).realms.findOne({ realm })).toBeTruthy();
});

for (const [where, prompt] of [
  ['a hidden password prompt', 'Password of Keycloak admin'],
  ['a text prompt', 'Realm (mcp-demo): '],
  ['the final confirmation', 'Apply these changes? [y/N]'],
] as const) {
  it(`Ctrl-C at ${where} leaves nothing written`, { timeout: 120_000 }, async () => {
    const { dir, realm, env } = await setup();
    const term = new Terminal(['init'], dir, env);
    let at = await term.answer('Keycloak URL (http://localhost:8080): ', `${keycloak().url}\r`);
    at = await term.answer('Keycloak admin user (admin): ', `${keycloak().adminUsername}\r`, at);
    if (prompt !== 'Password of Keycloak admin') {
      at = await term.answer('Password of Keycloak admin', `${keycloak().adminPassword}\r`, at);
      if (prompt !== 'Realm (mcp-demo): ') {
        at = await term.answer('Realm (mcp-demo): ', `${realm}\r`, at);
        for (const question of [
          'MCP server URL',
          'Scope the MCP server requires',
          'Dynamic Client Registration',
          'Create a test user',
        ]) {
          at = await term.answer(question, question === 'Create a test user' ? 'n\r' : '\r', at);
        }
      }
    }
    await term.answer(prompt, '\u0003', at);
    expect(await term.exited).toBe(130);
    expect(term.output).toContain('Interrupted: nothing was written.');
    expect((await readdir(dir)).filter((name) => name !== '.state')).toEqual([]);
    expect(existsSync(join(dir, '.env'))).toBe(false);
    expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
  });
}
