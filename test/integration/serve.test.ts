/**
 * The reference server end to end with real Keycloak tokens: both official SDK clients list and call
 * tools, the metadata and the 401 challenge are right field by field, and introspection mode works
 * (and sees a revoked session that local validation cannot).
 */
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { parseChallenge, postToolsCall } from '../support/mcp-http.js';
import {
  serveRealm,
  createPasswordClient,
  createResourceClient,
  passwordToken,
  type TestClient,
} from '../support/tokens.js';

const realm = uniqueRealm('serve');
let port: number;
let resource: string;
let server: RunningServer;
let client: TestClient;
let token: string;
const logs: string[] = [];

beforeAll(async () => {
  ({ server, resource, port } = await serveRealm(realm, { log: (line) => logs.push(line) }));
  client = await createPasswordClient(realm, 'serve-test-password');
  token = await passwordToken(realm, client);
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

describe('serve with tokens minted by Keycloak after apply', () => {
  it('gives Keycloak a token that carries the audience and scope apply configured', () => {
    const claims = decodeJwt(token);
    expect(claims.aud).toContain(resource);
    expect(String(claims.scope).split(' ')).toContain('mcp:run');
  });

  it('lists and calls tools through the v1 SDK client (2025 protocol, stateless)', async () => {
    const mcp = new ClientV1({ name: 'serve-test-v1', version: '1.0.0' });
    await mcp.connect(
      new TransportV1(new URL(resource), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
    );
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add_numbers', 'divide_numbers', 'multiply_numbers']);
    expect(tools.find((t) => t.name === 'add_numbers')?.inputSchema.properties).toHaveProperty('a');
    const sum = await mcp.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
    expect(sum.structuredContent).toEqual({ result: 5 });
    const product = await mcp.callTool({ name: 'multiply_numbers', arguments: { a: 4, b: 2.5 } });
    expect(product.structuredContent).toEqual({ result: 10 });
    const byZero = await mcp.callTool({ name: 'divide_numbers', arguments: { a: 1, b: 0 } });
    expect(byZero.isError).toBe(true);
    expect(byZero.content).toEqual([{ type: 'text', text: 'Cannot divide by zero.' }]);
    await mcp.close();
  });

  it('lists and calls tools through the v2 SDK client pinned to the 2026-07-28 protocol', async () => {
    const mcp = new ClientV2(
      { name: 'serve-test-v2', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await mcp.connect(
      new TransportV2(new URL(resource), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
    );
    const { tools } = await mcp.listTools();
    expect(tools).toHaveLength(3);
    const quotient = await mcp.callTool({ name: 'divide_numbers', arguments: { a: 7, b: 2 } });
    expect(quotient.structuredContent).toEqual({ result: 3.5 });
    const byZero = await mcp.callTool({ name: 'divide_numbers', arguments: { a: 7, b: 0 } });
    expect(byZero.isError).toBe(true);
    await mcp.close();
  });

  it('rejects invalid tool arguments without crashing', async () => {
    const response = await fetch(resource, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'add_numbers', arguments: { a: 'two' } },
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/"isError":true|"error"/);
    expect((await postToolsCall(resource, token)).status).toBe(200);
  });
});

describe('discovery documents', () => {
  it('serves Protected Resource Metadata at the path-inserted and the root well-known, field by field', async () => {
    const discovery = (await (
      await fetch(`${keycloak().url}/realms/${realm}/.well-known/openid-configuration`)
    ).json()) as { issuer: string };
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const prm = (await response.json()) as Record<string, unknown>;
      expect(prm.resource).toBe(resource);
      expect(prm.authorization_servers).toEqual([discovery.issuer]);
      expect(prm.authorization_servers).toEqual([`${keycloak().url}/realms/${realm}`]);
      expect(prm.scopes_supported).toEqual(['mcp:run']);
      expect(prm.bearer_methods_supported).toEqual(['header']);
    }
    expect(server.metadataUrl).toBe(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
  });

  it('answers a request without a token with 401 and a challenge that leads to that metadata', async () => {
    for (const method of ['GET', 'POST']) {
      const response = await fetch(resource, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(response.status).toBe(401);
      const header = response.headers.get('www-authenticate');
      expect(header).toBe(`Bearer resource_metadata="${server.metadataUrl}", scope="mcp:run"`);
      const { scheme, params } = parseChallenge(header);
      expect(scheme).toBe('Bearer');
      expect(params).toEqual({ resource_metadata: server.metadataUrl, scope: 'mcp:run' });
      expect(response.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
    }
  });

  it('answers CORS preflights and unknown paths', async () => {
    const preflight = await fetch(resource, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:6274', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it('refuses foreign Host headers on loopback (DNS rebinding)', async () => {
    const statusFor = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end('{}');
      });
    expect(await statusFor('attacker.example')).toBe(403);
    expect(await statusFor(`localhost:${port}`)).toBe(401);
  });

  it('logs one line per request with sub and azp, never a token', () => {
    const sub = String(decodeJwt(token).sub);
    expect(
      logs.some(
        (line) =>
          line.startsWith('POST /mcp 200 ') && line.includes(`sub=${sub}`) && line.includes(`azp=${client.clientId}`),
      ),
    ).toBe(true);
    expect(logs.some((line) => /^GET \/mcp 401 [\d.]+ms reason="no bearer token"$/.test(line))).toBe(true);
    for (const line of logs) expect(line).not.toContain(token.slice(0, 20));
  });
});

describe('introspection mode (RFC 7662)', () => {
  it('refuses to start with wrong client credentials', async () => {
    const other = await freePort();
    const otherResource = `http://127.0.0.1:${other}/mcp`;
    await expect(
      startReferenceServer({
        keycloakUrl: keycloak().url,
        realm,
        resource: otherResource,
        scopes: ['mcp:run'],
        host: '127.0.0.1',
        port: other,
        auth: 'introspection',
        introspection: { clientId: otherResource, clientSecret: 'wrong' },
      }),
    ).rejects.toThrow(/Keycloak rejected the introspection client .* \(401\)/);
  });

  it('accepts a valid token, and notices a revoked session when not cached', async () => {
    const introspectionPort = await freePort();
    const introspectionResource = `http://127.0.0.1:${introspectionPort}/mcp`;
    const other = await createResourceClient(realm, introspectionResource);
    const own = await createResourceClient(realm, resource);
    // Same realm, second resource: the token's audience must then be checked against *this* URL.
    const wrongAudience = await startReferenceServer({
      keycloakUrl: keycloak().url,
      realm,
      resource: introspectionResource,
      scopes: ['mcp:run'],
      host: '127.0.0.1',
      port: introspectionPort,
      auth: 'introspection',
      introspection: { clientId: other.clientId, clientSecret: other.secret },
    });
    try {
      const response = await postToolsCall(introspectionResource, token);
      expect(response.status).toBe(401);
      expect(parseChallenge(response.headers.get('www-authenticate')).params.error).toBe('invalid_token');
    } finally {
      await wrongAudience.close();
    }

    await server.close();
    server = await startReferenceServer({
      keycloakUrl: keycloak().url,
      realm,
      resource,
      scopes: ['mcp:run'],
      host: '127.0.0.1',
      port,
      auth: 'introspection',
      introspection: { clientId: own.clientId, clientSecret: own.secret, cacheTtlMs: 0 },
    });
    const fresh = await passwordToken(realm, client);
    expect((await postToolsCall(resource, fresh)).status).toBe(200);
    expect((await postToolsCall(resource, 'garbage')).status).toBe(401);

    const admin = await adminClient();
    const [user] = await admin.users.find({ realm, username: 'alice', exact: true });
    await admin.users.logout({ realm, id: user!.id! });
    const revoked = await postToolsCall(resource, fresh);
    expect(revoked.status).toBe(401);
    expect(parseChallenge(revoked.headers.get('www-authenticate')).params).toMatchObject({
      error: 'invalid_token',
      error_description: 'token is not active',
    });
  });
});
