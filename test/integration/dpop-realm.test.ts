/**
 * The anonymous-clients profile on a plain DCR realm, and `apply --require-dpop`, against the real Keycloak (any
 * feature mode: nothing here needs an experimental feature). Without --cimd, apply now makes the mcp-keycloak-pkce
 * profile and policy too, so a DCR registration naming `implicit` or `password` gets neither flow; with
 * --require-dpop the profile also carries dpop-bind-enforcer: a DCR client must bind its tokens to a DPoP key, and
 * Keycloak refuses its token request without a proof and binds the token (cnf.jkt) with one.
 */
import { randomBytes } from 'node:crypto';
import { DpopSession, startAuthorization, type AuthorizationServerMetadata } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { signIn } from '../../src/oauth/sign-in.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('dpop-realm');
const password = randomBytes(12).toString('base64url');
const REDIRECT = 'http://127.0.0.1:33419/callback';
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
let resource: string;
const realmUrl = () => `${keycloak().url}/realms/${realm}`;

async function apply(...extra: string[]): Promise<{ applied: unknown[]; requests: { writes: number } }> {
  const args = ['--json', 'apply', '--yes', '--realm', realm, '--resource', resource, '--test-user', 'alice', ...extra];
  const result = await runCli(args, { env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { applied: unknown[]; requests: { writes: number } };
}

async function pkceProfileExecutors(): Promise<string[]> {
  const { profiles = [] } = await (
    await adminClient()
  ).clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
  return (profiles.find((p) => p.name === 'mcp-keycloak-pkce')?.executors ?? []).map((e) => e.executor!);
}

/** An anonymous registration as an MCP client sends it; the client Keycloak made, read back through the admin API. */
async function register(metadata: Record<string, unknown>) {
  const response = await fetch(`${realmUrl()}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'anonymous',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      ...metadata,
    }),
  });
  expect(response.status).toBe(201);
  const { client_id: clientId } = (await response.json()) as { client_id: string };
  const [client] = await (await adminClient()).clients.find({ realm, clientId });
  return client!;
}

/** Signs alice in for `clientId` (PKCE, as the SDK does) and redeems the code, with a DPoP proof when `dpop` is given. */
async function redeem(
  clientId: string,
  dpop?: DpopSession,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const metadata = (await (
    await fetch(`${realmUrl()}/.well-known/openid-configuration`)
  ).json()) as AuthorizationServerMetadata;
  const { authorizationUrl, codeVerifier } = await startAuthorization(realmUrl(), {
    metadata,
    clientInformation: { client_id: clientId },
    redirectUrl: REDIRECT,
    scope: 'mcp:run',
  });
  const { code } = await signIn({ authorizationUrl, redirectUri: REDIRECT, username: 'alice', password });
  const endpoint = metadata.token_endpoint;
  const proof: Record<string, string> = dpop
    ? { dpop: await dpop.buildProof({ htm: 'POST', htu: new URL(endpoint) }) }
    : {};
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: proof,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: REDIRECT,
      code_verifier: codeVerifier,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
});
afterAll(async () => {
  await deleteRealm(realm);
});

describe('a plain DCR realm (no --cimd): anonymous clients get PKCE and the code flow only', () => {
  it('apply makes the mcp-keycloak-pkce profile; a second apply writes nothing', async () => {
    await apply();
    expect(await pkceProfileExecutors()).toEqual(['pkce-enforcer', 'reject-implicit-grant', 'reject-ropc-grant']);
    const again = await apply();
    expect(again.applied).toEqual([]);
    expect(again.requests.writes).toBe(0);
  });

  it('a registration naming implicit and password gets neither flow, and PKCE S256 is required of it', async () => {
    const client = await register({
      grant_types: ['authorization_code', 'implicit', 'password'],
      response_types: ['code', 'token'],
    });
    expect(client.implicitFlowEnabled).toBe(false);
    expect(client.directAccessGrantsEnabled).toBe(false);
    expect(client.standardFlowEnabled).toBe(true);
    expect(client.attributes?.['pkce.code.challenge.method']).toBe('S256');
  });
});

describe('apply --require-dpop', () => {
  it('adds dpop-bind-enforcer to the profile, a planned update; a second apply writes nothing', async () => {
    const first = await apply('--require-dpop');
    expect(first.applied).toEqual([
      expect.objectContaining({ action: 'update', kind: 'client-profile', name: 'mcp-keycloak-pkce' }),
    ]);
    expect(await pkceProfileExecutors()).toContain('dpop-bind-enforcer');
    expect((await apply('--require-dpop')).requests.writes).toBe(0);
  });

  it('a DCR client must bind its tokens: no token without a proof, a DPoP-bound one with it', async () => {
    const client = await register({ grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] });
    expect(client.attributes?.['dpop.bound.access.tokens']).toBe('true');
    const without = await redeem(client.clientId!);
    expect(without.status).toBe(400);
    expect(without.body.access_token).toBeUndefined();
    const dpop = await DpopSession.create();
    const bound = await redeem(client.clientId!, dpop);
    expect(bound.status, JSON.stringify(bound.body.error)).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    expect((decodeJwt(String(bound.body.access_token)).cnf as { jkt?: string }).jkt).toBe(dpop.thumbprint);
  });

  it('apply without --require-dpop takes it out again', async () => {
    await apply();
    expect(await pkceProfileExecutors()).not.toContain('dpop-bind-enforcer');
  });
});
