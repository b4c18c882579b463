/**
 * The DPoP switches as users type them: `--require-dpop` / MCP_KEYCLOAK_REQUIRE_DPOP land in the config that apply
 * provisions from (dpop-realm.test.ts proves what apply then does in Keycloak), and serve's `--dpop` /
 * MCP_KEYCLOAK_DPOP / `--dpop-nonce` refuse what they cannot mean in one line, exit 64, before any Keycloak is asked.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';

const CLI = new URL('../../bin/mcp-keycloak.js', import.meta.url).pathname;

function serve(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    void mkdtemp(join(tmpdir(), 'mcp-keycloak-dpop-flags-')).then((cwd) =>
      execFile(
        process.execPath,
        [CLI, 'serve', '--keycloak-url', 'http://127.0.0.1:9', ...args],
        { cwd, env: { PATH: process.env.PATH ?? '', MCP_KEYCLOAK_STATE: join(cwd, 'state'), ...env }, timeout: 30_000 },
        (error, _stdout, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr }),
      ),
    );
  });
}

describe('--require-dpop and MCP_KEYCLOAK_REQUIRE_DPOP', () => {
  it('set requireDpop; the flag wins over the variable; a value that is not true or false is refused', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'mcp-keycloak-dpop-config-'));
    expect((await loadConfig({}, {}, cwd)).config.requireDpop).toBe(false);
    expect((await loadConfig({ requireDpop: true }, {}, cwd)).config.requireDpop).toBe(true);
    expect((await loadConfig({}, { MCP_KEYCLOAK_REQUIRE_DPOP: 'yes' }, cwd)).config.requireDpop).toBe(true);
    expect((await loadConfig({}, { MCP_KEYCLOAK_REQUIRE_DPOP: 'off' }, cwd)).config.requireDpop).toBe(false);
    await expect(loadConfig({}, { MCP_KEYCLOAK_REQUIRE_DPOP: 'maybe' }, cwd)).rejects.toThrow(UsageError);
  });
});

describe('serve --dpop, MCP_KEYCLOAK_DPOP, --dpop-nonce', () => {
  it('refuses an unknown mode from the flag or the variable, and a nonce without DPoP, in one line (exit 64)', async () => {
    const flag = await serve(['--dpop', 'sometimes']);
    expect(flag.code).toBe(64);
    expect(flag.stderr).toMatch(/--dpop.*sometimes/);
    const variable = await serve([], { MCP_KEYCLOAK_DPOP: 'sometimes' });
    expect(variable.code).toBe(64);
    expect(variable.stderr).toMatch(/^error: MCP_KEYCLOAK_DPOP must be one of off, allowed, required\./);
    const nonce = await serve(['--dpop-nonce']);
    expect(nonce.code).toBe(64);
    expect(nonce.stderr).toMatch(/^error: --dpop-nonce needs --dpop allowed or required\./);
  });
});
