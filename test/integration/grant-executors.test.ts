/**
 * MCP uses the authorization code flow only. Against the real Keycloak with the cimd feature: after
 * `apply --cimd`, a client created anonymously (Dynamic Client Registration without a token, or a Client ID
 * Metadata Document) that names `implicit` or `password` gets neither flow, through the grant executors
 * in the mcp-keycloak-pkce profile; a second apply writes nothing; destroy removes the profile.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('grants');
const password = randomBytes(12).toString('base64url');
const REDIRECT = 'http://127.0.0.1:33419/callback';
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
const featureOn = inject('keycloakFeatures').includes('cimd');
let resource: string;
let documentUrl: string;
let documentServer: Server;

const applyArgs = () => [
  '--json',
  'apply',
  '--yes',
  '--realm',
  realm,
  '--resource',
  resource,
  '--test-user',
  'alice',
  '--cimd',
  '--cimd-allow-http',
  '--cimd-domain',
  '127.0.0.1',
];
const realmUrl = () => `${keycloak().url}/realms/${realm}`;

beforeAll(async () => {
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const port = await freePort();
  documentUrl = `http://127.0.0.1:${port}/client-metadata.json`;
  // A document asking for the implicit flow besides the code flow, as a careless or hostile client might.
  const document = {
    client_id: documentUrl,
    client_name: 'CIMD client asking for implicit',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'implicit'],
    response_types: ['code', 'token'],
    token_endpoint_auth_method: 'none',
  };
  documentServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => documentServer.listen(port, '127.0.0.1', resolve));
});
afterAll(async () => {
  documentServer.close();
  await deleteRealm(realm);
});

/** An anonymous registration (RFC 7591, no token); the client Keycloak made, read back through the admin API. */
async function register(metadata: Record<string, unknown>) {
  const response = await fetch(`${realmUrl()}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'anonymous', redirect_uris: [REDIRECT], ...metadata }),
  });
  expect(response.status).toBe(201);
  const { client_id: clientId } = (await response.json()) as { client_id: string };
  const [client] = await (await adminClient()).clients.find({ realm, clientId });
  return client!;
}

/** Where Keycloak sends the browser for an implicit-flow request (response_type=token). */
async function implicitRequest(clientId: string): Promise<URL | number> {
  const url = new URL(`${realmUrl()}/protocol/openid-connect/auth`);
  for (const [key, value] of Object.entries({
    client_id: clientId,
    response_type: 'token',
    redirect_uri: REDIRECT,
    scope: 'openid mcp:run',
    state: 'state-1',
    nonce: 'nonce-1',
  }))
    url.searchParams.set(key, value);
  const response = await fetch(url, { redirect: 'manual' });
  return response.status === 302 ? new URL(response.headers.get('location')!) : response.status;
}

describe.runIf(featureOn)('anonymously created clients get the code flow only', () => {
  it('apply --cimd puts the grant executors into the PKCE profile; a second apply writes nothing', async () => {
    const first = await runCli(applyArgs(), { env });
    expect(first.code, first.stderr).toBe(0);
    const admin = await adminClient();
    const { profiles = [] } = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    expect(profiles.find((p) => p.name === 'mcp-keycloak-pkce')?.executors).toEqual([
      { executor: 'pkce-enforcer', configuration: { 'auto-configure': true } },
      { executor: 'reject-implicit-grant', configuration: { 'auto-configure': true } },
      { executor: 'reject-ropc-grant', configuration: { 'auto-configure': true } },
    ]);
    const again = await runCli(applyArgs(), { env });
    const report = JSON.parse(again.stdout) as { applied: unknown[]; requests: { writes: number } };
    expect(report.applied).toEqual([]);
    expect(report.requests.writes).toBe(0);
  });

  it('a DCR registration naming implicit gets the code flow only, and an implicit request is refused', async () => {
    const client = await register({
      grant_types: ['authorization_code', 'implicit'],
      response_types: ['code', 'token'],
      token_endpoint_auth_method: 'none',
    });
    expect(client.implicitFlowEnabled).toBe(false);
    expect(client.standardFlowEnabled).toBe(true);
    const answer = await implicitRequest(client.clientId!);
    expect(answer).toBeInstanceOf(URL);
    // The error comes back in the fragment (the response mode of response_type=token), with no token.
    const fragment = new URLSearchParams((answer as URL).hash.slice(1));
    expect(fragment.get('error')).toBe('unauthorized_client');
    expect(fragment.get('access_token')).toBeNull();
  });

  it('a DCR registration naming password gets no direct access grant: alice’s right password gets no token', async () => {
    const client = await register({ grant_types: ['password'], token_endpoint_auth_method: 'none' });
    expect(client.directAccessGrantsEnabled).toBe(false);
    const response = await fetch(`${realmUrl()}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: client.clientId!, username: 'alice', password }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; access_token?: string };
    expect(body.error).toBe('unauthorized_client');
    expect(body.access_token).toBeUndefined();
  });

  it('a metadata document naming implicit gets a client without it, and its implicit request is refused', async () => {
    const answer = await implicitRequest(documentUrl);
    expect(answer).toBeInstanceOf(URL);
    const fragment = new URLSearchParams((answer as URL).hash.slice(1));
    expect(fragment.get('access_token')).toBeNull();
    expect(fragment.get('error')).toBe('unauthorized_client');
    const [client] = await (await adminClient()).clients.find({ realm, clientId: documentUrl });
    expect(client?.implicitFlowEnabled).toBe(false);
  });

  it('destroy removes the profile with its executors', async () => {
    const result = await runCli(['destroy', '--yes', '--realm', realm, '--resource', resource], { env });
    expect(result.code, result.stderr).toBe(0);
    const { profiles = [] } = await (
      await adminClient()
    ).clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    expect(profiles.map((p) => p.name)).not.toContain('mcp-keycloak-pkce');
  });
});

describe.runIf(!featureOn)('without the cimd feature', () => {
  it.skip('needs Keycloak started with --features=cimd (the grant executors live in the CIMD/PKCE profile apply --cimd makes)', () => {});
});
