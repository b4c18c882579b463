/**
 * `doctor --e2e --client` on a step-up realm through the built CLI against the real Keycloak and `serve`: the Python
 * SDK's verdict, derived as "cannot step up" (it registers with the 401's scope), is what the e2e flow's
 * challenge-scope run lived through, and the verdict says it was simulated; Cursor (registers without scope) stays
 * derived and works. VS Code is simulated by the flow's first run where it registers (a Keycloak without CIMD).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { deleteRealm, keycloak, runCli, startServe, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('client-verdicts-e2e');
const password = `pw-${Math.random().toString(36).slice(2)}`;
const cimdOn = inject('keycloakFeatures').includes('cimd');
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
let serve: ChildProcess | undefined;
let config: string;

interface Row {
  client: string;
  verdict: string;
  line: string;
  simulated?: string;
}

beforeAll(async () => {
  const port = await freePort();
  config = join(await mkdtemp(join(tmpdir(), 'client-verdicts-e2e-')), 'mcp-keycloak.json');
  const resources = [
    { url: `http://127.0.0.1:${port}/mcp`, scopes: ['mcp:run'], toolScopes: { divide_numbers: ['mcp:admin'] } },
  ];
  await writeFile(
    config,
    JSON.stringify({ keycloakUrl: keycloak().url, realm, resources, testUser: { username: 'alice' } }),
  );
  const applied = await runCli(['apply', '--yes', '-c', config], { env });
  expect(applied.code, applied.stderr).toBe(0);
  serve = (await startServe(['-c', config])).child;
});

afterAll(async () => {
  serve?.kill();
  await deleteRealm(realm);
});

describe('doctor --e2e --client on a step-up realm', () => {
  it('the SDK clients’ verdict is what the e2e flow lived through, marked simulated; the rest is derived', async () => {
    const result = await runCli(
      ['--json', 'doctor', '-c', config, '--e2e', '--client', 'sdk-python,sdk-ts-v2,cursor,vscode'],
      { env },
    );
    expect(result.stderr).toBe('');
    const rows = (JSON.parse(result.stdout) as { clients: Row[] }).clients;
    const row = (id: string) => rows.find((r) => r.client === id)!;
    for (const id of ['sdk-python', 'sdk-ts-v2']) {
      expect(row(id).line, id).toMatch(/^cannot on this Keycloak \(keycloak#50807, /);
      expect(row(id).simulated, id).toMatch(/^--e2e registered with the 401's scope as it does: warn, cannot step up/);
    }
    expect(row('cursor')).toMatchObject({ line: 'works' });
    expect(row('cursor').simulated).toBeUndefined();
    if (cimdOn) {
      // VS Code sends its document here (no CIMD policy in this realm): nothing the DCR flow plays.
      expect(row('vscode')).toMatchObject({ line: 'works after apply --cimd' });
      expect(row('vscode').simulated).toBeUndefined();
    } else {
      expect(row('vscode')).toMatchObject({ line: 'works' });
      expect(row('vscode').simulated).toMatch(
        /^--e2e registered with the PRM's scopes as it does, signed in, called a tool, stepped up$/,
      );
    }
  });
});
