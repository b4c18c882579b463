/**
 * `mcp-keycloak serve` as a user runs it (the built binary): it fails fast with one line on every
 * start-up mistake, serves once started, and stops cleanly on SIGINT and SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { deleteRealm, keycloak, runCli, uniqueRealm, startServe } from '../support/keycloak.js';
import { applyRealm } from '../support/tokens.js';

const realm = uniqueRealm('serve-cli');
let port: number;
let resource: string;

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource);
});

afterAll(async () => {
  await deleteRealm(realm);
});

function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('serve fails fast with one line', () => {
  it('when Keycloak is unreachable', async () => {
    const dead = await freePort();
    const result = await runCli(
      ['serve', '--keycloak-url', `http://127.0.0.1:${dead}`, '--realm', realm, '--resource', resource],
      { admin: false },
    );
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /Cannot reach Keycloak at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  it('when Keycloak accepts the connection but never answers: within --timeout', async () => {
    const stalled = createServer(() => undefined);
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const address = stalled.address();
    const stalledPort = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      const result = await runCli(
        [
          '--timeout',
          '1',
          'serve',
          '--keycloak-url',
          `http://127.0.0.1:${stalledPort}`,
          '--realm',
          realm,
          '--resource',
          resource,
        ],
        { admin: false },
      );
      expect(result.code).toBe(1);
      expectOneLine(result.stderr, /Cannot reach Keycloak at http:\/\/127\.0\.0\.1:\d+ \(no answer within 1 s\)/);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      stalled.close();
    }
  });

  it('when another server answers at the URL: described as plan describes it, with the page title', async () => {
    const page = createHttpServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><head><title>Welcome to nginx!</title></head></html>'),
    );
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const address = page.address();
    const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const serve = await runCli(['serve', '--keycloak-url', pageUrl, '--realm', realm, '--resource', resource], {
        admin: false,
      });
      expect(serve.code).toBe(1);
      const described = `${pageUrl} does not look like Keycloak: GET /realms/${realm}/.well-known/openid-configuration answered 200 (text/html, page title "Welcome to nginx!"). Check --keycloak-url / KEYCLOAK_URL.`;
      expect(serve.stderr).toBe(`error: ${described}\n`);
      // plan, through the admin login's probe, says the same of the same server.
      const plan = await runCli(['plan', '--keycloak-url', pageUrl, '--realm', 'master-like']);
      expect(plan.stderr).toBe(`error: ${described.replace(`/realms/${realm}/`, '/realms/master/')}\n`);
    } finally {
      page.close();
    }
  });

  it('when the realm does not exist', async () => {
    const result = await runCli(['serve', '--realm', `${realm}-missing`, '--resource', resource], { admin: false });
    expect(result.code).toBe(64);
    expectOneLine(
      result.stderr,
      /Realm "serve-cli-\w+-missing" does not exist .*create it with `(npx |node \S+\/)?mcp-keycloak(\.js)? apply --realm serve-cli-\w+-missing --resource http:\/\/\S+\/mcp`/,
    );
  });

  it('when the realm lacks the scope', async () => {
    const result = await runCli(['serve', '--realm', realm, '--resource', resource, '--scope', 'other:run'], {
      admin: false,
    });
    expect(result.code).toBe(64);
    expectOneLine(result.stderr, /has no client scope "other:run"/);
  });

  it('when --port contradicts a loopback resource URL', async () => {
    const result = await runCli(['serve', '--realm', realm, '--resource', resource, '--port', String(port + 1)], {
      admin: false,
    });
    expect(result.code).toBe(64);
    expectOneLine(result.stderr, new RegExp(`on port ${port} but the server would listen on ${port + 1}`));
  });

  it('when introspection has no client secret', async () => {
    const result = await runCli(['serve', '--realm', realm, '--resource', resource, '--auth', 'introspection'], {
      admin: false,
    });
    expect(result.code).toBe(64);
    expectOneLine(result.stderr, /MCP_KEYCLOAK_INTROSPECTION_CLIENT_SECRET/);
  });

  it('when asked to serve without auth beyond loopback', async () => {
    const result = await runCli(
      ['serve', '--realm', realm, '--resource', resource, '--auth', 'off', '--host', '0.0.0.0'],
      { admin: false },
    );
    expect(result.code).toBe(64);
    expectOneLine(result.stderr, /Refusing to serve without authentication on 0\.0\.0\.0/);
  });

  it('when the port is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const result = await runCli(['serve', '--realm', realm, '--resource', resource], { admin: false });
      expect(result.code).toBe(1);
      expectOneLine(result.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('serve runs until a signal', () => {
  it('serves, logs one line per request, and stops cleanly on SIGINT', async () => {
    const { child, output } = await startServe(['--realm', realm, '--resource', resource]);
    const prm = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
    expect(((await prm.json()) as { resource: string }).resource).toBe(resource);
    expect((await fetch(`${resource}?access_token=secret-looking-value`, { method: 'POST', body: '{}' })).status).toBe(
      401,
    );
    const exited = exitOf(child);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const text = output();
    expect(text).toContain(`MCP endpoint  ${resource}`);
    expect(text).toContain(`Issuer        ${keycloak().url}/realms/${realm}`);
    expect(text).toMatch(/^GET \/\.well-known\/oauth-protected-resource\/mcp 200 [\d.]+ms$/m);
    expect(text).toMatch(/^POST \/mcp 401 [\d.]+ms reason="no bearer token"$/m);
    expect(text).not.toContain('secret-looking-value');
    expect(text).toContain('Stopped (SIGINT).');
  });

  it('prints JSON lines with --json and stops cleanly on SIGTERM', async () => {
    const { child, output } = await startServe(['--json', '--realm', realm, '--resource', resource]);
    expect((await fetch(resource, { method: 'POST', body: '{}' })).status).toBe(401);
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const events = output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({
      event: 'listening',
      url: resource,
      issuer: `${keycloak().url}/realms/${realm}`,
      auth: 'jwt',
      scopes: ['mcp:run'],
    });
    expect(events[1]).toMatchObject({
      event: 'request',
      method: 'POST',
      path: '/mcp',
      status: 401,
      reason: 'no bearer token',
    });
  });
});
