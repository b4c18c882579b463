/**
 * DPoP (RFC 9449) end to end: the real Keycloak binds a token to a key when the token request carries a proof
 * (`token_type: DPoP`, `cnf.jkt`), the official MCP SDK v2 client presents it with a fresh proof per request
 * (`withDpop`), and `serve --dpop` accepts it; then every way to misuse a bound token is refused with a DPoP
 * challenge: as a Bearer token, a replayed proof, a proof for another URL or method, a proof by another key.
 */
import { Client, DpopSession, StreamableHTTPClientTransport, withDpop } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type DpopSettings, type RunningServer } from '../../src/server/index.js';
import { deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { postToolsCall, TOOLS_CALL } from '../support/mcp-http.js';
import {
  applyRealm,
  createPasswordClient,
  passwordToken,
  TEST_USER,
  TEST_USER_PASSWORD,
  type TestClient,
} from '../support/tokens.js';

const realm = uniqueRealm('serve-dpop');
let resource: string;
let port: number;
let client: TestClient;
let session: DpopSession;
let boundToken: string;
const servers: RunningServer[] = [];

/** A password-grant token bound to `dpop`'s key: the token request carries a proof for the token endpoint. */
async function dpopToken(dpop: DpopSession): Promise<{ token: string; tokenType: string }> {
  const endpoint = `${keycloak().url}/realms/${realm}/protocol/openid-connect/token`;
  const proof = await dpop.buildProof({ htm: 'POST', htu: new URL(endpoint) });
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { dpop: proof },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: client.clientId,
      client_secret: client.secret,
      username: TEST_USER,
      password: TEST_USER_PASSWORD,
    }),
  });
  const body = (await response.json()) as { access_token?: string; token_type?: string; error?: string };
  if (!body.access_token) throw new Error(`token request failed: ${body.error}`);
  return { token: body.access_token, tokenType: body.token_type ?? '' };
}

/** serve on the realm's resource URL (the tokens' audience), replacing the server running there. */
async function serve(dpop: DpopSettings): Promise<string> {
  await servers.pop()?.close();
  const serverPort = port;
  const url = resource;
  servers.push(
    await startReferenceServer({
      keycloakUrl: keycloak().url,
      realm,
      resource: url,
      scopes: ['mcp:run'],
      host: '127.0.0.1',
      port: serverPort,
      dpop,
    }),
  );
  return url;
}

/** A tools/call with an explicit Authorization and DPoP header, as an attacker would send it. */
function callWith(url: string, authorization: string, proof?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization,
      ...(proof ? { dpop: proof } : {}),
    },
    body: JSON.stringify(TOOLS_CALL),
  });
}

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource);
  client = await createPasswordClient(realm, 'dpop-client');
  session = await DpopSession.create();
  const issued = await dpopToken(session);
  expect(issued.tokenType).toBe('DPoP');
  boundToken = issued.token;
  await serve({ mode: 'allowed' });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await deleteRealm(realm);
});

describe('serve --dpop allowed, with a token Keycloak bound to a key', () => {
  it('Keycloak binds the token to the proof key (cnf.jkt = the key thumbprint)', () => {
    expect((decodeJwt(boundToken).cnf as { jkt?: string }).jkt).toBe(session.thumbprint);
  });

  it('the MCP SDK v2 client lists and calls tools with a fresh proof per request', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(resource), {
      fetch: withDpop(session, () => boundToken)(fetch),
    });
    const mcp = new Client({ name: 'dpop-test', version: '1.0.0' });
    await mcp.connect(transport);
    const tools = await mcp.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('add_numbers');
    const result = await mcp.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
    expect(JSON.stringify(result.content)).toContain('5');
    await mcp.close();
  });

  it('refuses the bound token presented as Bearer, with both challenges', async () => {
    const response = await postToolsCall(resource, boundToken);
    expect(response.status).toBe(401);
    const header = response.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(/^Bearer .*error="invalid_token".*DPoP-bound token presented as a Bearer token/);
    expect(header).toMatch(/, DPoP algs="/);
  });

  it('refuses a replayed proof', async () => {
    const proof = await session.buildProof({ htm: 'POST', htu: new URL(resource), accessToken: boundToken });
    expect((await callWith(resource, `DPoP ${boundToken}`, proof)).status).toBe(200);
    const replayed = await callWith(resource, `DPoP ${boundToken}`, proof);
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/DPoP .*error="invalid_dpop_proof".*replayed/);
  });

  it('refuses a proof for another URL or another method', async () => {
    const otherUrl = await session.buildProof({
      htm: 'POST',
      htu: new URL(`http://127.0.0.1:${port}/other`),
      accessToken: boundToken,
    });
    const url = await callWith(resource, `DPoP ${boundToken}`, otherUrl);
    expect(url.status).toBe(401);
    expect(url.headers.get('www-authenticate')).toMatch(/htu/);
    const get = await session.buildProof({ htm: 'GET', htu: new URL(resource), accessToken: boundToken });
    const method = await callWith(resource, `DPoP ${boundToken}`, get);
    expect(method.status).toBe(401);
    expect(method.headers.get('www-authenticate')).toMatch(/htm/);
  });

  it('refuses a proof signed by another key (a thief with the token but not the key)', async () => {
    const thief = await DpopSession.create();
    const proof = await thief.buildProof({ htm: 'POST', htu: new URL(resource), accessToken: boundToken });
    const response = await callWith(resource, `DPoP ${boundToken}`, proof);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/not the key the token is bound to/);
  });

  it('refuses DPoP without a proof, and an unbound token under the DPoP scheme', async () => {
    expect((await callWith(resource, `DPoP ${boundToken}`)).status).toBe(401);
    const bearer = await passwordToken(realm, client);
    const proof = await session.buildProof({ htm: 'POST', htu: new URL(resource), accessToken: bearer });
    const response = await callWith(resource, `DPoP ${bearer}`, proof);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/token is not DPoP-bound/);
  });

  it('still accepts plain Bearer tokens (allowed, not required)', async () => {
    expect((await postToolsCall(resource, await passwordToken(realm, client))).status).toBe(200);
  });
});

describe('serve --dpop required --dpop-nonce', () => {
  let url: string;
  beforeAll(async () => {
    url = await serve({ mode: 'required', nonce: true });
  });

  it('refuses a Bearer token, and says so in its metadata', async () => {
    const response = await postToolsCall(url, await passwordToken(realm, client));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/requires DPoP-bound tokens/);
    const prm = (await (
      await fetch(`${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`)
    ).json()) as Record<string, unknown>;
    expect(prm.dpop_bound_access_tokens_required).toBe(true);
    expect(prm.dpop_signing_alg_values_supported).toContain('ES256');
  });

  it('answers a proof without nonce with use_dpop_nonce and a DPoP-Nonce; the SDK client retries with it', async () => {
    const proof = await session.buildProof({ htm: 'POST', htu: new URL(url), accessToken: boundToken });
    const first = await callWith(url, `DPoP ${boundToken}`, proof);
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/error="use_dpop_nonce"/);
    expect(first.headers.get('dpop-nonce')).toBeTruthy();
    const mcp = new Client({ name: 'dpop-nonce-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(url), { fetch: withDpop(session, () => boundToken)(fetch) }),
    );
    const result = await mcp.callTool({ name: 'add_numbers', arguments: { a: 20, b: 22 } });
    expect(JSON.stringify(result.content)).toContain('42');
    await mcp.close();
  });
});
