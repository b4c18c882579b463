/**
 * Bad input gets one clear line, a non-zero exit code, no stack trace, nothing written, and never the
 * password. Each case runs the built CLI against the real Keycloak (or a real non-Keycloak server).
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { adminClient, keycloak, runCli, uniqueRealm, type CliResult } from '../support/keycloak.js';

const realm = uniqueRealm('bad');
let notKeycloak: Server;
let notKeycloakUrl: string;
let dir: string;

function expectOneLine(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.stdout + result.stderr).not.toContain(keycloak().adminPassword);
}

async function realmExists(): Promise<boolean> {
  const client = await adminClient();
  return Boolean(await client.realms.findOne({ realm }));
}

beforeAll(async () => {
  notKeycloak = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<h1>Not here</h1>');
  });
  await new Promise<void>((resolve) => notKeycloak.listen(0, '127.0.0.1', resolve));
  const address = notKeycloak.address();
  notKeycloakUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-bad-'));
});
afterAll(() => new Promise<void>((resolve) => notKeycloak.close(() => resolve())));

describe('bad input', () => {
  it('a wrong admin password: one line naming the env var, nothing written, password not echoed', async () => {
    const wrong = 'definitely-not-the-password-42';
    const result = await runCli(['apply', '--yes', '--realm', realm], {
      admin: false,
      env: { KEYCLOAK_ADMIN_PASSWORD: wrong },
    });
    expectOneLine(result, 1, /rejected the admin credentials for user "admin".*KEYCLOAK_ADMIN_PASSWORD/);
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(await realmExists()).toBe(false);
  });

  it('a missing admin password without a terminal: a usage error, not a prompt', async () => {
    const result = await runCli(['plan', '--realm', realm], { admin: false });
    expectOneLine(result, 64, /KEYCLOAK_ADMIN_PASSWORD is not set/);
  });

  it('an unreachable URL', async () => {
    const port = await freePort();
    const result = await runCli(['apply', '--yes', '--realm', realm, '--keycloak-url', `http://127.0.0.1:${port}`]);
    expectOneLine(result, 1, new RegExp(`Nothing answers at http://127.0.0.1:${port} \\(connection refused\\)`));
  });

  it('a URL that is not Keycloak', async () => {
    const result = await runCli(['plan', '--realm', realm, '--keycloak-url', notKeycloakUrl]);
    expectOneLine(
      result,
      1,
      /does not look like Keycloak: GET \/realms\/master\/\.well-known\/openid-configuration answered 404 \(text\/html\)/,
    );
  });

  it('an invalid realm name', async () => {
    const result = await runCli(['apply', '--yes', '--realm', 'my realm!']);
    expectOneLine(result, 64, /realm: must start with a letter or digit/);
  });

  it('the master realm is refused', async () => {
    const result = await runCli(['apply', '--yes', '--realm', 'master']);
    expectOneLine(result, 64, /realm: must not be "master"/);
  });

  it('an invalid scope name', async () => {
    const result = await runCli(['apply', '--yes', '--realm', realm, '--scope', 'mcp run']);
    expectOneLine(result, 64, /resources\[0\]\.scopes\[0\]: must be a non-empty OAuth scope token/);
    expect(await realmExists()).toBe(false);
  });

  it('an invalid DCR mode', async () => {
    const result = await runCli(['apply', '--yes', '--realm', realm, '--dcr', 'wide-open']);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/--dcr.*wide-open.*not one of the allowed choices|Allowed choices/i);
  });

  it('a malformed config file names the file', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{ "realm": "x", ');
    const result = await runCli(['apply', '--yes', '--config', file]);
    expectOneLine(result, 64, /broken\.json: not valid JSON/);
  });

  it('an invalid field in the config file names the field', async () => {
    const file = join(dir, 'invalid.json');
    await writeFile(
      file,
      JSON.stringify({
        realm,
        resources: [{ url: 'localhost:8000/mcp' }],
        dcr: { mode: 'anonymous', trustedHost: ['x'] },
      }),
    );
    const result = await runCli(['plan', '--config', file]);
    expectOneLine(result, 64, /invalid\.json: .*resources\[0\]\.url: must be an absolute http/);
    expect(result.stderr).toMatch(/dcr: unknown field\(s\) "trustedHost"/);
  });

  it('__proto__ as a --tool-scope tool or a toolScopes key: refused in one line, not silently dropped', async () => {
    const flag = await runCli(['apply', '--yes', '--realm', realm, '--tool-scope', '__proto__=mcp:admin']);
    expectOneLine(flag, 64, /--tool-scope __proto__=…: the tool name must not be __proto__: /);
    const file = join(dir, 'proto.json');
    await writeFile(
      file,
      `{"realm": "${realm}", "resources": [{"url": "http://localhost:8000/mcp", "toolScopes": {"__proto__": ["mcp:admin"]}}]}`,
    );
    const fromFile = await runCli(['apply', '--yes', '--config', file]);
    expectOneLine(fromFile, 64, /proto\.json: resources\[0\]\.toolScopes\.__proto__: must not be __proto__: /);
    expect(await realmExists()).toBe(false);
  });

  it('a test user without a password', async () => {
    const result = await runCli(['apply', '--yes', '--realm', realm, '--test-user', 'alice']);
    expectOneLine(result, 64, /--test-user alice needs its password in MCP_KEYCLOAK_TEST_USER_PASSWORD/);
  });

  it('--debug adds the stack trace', async () => {
    const port = await freePort();
    const result = await runCli(['--debug', 'plan', '--realm', realm, '--keycloak-url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').length).toBeGreaterThan(1);
  });
});
