/**
 * Enterprise-managed authorization (the MCP ext-auth extension; ID-JAG, draft-ietf-oauth-identity-assertion-authz-grant)
 * on the receiving side: Keycloak 26.7.3 started with `--features=identity-assertion-jwt,resource-indicators`
 * (the harness's Keycloak when it runs with both; else, as today, a Keycloak of this file's own from a
 * private copy of the distribution: about 2 minutes on 2 cores), a realm set up by `apply`, and an
 * enterprise IdP of ours whose ID-JAGs the realm trusts through a `jwt-authorization-grant` identity provider. The trust objects are made through the admin REST API as
 * Keycloak's guide does (apply does not provision them: see docs/e2e.md#enterprise-managed-authorization).
 *
 * It proves the path that works (an ID-JAG redeemed with the jwt-bearer grant; the token's aud and scope
 * pass `serve`; the official SDK client calls a tool with it), the refusals Keycloak makes, and pins what
 * 26.7.3 lacks against the extension, so a Keycloak that fixes one of them fails here and the docs get updated.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDistribution } from '../../src/local/distribution.js';
import { freePort, run } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { redeem, startEnterpriseIdp, type EnterpriseIdp, type IdJagClaims } from '../support/id-jag.js';
import { CLI, deleteRealm, keycloak, type CliResult } from '../support/keycloak.js';

const FEATURES = 'identity-assertion-jwt,resource-indicators';
const IDP_ALIAS = 'enterprise-idp';
const AGENT = { clientId: 'ema-agent', secret: `s-${randomBytes(12).toString('hex')}` };
const EXTERNAL_SUBJECT = 'ext-alice';

let root: string;
let env: Record<string, string>;
let keycloakUrl: string;
let realm: string;
let resource: string;
let issuer: string;
let idp: EnterpriseIdp;
let server: RunningServer;

/** The built CLI against this file's Keycloak; `keycloak start` gets minutes (its first start builds the copy). */
function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const options = { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 420_000 };
    execFile(process.execPath, [CLI, ...args], options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function adminFetch(method: string, path: string, body?: unknown): Promise<Response> {
  const login = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: 'admin',
      password: env.KEYCLOAK_ADMIN_PASSWORD!,
    }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const response = await fetch(`${keycloakUrl}/admin/realms/${realm}${path}`, {
    method,
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

/** Keycloak's guide, "Configuring the Receiver": the IdP, a confidential client allowed to use it, a linked user. */
async function trustEnterpriseIdp(): Promise<void> {
  await adminFetch('POST', '/identity-provider/instances', {
    alias: IDP_ALIAS,
    providerId: 'jwt-authorization-grant',
    enabled: true,
    config: { issuer: idp.issuer, jwksUrl: idp.jwksUri, useJwksUrl: 'true', jwtAuthorizationGrantEnabled: 'true' },
  });
  await adminFetch('POST', '/clients', {
    clientId: AGENT.clientId,
    secret: AGENT.secret,
    publicClient: false,
    standardFlowEnabled: false,
    attributes: { 'oauth2.jwt.authorization.grant.enabled': 'true', 'oauth2.jwt.authorization.grant.idp': IDP_ALIAS },
  });
  const created = await adminFetch('POST', '/users', {
    username: 'alice',
    enabled: true,
    email: 'alice@example.com',
    emailVerified: true,
    firstName: 'Alice',
    lastName: 'Example',
  });
  const userId = created.headers.get('location')!.split('/').pop()!;
  await adminFetch('POST', `/users/${userId}/federated-identity/${IDP_ALIAS}`, {
    identityProvider: IDP_ALIAS,
    userId: EXTERNAL_SUBJECT,
    userName: 'alice',
  });
}

/** Whether the harness's Keycloak runs with both features (then it is used: no Keycloak of our own to start). */
async function harnessHasFeatures(): Promise<boolean> {
  const { url, adminUsername, adminPassword } = keycloak();
  const login = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: adminUsername,
      password: adminPassword,
    }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const info = await fetch(`${url}/admin/serverinfo`, { headers: { authorization: `Bearer ${access_token}` } });
  const { features = [] } = (await info.json()) as { features?: { name: string; enabled: boolean }[] };
  const on = (name: string) => features.some((feature) => feature.name === name && feature.enabled);
  return on('IDENTITY_ASSERTION_JWT') && on('RESOURCE_INDICATORS');
}

/** A Keycloak of this file's own with the features, from a private copy (kc.sh rebuilds the copy, not the harness's). */
async function startOwnKeycloak(): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-ema-'));
  await run('cp', ['-r', await ensureDistribution(), join(root, 'keycloak')]);
  const port = await freePort();
  keycloakUrl = `http://127.0.0.1:${port}`;
  env = {
    KEYCLOAK_URL: keycloakUrl,
    KEYCLOAK_HOME: join(root, 'keycloak'),
    MCP_KEYCLOAK_STATE: join(root, 'state'),
    MCP_KEYCLOAK_RUNTIME: 'distribution',
    ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
  };
  const started = await cli(['keycloak', 'start', '--port', String(port), '--features', FEATURES]);
  if (started.code !== 0) throw new Error(`keycloak start failed (${started.code}): ${started.stderr}`);
  env.KEYCLOAK_ADMIN_PASSWORD = (await readFile(join(root, 'state', 'admin-password'), 'utf8')).trim();
}

beforeAll(async () => {
  if (await harnessHasFeatures()) {
    const { url, adminPassword } = keycloak();
    keycloakUrl = url;
    env = { KEYCLOAK_URL: url, KEYCLOAK_ADMIN_PASSWORD: adminPassword };
  } else await startOwnKeycloak();
  realm = `ema-${randomBytes(4).toString('hex')}`;
  const mcpPort = await freePort();
  resource = `http://127.0.0.1:${mcpPort}/mcp`;
  const applied = await cli(['apply', '--yes', '--realm', realm, '--resource', resource]);
  if (applied.code !== 0) throw new Error(`apply failed (${applied.code}): ${applied.stderr}`);
  issuer = `${keycloakUrl}/realms/${realm}`;
  idp = await startEnterpriseIdp();
  await trustEnterpriseIdp();
  server = await startReferenceServer({
    keycloakUrl,
    realm,
    resource,
    scopes: ['mcp:run'],
    host: '127.0.0.1',
    port: mcpPort,
  });
}, 480_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
  if (root) {
    await cli(['keycloak', 'stop', '--delete-data']);
    await rm(root, { recursive: true, force: true }); // the 190 MB copy
  } else if (realm) await deleteRealm(realm); // on the harness's Keycloak
}, 120_000);

const tokenEndpoint = () => `${issuer}/protocol/openid-connect/token`;
/** A well-formed ID-JAG for alice, the agent and the MCP server; `overrides` change one claim. */
const idJag = (overrides: Partial<IdJagClaims> = {}, options?: { forged?: boolean }) =>
  idp.mint(
    {
      sub: EXTERNAL_SUBJECT,
      aud: issuer,
      client_id: AGENT.clientId,
      scope: 'mcp:run',
      resource,
      email: 'alice@example.com',
      ...overrides,
    },
    options,
  );

describe('an ID-JAG from the trusted enterprise IdP', () => {
  it('is redeemed for a token whose aud and scope serve accepts, and the SDK client calls a tool with it', async () => {
    const answer = await redeem(tokenEndpoint(), AGENT, await idJag(), { scope: 'mcp:run' });
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.refresh_token).toBeUndefined(); // the jwt-bearer grant never issues one
    const claims = decodeJwt(answer.access_token!);
    expect(claims.aud).toContain(resource); // from apply's audience mapper on mcp:run
    expect(String(claims.scope).split(' ')).toContain('mcp:run');
    expect(claims.azp).toBe(AGENT.clientId);

    const client = new Client({ name: 'ema-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { authorization: `Bearer ${answer.access_token}` } },
      }),
    );
    const result = await client.callTool({ name: 'add_numbers', arguments: { a: 12.5, b: 7.25 } });
    expect(result.structuredContent).toEqual({ result: 19.75 });
    await client.close();
  });

  it('is refused when replayed, forged, for another client or audience, or for a subject with no linked user', async () => {
    const once = await idJag();
    expect((await redeem(tokenEndpoint(), AGENT, once)).status).toBe(200);
    const refusals = {
      replayed: await redeem(tokenEndpoint(), AGENT, once),
      forged: await redeem(tokenEndpoint(), AGENT, await idJag({}, { forged: true })),
      otherClient: await redeem(tokenEndpoint(), AGENT, await idJag({ client_id: 'someone-else' })),
      otherAudience: await redeem(tokenEndpoint(), AGENT, await idJag({ aud: 'https://as.elsewhere.example' })),
      unlinked: await redeem(tokenEndpoint(), AGENT, await idJag({ sub: 'ext-bob' })),
    };
    expect(refusals).toEqual({
      replayed: expect.objectContaining({
        status: 400,
        error: 'invalid_grant',
        error_description: 'Token reuse detected',
      }),
      forged: expect.objectContaining({ status: 400, error: 'invalid_grant', error_description: 'Invalid signature' }),
      otherClient: expect.objectContaining({
        status: 400,
        error: 'invalid_grant',
        error_description: expect.stringContaining('client id in assertion : someone-else'),
      }),
      otherAudience: expect.objectContaining({
        status: 400,
        error: 'invalid_grant',
        error_description: 'Invalid token audience',
      }),
      // No just-in-time user: the external subject must be linked to a Keycloak user beforehand.
      unlinked: expect.objectContaining({ status: 400, error: 'invalid_grant', error_description: 'User not found' }),
    });
  });
});

describe('what Keycloak 26.7.3 lacks against the extension (each expectation fails once Keycloak fixes it)', () => {
  it('fails the grant when the client sends resource (RFC 8707) with resource-indicators on (keycloak#50251)', async () => {
    const answer = await redeem(tokenEndpoint(), AGENT, await idJag(), { scope: 'mcp:run', resource });
    expect(answer).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(answer.error_description).toContain('TokenPostProcessorContext.refreshToken()" is null');
  });

  it('ignores the ID-JAG scope claim: the token gets the requested scope, not the intersection (ext-auth §7.2.1)', async () => {
    const answer = await redeem(tokenEndpoint(), AGENT, await idJag({ scope: 'openid' }), { scope: 'mcp:run' });
    expect(answer.status).toBe(200);
    expect(String(decodeJwt(answer.access_token!).scope).split(' ')).toContain('mcp:run');
  });

  it('ignores the ID-JAG resource claim: the audience comes from the realm, not from resource (ext-auth §5.1)', async () => {
    const elsewhere = 'https://mcp.elsewhere.example/mcp';
    const answer = await redeem(tokenEndpoint(), AGENT, await idJag({ resource: elsewhere }), { scope: 'mcp:run' });
    expect(answer.status).toBe(200);
    const audience = decodeJwt(answer.access_token!).aud;
    expect(audience).toContain(resource);
    expect(audience).not.toContain(elsewhere);
  });

  it('does not advertise the profile in its metadata (authorization_grant_profiles_supported, ext-auth §6)', async () => {
    for (const url of [
      `${issuer}/.well-known/openid-configuration`,
      `${keycloakUrl}/.well-known/oauth-authorization-server/realms/${realm}`,
    ]) {
      const metadata = (await (await fetch(url)).json()) as Record<string, unknown>;
      expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:jwt-bearer');
      expect(metadata).not.toHaveProperty('authorization_grant_profiles_supported');
    }
  });
});
