/**
 * RFC 8707 resource indicators against the real Keycloak, with its `resource-indicators` feature on or
 * off (read from the server: the suite runs on both). With the feature on, Keycloak keeps a token's `aud`
 * only when a client named in `aud` has the requested `resource` as its `resource_url`, and then sets `aud`
 * to exactly that resource; a `resource` no such client carries is `invalid_target`. apply's resource client
 * (clientId = resource_url = the MCP URL) is what makes the MCP URL such a resource. The tokens come from
 * the SDK's own OAuth functions (the requests MCP clients make), signed in headlessly.
 */
import { randomBytes } from 'node:crypto';
import {
  discoverAuthorizationServerMetadata,
  registerClient,
  type AuthorizationServerMetadata,
  type OAuthClientInformationFull,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REDIRECT_URI, vscodeClientMetadata } from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { codeFlowTokens } from '../support/oauth.js';

const realm = uniqueRealm('resource-ind');
const password = randomBytes(12).toString('base64url');
let resource: string;
let issuer: string;
let metadata: AuthorizationServerMetadata;
let client: OAuthClientInformationFull;
const featureOn = inject('keycloakFeatures').includes('resource-indicators');

beforeAll(async () => {
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const applied = await runCli(['apply', '--yes', '--realm', realm, '--resource', resource, '--test-user', 'alice'], {
    env: { MCP_KEYCLOAK_TEST_USER_PASSWORD: password },
  });
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  issuer = `${keycloak().url}/realms/${realm}`;
  metadata = (await discoverAuthorizationServerMetadata(issuer))!;
  client = await registerClient(issuer, { metadata, clientMetadata: { ...vscodeClientMetadata(), scope: 'mcp:run' } });
});

afterAll(async () => {
  await deleteRealm(realm);
});

/** The authorization-code flow as an MCP client runs it, with `resource` on both requests (or on none). */
async function tokenFor(
  resourceParam: string | undefined,
): Promise<{ status: 'ok'; aud: unknown } | { status: 'error'; message: string }> {
  try {
    const tokens = await codeFlowTokens({
      issuer,
      metadata,
      client,
      redirectUri: REDIRECT_URI,
      username: 'alice',
      password,
      scope: 'mcp:run',
      ...(resourceParam ? { resource: resourceParam } : {}),
    });
    return { status: 'ok', aud: decodeJwt(tokens.access_token).aud };
  } catch (error) {
    return { status: 'error', message: String(error) };
  }
}

const audiences = (aud: unknown): unknown[] => (Array.isArray(aud) ? (aud as unknown[]) : [aud]);

describe('the resource client apply creates', () => {
  it('has clientId and resource_url = the MCP URL, no flow of its own, and is marked as made by apply', async () => {
    const [found] = await (await adminClient()).clients.find({ realm, clientId: resource });
    expect(found).toMatchObject({
      clientId: resource,
      publicClient: false,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      attributes: expect.objectContaining({ resource_url: resource, 'mcp-keycloak.created': 'true' }),
    });
  });
});

describe('a token request with resource = the MCP URL (what the MCP SDKs send)', () => {
  it('gets a token whose aud is the MCP URL', async () => {
    const result = await tokenFor(resource);
    expect(result.status).toBe('ok');
    if (result.status !== 'ok') return;
    // With the feature on, Keycloak sets aud to exactly the requested resource; off, aud holds it among others.
    if (featureOn) expect(result.aud).toBe(resource);
    else expect(audiences(result.aud)).toContain(resource);
  });
});

describe("a token request naming another server's URL", () => {
  it('is invalid_target with resource indicators on; ignored (aud = the MCP URL) with them off', async () => {
    const other = `http://127.0.0.1:${await freePort()}/other-mcp`;
    const result = await tokenFor(other);
    if (featureOn) {
      expect(result.status).toBe('error');
      if (result.status === 'error') expect(result.message).toMatch(/invalid_target|requested resource is invalid/i);
    } else {
      expect(result.status).toBe('ok');
      if (result.status === 'ok') expect(audiences(result.aud)).toContain(resource);
    }
  });
});

describe('a token request without resource (clients of the 2025-03 spec)', () => {
  it("gets aud from the scope's audience mapper, untouched by resource indicators", async () => {
    const result = await tokenFor(undefined);
    expect(result.status).toBe('ok');
    if (result.status === 'ok') expect(audiences(result.aud)).toContain(resource);
  });
});

describe('without the resource client (a realm provisioned before it existed)', () => {
  it('fails every client that sends resource when the feature is on: the failure apply now prevents', async () => {
    const admin = await adminClient();
    const [found] = await admin.clients.find({ realm, clientId: resource });
    await admin.clients.update(
      { realm, id: found!.id! },
      { ...found, attributes: { ...found!.attributes, resource_url: `${resource}/` } },
    );
    try {
      const result = await tokenFor(resource);
      if (featureOn)
        expect(result).toMatchObject({
          status: 'error',
          message: expect.stringMatching(/invalid_target|requested resource is invalid/i),
        });
      else expect(result.status).toBe('ok');
      // apply puts resource_url back (an update of that attribute only) and the flow works again.
      const again = await runCli(
        ['apply', '--yes', '--json', '--realm', realm, '--resource', resource, '--test-user', 'alice'],
        {
          env: { MCP_KEYCLOAK_TEST_USER_PASSWORD: password },
        },
      );
      expect(again.code).toBe(0);
      const applied = (
        JSON.parse(again.stdout) as { applied: Array<{ kind: string; action: string; fields: unknown[] }> }
      ).applied;
      expect(applied).toEqual([
        expect.objectContaining({
          kind: 'resource-client',
          action: 'update',
          fields: [{ field: 'resource_url', from: `${resource}/`, to: resource }],
        }),
      ]);
      expect((await tokenFor(resource)).status).toBe('ok');
    } finally {
      const [now] = await admin.clients.find({ realm, clientId: resource });
      await admin.clients.update(
        { realm, id: now!.id! },
        { ...now, attributes: { ...now!.attributes, resource_url: resource } },
      );
    }
  });
});
