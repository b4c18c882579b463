/**
 * In a real pseudo-terminal (util-linux `script`), apply shows the plan in colour and asks before
 * writing; NO_COLOR turns colour off. Without a terminal (every other test) it never asks.
 */
import { execFile } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { adminClient, CLI, deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('tty');
afterAll(() => deleteRealm(realm));

function inTerminal(
  args: string[],
  input: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const { url, adminUsername, adminPassword } = keycloak();
  // A pty made by `script` starts with no size; give it one, as a terminal window would.
  const command = `stty cols 100 rows 40; exec ${[process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ')}`;
  return new Promise((resolve) => {
    const child = execFile(
      'script',
      ['-qfec', command, '/dev/null'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          TERM: 'xterm',
          KEYCLOAK_URL: url,
          KEYCLOAK_ADMIN_USERNAME: adminUsername,
          KEYCLOAK_ADMIN_PASSWORD: adminPassword,
          ...extraEnv,
        },
        timeout: 60_000,
      },
      (error, stdout) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ code: error ? (typeof code === 'number' ? code : -1) : 0, output: stdout });
      },
    );
    // Answer the prompt once it has been shown, not before: the terminal would discard early input.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Apply these changes?')) child.stdin?.end(input);
    });
  });
}

it('asks before writing and writes nothing when the answer is no', async () => {
  const { code, output } = await inTerminal(['apply', '--realm', realm], 'n\r');
  expect(output).toContain('Apply these changes? [y/N]');
  expect(output).toContain('\u001b['); // colour on a TTY
  expect(output).toContain('Nothing was changed.');
  expect(code).toBe(1);
  expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
});

it('applies on yes, without colour when NO_COLOR is set', async () => {
  const { code, output } = await inTerminal(['apply', '--realm', realm], 'y\r', { NO_COLOR: '1' });
  expect(code).toBe(0);
  expect(output).toMatch(/Applied \d+ change\(s\)/);
  expect(output.replace(/\u001b\[\?25[hl]/g, '')).not.toMatch(/\u001b\[\d+m/);
  expect(await (await adminClient()).realms.findOne({ realm })).toBeTruthy();
});
