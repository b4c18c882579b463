/**
 * Token analysis with real Keycloak tokens and the reference server: a good token read from stdin,
 * an expired one, one from another realm, garbage, and the usage rules (never a token in argv).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import type { RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { serveRealm } from '../support/tokens.js';

const realm = uniqueRealm('doctor-tok');
const password = `pw-${Math.random().toString(36).slice(2)}`;
let resource: string;
let server: RunningServer;
let target: string[];

interface Report {
  checks: { id: string; status: string; why?: string; actual?: string }[];
  token?: { source: string; claims: Record<string, unknown> };
}
const failed = (r: Report) =>
  r.checks
    .filter((f) => f.status === 'fail')
    .map((f) => f.id)
    .sort();
const find = (r: Report, id: string) => r.checks.find((f) => f.id === id)!;

/** A password-grant token for alice through a client made for the test (short-lived when asked). */
async function passwordToken(lifespanSeconds?: number): Promise<string> {
  const client = await adminClient();
  const clientId = `doctor-test-${lifespanSeconds ?? 'std'}`;
  const existing = await client.clients.find({ realm, clientId });
  if (existing.length === 0) {
    await client.clients.create({
      realm,
      clientId,
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
      ...(lifespanSeconds ? { attributes: { 'access.token.lifespan': String(lifespanSeconds) } } : {}),
    });
  }
  const response = await fetch(`${keycloak().url}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: clientId,
      username: 'alice',
      password,
      scope: 'mcp:run',
    }),
  });
  const body = (await response.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token: ${body.error_description}`);
  return body.access_token;
}

async function doctor(options: { input?: string; env?: Record<string, string>; args?: string[] }) {
  const result = await runCli(['--json', 'doctor', ...target, ...(options.args ?? [])], { admin: false, ...options });
  return { ...result, report: result.stdout ? (JSON.parse(result.stdout) as Report) : undefined };
}

beforeAll(async () => {
  ({ server, resource } = await serveRealm(realm, { password }));
  target = ['--realm', realm, '--resource', resource];
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

describe('doctor --token', () => {
  it('analyses a good token read from stdin and calls tools/list with it', async () => {
    const { code, report, stdout } = await doctor({
      args: ['--token', '-'],
      input: `Bearer ${await passwordToken()}\n`,
    });
    expect(failed(report!)).toEqual([]);
    expect(code).toBe(0);
    expect(report!.token?.source).toBe('stdin');
    expect(find(report!, 'token.signature').status).toBe('pass');
    expect(find(report!, 'mcp.tools_list').actual).toMatch(/tool\(s\)/);
    expect(stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });

  it('an expired token: exp fails, saying how long ago and how long the server clock tolerance still accepts it', async () => {
    const token = await passwordToken(1);
    const { exp } = decodeJwt(token);
    // Wait for the clock, not a fixed time: the token expires one second after it was issued.
    await vi.waitFor(() => expect(Date.now() / 1000).toBeGreaterThan(exp! + 1), { timeout: 10_000, interval: 200 });
    const { code, report } = await doctor({ env: { MCP_KEYCLOAK_TOKEN: token } });
    expect(code).toBe(1);
    expect(failed(report!)).toEqual(['token.exp']);
    expect(find(report!, 'token.exp').why).toMatch(/^The token expired \d+ s ago/);
    expect(report!.token?.source).toBe('env');
    // Within the server's 30 s clock tolerance the reference server still accepts it; doctor says so.
    expect(find(report!, 'token.exp').why).toMatch(/clock tolerance accepts it for \d+ s more/);
  });

  it('a token from another realm (master): iss names the realm, the signature fails against this realm keys', async () => {
    const response = await fetch(`${keycloak().url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: keycloak().adminUsername,
        password: keycloak().adminPassword,
      }),
    });
    const token = ((await response.json()) as { access_token: string }).access_token;
    const { code, report, stdout } = await doctor({ env: { MCP_KEYCLOAK_TOKEN: token } });
    expect(code).toBe(1);
    expect(failed(report!)).toEqual(
      expect.arrayContaining(['token.iss', 'token.signature', 'token.aud', 'mcp.tools_list']),
    );
    expect(find(report!, 'token.iss').why).toContain(`the token comes from realm "master", not "${realm}"`);
    expect(find(report!, 'token.signature').actual).toMatch(/another realm/);
    expect(stdout).not.toContain(token);
  });

  it('garbage instead of a token', async () => {
    const { code, report } = await doctor({ env: { MCP_KEYCLOAK_TOKEN: 'not-a-token' } });
    expect(code).toBe(1);
    expect(failed(report!)).toEqual(['mcp.tools_list', 'token.decode']);
  });

  it('refuses a token in argv with one line and exit 64', async () => {
    const result = await runCli(['doctor', ...target, '--token', 'eyJhbGciOiJSUzI1NiJ9.e30.sig'], { admin: false });
    expect(result.code).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--token takes "-"/);
    expect(result.stderr).not.toContain('eyJhbGciOiJSUzI1NiJ9');
    expect(result.stdout).toBe('');
  });

  it('--fix without admin credentials is a usage error', async () => {
    const result = await runCli(['doctor', ...target, '--fix'], { admin: false });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/--fix repairs the realm through the admin API/);
  });
});
