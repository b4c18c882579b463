/**
 * `apply --cimd` against the real Keycloak. With the `cimd` feature on (the main run): the profiles and
 * policies apply makes, a client metadata document served on loopback (http, allowed for this test realm
 * with --cimd-allow-http) signing the user in to a token with aud = the MCP URL, PKCE held for that client
 * (keycloak#52795 worked around), a realm without --cimd refusing the same request, idempotence, config
 * compared as sets, the user's own client policies untouched, destroy. With the feature off: one line
 * naming the flag, nothing written.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  startAuthorization,
  type AuthorizationServerMetadata,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { signIn } from '../../src/oauth/sign-in.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { PlanJson } from '../support/cli-json.js';

const realm = uniqueRealm('cimd');
const plain = uniqueRealm('cimd-none');
const password = randomBytes(12).toString('base64url');
const REDIRECT = 'http://127.0.0.1:33418/';
let resource: string;
let documentUrl: string;
let documentServer: Server;
let fetches = 0;
// The harness reads the running server's enabled features (GET /admin/serverinfo) for every path it takes.
const featureOn = inject('keycloakFeatures').includes('cimd');

const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
const applyArgs = (name: string, extra: string[] = []) => [
  'apply',
  '--yes',
  '--realm',
  name,
  '--resource',
  resource,
  '--test-user',
  'alice',
  ...extra,
];
const CIMD = ['--cimd', '--cimd-allow-http', '--cimd-domain', '127.0.0.1'];

beforeAll(async () => {
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const port = await freePort();
  documentUrl = `http://127.0.0.1:${port}/client-metadata.json`;
  // What an MCP client publishes at its client_id URL (the shape VS Code's document has).
  const document = {
    client_id: documentUrl,
    client_name: 'CIMD test client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  documentServer = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => documentServer.listen(port, '127.0.0.1', resolve));
});

afterAll(async () => {
  documentServer.close();
  await Promise.all([deleteRealm(realm), deleteRealm(plain)]);
});

/** The authorization request an MCP client makes with its document URL as client_id. */
async function authorize(
  name: string,
  pkce = true,
): Promise<{ url: URL; codeVerifier: string; metadata: AuthorizationServerMetadata; issuer: string }> {
  const issuer = `${keycloak().url}/realms/${name}`;
  const metadata = (await discoverAuthorizationServerMetadata(issuer))!;
  const { authorizationUrl, codeVerifier } = await startAuthorization(issuer, {
    metadata,
    clientInformation: { client_id: documentUrl },
    redirectUrl: REDIRECT,
    scope: 'mcp:run',
    resource: new URL(resource),
  });
  if (!pkce) {
    authorizationUrl.searchParams.delete('code_challenge');
    authorizationUrl.searchParams.delete('code_challenge_method');
  }
  return { url: authorizationUrl, codeVerifier, metadata, issuer };
}

describe.runIf(featureOn)('with the cimd feature on', () => {
  it('apply --cimd creates the CIMD profile and policy, and the PKCE pair, with the permitted domains', async () => {
    const result = await runCli(['--json', ...applyArgs(realm, CIMD)], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const applied = (JSON.parse(result.stdout) as { applied: Array<{ kind: string; name: string }> }).applied;
    expect(applied.filter((c) => c.kind.startsWith('client-p')).map((c) => `${c.kind} ${c.name}`)).toEqual([
      'client-profile mcp-keycloak-cimd',
      'client-profile mcp-keycloak-pkce',
      'client-policy mcp-keycloak-cimd',
      'client-policy mcp-keycloak-pkce',
    ]);
    const admin = await adminClient();
    const { profiles = [] } = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    const executor = profiles.find((p) => p.name === 'mcp-keycloak-cimd')?.executors?.[0];
    expect(executor?.executor).toBe('client-id-metadata-document');
    const config = executor?.configuration as Record<string, unknown>;
    expect(config['cimd-allow-http-scheme']).toBe(true);
    expect([...(config['cimd-allow-permitted-domains'] as string[])].sort()).toEqual(
      ['127.0.0.1', 'claude.ai', 'code.visualstudio.com', 'localhost', 'vscode.dev'].sort(),
    );
    const { policies = [] } = await admin.clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
    expect(policies.find((p) => p.name === 'mcp-keycloak-cimd')).toMatchObject({
      enabled: true,
      profiles: ['mcp-keycloak-cimd'],
    });
  });

  it('a second apply writes nothing (two reads more than without --cimd, and the serverinfo read)', async () => {
    const again = await runCli(['--json', ...applyArgs(realm, CIMD)], { env });
    const report = JSON.parse(again.stdout) as {
      applied: unknown[];
      requests: { reads: number; writes: number; other: number };
    };
    expect(report.applied).toEqual([]);
    expect(report.requests).toEqual({ reads: 9, writes: 0, other: 2 });
  });

  it('signs the user in with the document URL as client_id: Keycloak fetches the document, the token has aud = the MCP URL', async () => {
    const before = fetches;
    const { url, codeVerifier, metadata, issuer } = await authorize(realm);
    const { code, callback } = await signIn({
      authorizationUrl: url,
      redirectUri: REDIRECT,
      username: 'alice',
      password,
    });
    expect(fetches).toBeGreaterThan(before);
    const tokens = await exchangeAuthorization(issuer, {
      metadata,
      clientInformation: { client_id: documentUrl },
      authorizationCode: code,
      iss: callback.get('iss')!,
      codeVerifier,
      redirectUri: REDIRECT,
      resource: new URL(resource),
    });
    const claims = decodeJwt(tokens.access_token);
    expect(claims.azp).toBe(documentUrl);
    expect(Array.isArray(claims.aud) ? claims.aud : [claims.aud]).toContain(resource);
    expect(String(claims.scope).split(' ')).toContain('mcp:run');
  });

  it('refuses an authorization request without code_challenge for that client (PKCE held despite keycloak#52795)', async () => {
    const { url } = await authorize(realm, false);
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/code_challenge/);
    const [client] = await (await adminClient()).clients.find({ realm, clientId: documentUrl });
    expect(client?.attributes?.['pkce.code.challenge.method']).toBe('S256');
  });

  it('a realm without --cimd answers the same request 400 and never fetches the document', async () => {
    expect((await runCli(applyArgs(plain), { env })).code).toBe(0);
    const before = fetches;
    const { url } = await authorize(plain);
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(fetches).toBe(before);
  });

  it('compares multi-valued config as sets, repairs a hand edit, and leaves the realm’s other client policies alone', async () => {
    const admin = await adminClient();
    const { profiles = [] } = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    const reordered = profiles.map((p) => {
      if (p.name !== 'mcp-keycloak-cimd') return p;
      const configuration = { ...(p.executors![0]!.configuration as Record<string, unknown>) };
      configuration['cimd-allow-permitted-domains'] = [
        ...(configuration['cimd-allow-permitted-domains'] as string[]),
      ].reverse();
      return { ...p, executors: [{ ...p.executors![0]!, configuration }] };
    });
    const theirs = {
      name: 'theirs',
      description: 'made by hand',
      executors: [{ executor: 'pkce-enforcer', configuration: { 'auto-configure': false } }],
    };
    await admin.clientPolicies.createProfiles({ realm, profiles: [...reordered, theirs] as never });
    const plan = await runCli(
      ['--json', 'plan', '--realm', realm, '--resource', resource, '--test-user', 'alice', ...CIMD],
      { env },
    );
    expect((JSON.parse(plan.stdout) as PlanJson).changes).toEqual([]);

    // A domain removed by hand is put back, and only that field is reported.
    const { policies = [] } = await admin.clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
    const edited = policies.map((p) =>
      p.name === 'mcp-keycloak-cimd'
        ? {
            ...p,
            conditions: [
              {
                ...p.conditions![0]!,
                configuration: {
                  ...(p.conditions![0]!.configuration as object),
                  'client-id-uri-allow-permitted-domains': ['vscode.dev'],
                },
              },
            ],
          }
        : p,
    );
    await admin.clientPolicies.updatePolicy({ realm, policies: edited });
    const fixed = await runCli(['--json', ...applyArgs(realm, CIMD)], { env });
    const applied = (
      JSON.parse(fixed.stdout) as { applied: Array<{ kind: string; name: string; fields: Array<{ field: string }> }> }
    ).applied;
    expect(applied.map((c) => `${c.kind} ${c.name} ${c.fields.map((f) => f.field).join(',')}`)).toEqual([
      'client-policy mcp-keycloak-cimd client-id-uri.client-id-uri-allow-permitted-domains',
    ]);
    const after = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    expect(after.profiles?.find((p) => p.name === 'theirs')).toMatchObject({ description: 'made by hand' });
  });

  it('destroy removes our profiles and policies and keeps the user’s', async () => {
    const result = await runCli(['--json', 'destroy', '--yes', '--realm', realm, '--resource', resource], { env });
    expect(result.code, result.stderr).toBe(0);
    const admin = await adminClient();
    const { profiles = [] } = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    const { policies = [] } = await admin.clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
    expect(profiles.map((p) => p.name)).toEqual(['theirs']);
    expect(policies).toEqual([]);
  });
});

describe.runIf(!featureOn)('with the cimd feature off', () => {
  it('apply --cimd is one line naming --features=cimd, exit 1, and nothing is written', async () => {
    const result = await runCli(applyArgs(realm, CIMD), { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: cimd \(--cimd\) needs Keycloak's experimental "cimd" feature.*--features=cimd.*Nothing was changed\.\n$/,
    );
    expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
    // plan says the same, rather than planning what apply then refuses.
    const plan = await runCli(['plan', '--realm', realm, '--resource', resource, ...CIMD], { env });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/^error: cimd \(--cimd\) needs Keycloak's experimental "cimd" feature/);
  });
});
