/**
 * What the realm's registration policies and default scopes do to clients that register differently from
 * VS Code, and what a user sees when a step breaks. Uses the SDK's own OAuth functions (registerClient,
 * startAuthorization, exchangeAuthorization) where a client's behaviour must be pinned exactly.
 */
import { randomBytes } from 'node:crypto';
import {
  Client,
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization,
  StreamableHTTPClientTransport,
  type AuthorizationServerMetadata,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIRECT_URI, runE2e, summarizeToken, vscodeClientMetadata } from '../../src/e2e/index.js';
import { signIn } from '../../src/oauth/sign-in.js';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { command } from '../../src/ui/invocation.js';

const realm = uniqueRealm('e2e-policy');
const password = randomBytes(12).toString('base64url');
const servers: RunningServer[] = [];
let server: RunningServer;
let issuer: string;
let metadata: AuthorizationServerMetadata;

beforeAll(async () => {
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  const applied = await runCli(['apply', '--yes', '--realm', realm, '--resource', resource, '--test-user', 'alice'], {
    env: { MCP_KEYCLOAK_TEST_USER_PASSWORD: password },
  });
  expect(applied.code).toBe(0);
  // A scope that exists in the realm but that anonymous registration is not allowed to request.
  const admin = await adminClient();
  await admin.clientScopes.create({
    realm,
    name: 'mcp:admin',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true' },
  });
  server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    host: '127.0.0.1',
    port,
  });
  servers.push(server);
  issuer = server.issuer;
  metadata = (await discoverAuthorizationServerMetadata(issuer))!;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await deleteRealm(realm);
});

describe('a client that registers without a scope', () => {
  it('still gets mcp:run and the audience through the realm default scopes, and the server accepts the token', async () => {
    const clientMetadata = vscodeClientMetadata();
    expect(clientMetadata.scope).toBeUndefined();
    const resource = new URL(server.url);
    const info = await registerClient(issuer, { metadata, clientMetadata });
    // No scope in the authorization request either: everything comes from the realm's defaults.
    const { authorizationUrl, codeVerifier } = await startAuthorization(issuer, {
      metadata,
      clientInformation: info,
      redirectUrl: REDIRECT_URI,
      resource,
    });
    expect(authorizationUrl.searchParams.has('scope')).toBe(false);
    const { callback, code } = await signIn({
      authorizationUrl,
      redirectUri: REDIRECT_URI,
      username: 'alice',
      password,
    });
    const tokens = await exchangeAuthorization(issuer, {
      metadata,
      clientInformation: info,
      authorizationCode: code,
      iss: callback.get('iss') ?? undefined,
      codeVerifier,
      redirectUri: REDIRECT_URI,
      resource,
    });
    const claims = summarizeToken(tokens.access_token);
    expect(claims?.scope).toContain('mcp:run');
    expect(claims?.aud).toContain(server.url);

    const client = new Client({ name: 'no-scope-client', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(resource, { authProvider: { token: async () => tokens.access_token } }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('add_numbers');
    } finally {
      await client.close();
    }
  });
});

describe('a client that asks for a scope it may not have', () => {
  it('is refused by the Allowed Client Scopes policy with a readable error', async () => {
    const attempt = registerClient(issuer, {
      metadata,
      clientMetadata: vscodeClientMetadata(),
      scope: 'mcp:run mcp:admin',
    });
    await expect(attempt).rejects.toThrow(/HTTP 403/);
    await expect(attempt).rejects.toThrow(
      "Policy 'Allowed Client Scopes' rejected request to client-registration service. Details: Not permitted to use specified clientScope",
    );
  });

  it('is reported at the registration step by the e2e flow, with the policy named', async () => {
    // A server that advertises the forbidden scope makes the SDK request it at registration.
    const port = await freePort();
    const greedy = await startReferenceServer({
      keycloakUrl: keycloak().url,
      realm,
      resource: `http://127.0.0.1:${port}/mcp`,
      scopes: ['mcp:run', 'mcp:admin'],
      host: '127.0.0.1',
      port,
    });
    servers.push(greedy);
    const report = await runE2e({ serverUrl: greedy.url, username: 'alice', password, sdk: 'v2' });
    expect(report.ok).toBe(false);
    const register = report.checks.find((c) => c.id === 'e2e.register');
    expect(register?.status).toBe('fail');
    expect(register?.actual).toContain("Policy 'Allowed Client Scopes' rejected");
    expect(register?.fix).toContain(`\`${command('apply')}\``); // spelled the way this process was run
    expect(report.checks.slice(4).every((c) => c.status === 'skip')).toBe(true);
  });
});

describe('a user who mistypes the password', () => {
  it("is stopped at the sign-in step with Keycloak's own message, and the password is not in the report", async () => {
    const wrong = `${password}-wrong`;
    const report = await runE2e({ serverUrl: server.url, username: 'alice', password: wrong, sdk: 'v2' });
    const signInCheck = report.checks.find((c) => c.id === 'e2e.sign-in');
    expect(signInCheck?.status).toBe('fail');
    expect(signInCheck?.actual).toContain('Invalid username or password.');
    expect(report.checks.slice(0, 5).every((c) => c.status === 'pass')).toBe(true);
    expect(JSON.stringify(report)).not.toContain(wrong);
  });
});
