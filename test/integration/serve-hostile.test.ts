/**
 * `serve` against hostile clients (issue #12): tokens in URL paths never reach the log, slow and
 * oversized requests are answered and cut within the documented limits, and in introspection mode junk
 * tokens cost Keycloak nothing. Keycloak traffic is counted by a loopback proxy in front of the real
 * Keycloak that keeps the Host header, so Keycloak advertises the proxy in every endpoint and all of
 * the server's calls go through it.
 */
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { HEADERS_TIMEOUT_MS, TIMEOUT_CHECK_INTERVAL_MS } from '../../src/server/connections.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { deleteRealm, keycloak, uniqueRealm, startServe } from '../support/keycloak.js';
import { postToolsCall } from '../support/mcp-http.js';
import {
  applyRealm,
  b64url,
  createPasswordClient,
  createResourceClient,
  resign,
  TEST_USER,
  TEST_USER_PASSWORD,
  type TestClient,
} from '../support/tokens.js';

const realm = uniqueRealm('serve-hostile');
let port: number;
let resource: string;
let serve: ChildProcess;
let output: () => string;
let client: TestClient;

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource);
  client = await createPasswordClient(realm, 'hostile-password');
  ({ child: serve, output } = await startServe(['--realm', realm, '--resource', resource]));
});

afterAll(async () => {
  serve?.kill('SIGTERM');
  await deleteRealm(realm);
});

/** A password-grant token from `base` (Keycloak itself or the counting proxy: the issuer follows the host). */
async function tokenFrom(base: string, from: TestClient = client): Promise<string> {
  const response = await fetch(`${base}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: from.clientId,
      client_secret: from.secret,
      username: TEST_USER,
      password: TEST_USER_PASSWORD,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${response.status}`);
  return body.access_token;
}

interface RawResult {
  text: string;
  error?: string;
  ms: number;
}

/** Opens a TCP connection, lets `drive` write to it, and resolves with what came back when it closes. */
function rawExchange(port: number, drive: (socket: ReturnType<typeof connect>) => void): Promise<RawResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let error: string | undefined;
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => resolve({ text, ms: performance.now() - started, ...(error ? { error } : {}) }));
    drive(socket);
  });
}

describe('the request log (defect 6)', () => {
  it('never shows a token put in the URL path, wherever it sits', async () => {
    const token = await tokenFrom(keycloak().url);
    const signature = token.split('.')[2]!;
    const base = `http://127.0.0.1:${port}`;
    const before = output().split('\n').length - 1;
    for (const path of [
      `/x/${token}`,
      `/${token}`,
      `/mcp/${token}`,
      `/.well-known/oauth-protected-resource/${token}`,
      `/x/${signature}`,
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(404);
      await response.body?.cancel();
    }
    // Each line is written when its response closes: wait for all five.
    const logged = () => output().split('\n').slice(before, -1);
    await expect.poll(() => logged().length).toBe(5);
    const lines = logged();
    for (const line of lines) {
      expect(line).not.toContain(signature.slice(0, 12));
      expect(line).not.toContain(token.split('.')[1]!.slice(0, 12));
      expect(line).toMatch(/^GET \/.*<redacted>.* 404 /);
    }
    expect(lines[0]).toMatch(/^GET \/x\/<redacted> 404 /);
  });

  it('keeps readable unknown paths readable', async () => {
    await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`)).text();
    await expect.poll(output).toMatch(/^GET \/\.well-known\/oauth-authorization-server 404 /m);
  });
});

describe('oversized and slow requests (defect 11)', () => {
  it('answers a 100 KB Authorization header with 431, even while the client is still sending a body', async () => {
    // Sent whole before reading, as curl does: 16 MB is more than the socket buffers hold, so the write
    // only completes if the server keeps reading after its answer. A server that closes at once resets
    // the connection, the write fails, and the client never sees the 431.
    const body = Buffer.alloc(16_000_000, 'x');
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${'a'.repeat(100_000)}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const request = Buffer.concat([Buffer.from(head, 'latin1'), body]);
    for (let i = 0; i < 3; i++) {
      const result = await rawExchange(port, (socket) => {
        socket.pause();
        socket.end(request, () => socket.resume());
      });
      expect(result.error).toBeUndefined();
      expect(result.text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    }
    // The server is still fine afterwards.
    expect((await postToolsCall(resource, undefined)).status).toBe(401);
  });

  it('cuts a client that trickles its headers, and one that sends nothing, within the headers timeout', async () => {
    const bound = HEADERS_TIMEOUT_MS + TIMEOUT_CHECK_INTERVAL_MS + 2000;
    const trickle = rawExchange(port, (socket) => {
      const head = `GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${'s'.repeat(10_000)}`;
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || i >= head.length) return clearInterval(timer);
        socket.write(head[i++]!);
      }, 100);
      socket.on('close', () => clearInterval(timer));
    });
    const silent = rawExchange(port, () => undefined);
    const [slow, idle] = await Promise.all([trickle, silent]);
    for (const result of [slow, idle]) {
      expect(result.ms).toBeGreaterThan(HEADERS_TIMEOUT_MS - 500);
      expect(result.ms).toBeLessThan(bound);
    }
    expect(slow.text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  }, 30_000);
});

describe('introspection mode against junk (defect 7)', () => {
  let proxy: Server;
  let proxyUrl: string;
  const counts = { introspect: 0, certs: 0, other: 0, inFlight: 0, maxInFlight: 0 };
  let server: RunningServer;
  let ownResource: string;
  let audienced: TestClient;

  beforeAll(async () => {
    const target = new URL(keycloak().url);
    proxy = createServer((req, res) => {
      const kind = req.url?.endsWith('/token/introspect')
        ? 'introspect'
        : req.url?.endsWith('/certs')
          ? 'certs'
          : 'other';
      counts[kind]++;
      if (kind === 'introspect') counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      // Introspection answers are held back a little, so that concurrent calls overlap for certain.
      const delay = kind === 'introspect' ? 150 : 0;
      setTimeout(() => forward(req, res, kind), delay);
    });
    const forward = (req: IncomingMessage, res: ServerResponse, kind: string) => {
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            if (kind === 'introspect') counts.inFlight--;
          });
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // A second server of the same realm, on a resource of its own that the password client's tokens also carry.
    const ownPort = await freePort();
    ownResource = `http://127.0.0.1:${ownPort}/mcp`;
    audienced = await createPasswordClient(realm, 'hostile-introspection', { audience: ownResource });
    const own = await createResourceClient(realm, ownResource);
    server = await startReferenceServer({
      keycloakUrl: proxyUrl,
      realm,
      resource: ownResource,
      scopes: ['mcp:run'],
      host: '127.0.0.1',
      port: ownPort,
      auth: 'introspection',
      introspection: { clientId: own.clientId, clientSecret: own.secret },
    });
  });

  afterAll(async () => {
    await server?.close();
    await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  });

  it('asks Keycloak nothing for 500 distinct junk tokens, once for 50 concurrent uses of a real one', async () => {
    const genuine = await tokenFrom(proxyUrl, audienced);
    const kid = decodeProtectedHeader(genuine).kid!;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const junk: string[] = [];
    for (let i = 0; i < 500; i++) {
      const kind = i % 5;
      if (kind === 0) junk.push(randomBytes(24).toString('hex'));
      else if (kind === 1)
        junk.push(`${b64url({ alg: 'RS256', kid })}.${b64url({ n: i })}.${randomBytes(64).toString('base64url')}`);
      else if (kind === 2)
        junk.push(
          `${randomBytes(20).toString('base64url')}.${randomBytes(20).toString('base64url')}.${randomBytes(20).toString('base64url')}`,
        );
      // Forged with our own key: half claim the realm's kid, half an unknown one (which may cost one JWKS refresh).
      else if (kind === 3)
        junk.push(await resign(genuine, { privateKey, kid: i % 2 ? kid : `forged-${i}` }, { jti: `junk-${i}` }));
      else junk.push('A'.repeat(13_000 + i));
    }
    expect(new Set(junk).size).toBe(500);
    counts.introspect = 0;
    counts.certs = 0;
    for (let i = 0; i < junk.length; i += 50) {
      const statuses = await Promise.all(
        junk.slice(i, i + 50).map(async (token) => (await postToolsCall(ownResource, token)).status),
      );
      expect(statuses.every((status) => status === 401)).toBe(true);
    }
    expect(counts.introspect).toBe(0);
    expect(counts.certs).toBeLessThanOrEqual(1); // at most one rate-limited JWKS refresh

    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => (await postToolsCall(ownResource, genuine)).status),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(counts.introspect).toBe(1);
  });

  it('never has more than 8 introspection calls in flight', async () => {
    const tokens = await Promise.all(Array.from({ length: 24 }, () => tokenFrom(proxyUrl, audienced)));
    counts.introspect = 0;
    counts.maxInFlight = 0;
    const statuses = await Promise.all(tokens.map(async (token) => (await postToolsCall(ownResource, token)).status));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(counts.introspect).toBe(24);
    expect(counts.maxInFlight).toBeGreaterThan(1);
    expect(counts.maxInFlight).toBeLessThanOrEqual(8);
  });
});
