/**
 * Version-aware apply against the real Keycloak the harness runs (KEYCLOAK_VERSION picks it): the
 * version is read only when the configuration has something version-sensitive, and a setting the
 * version cannot hold is refused in one sentence before anything is written. Each expectation is what
 * that version does: on 26.5.0 and later web origins are applied; before, apply refuses them.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { olderThan, versionDifference } from '../../src/keycloak/versions.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const version = inject('keycloakVersion');
const resource = 'http://localhost:8000/mcp';
const origin = 'http://localhost:6274';
const realms: string[] = [];
afterAll(() => Promise.all(realms.map((realm) => deleteRealm(realm))));

function fresh(prefix: string): string {
  const realm = uniqueRealm(prefix);
  realms.push(realm);
  return realm;
}

const webOriginsPolicy = versionDifference('registration-web-origins-policy');

describe(`apply --web-origin on Keycloak ${version}`, () => {
  it('the harness names the version it runs', () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });

  if (olderThan(version, webOriginsPolicy.fixedIn)) {
    it(`refuses, before ${webOriginsPolicy.fixedIn}, in one line naming the version and the fix, and writes nothing`, async () => {
      const realm = fresh('versions-old');
      const result = await runCli(['apply', '--yes', '--realm', realm, '--resource', resource, '--web-origin', origin]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: Keycloak ${version} cannot hold dcr.webOrigins (--web-origin): it has no "registration-web-origins" client registration policy; ` +
          'upgrade Keycloak to 26.5.0 or later, or remove dcr.webOrigins (--web-origin). Nothing was changed.\n',
      );
      const client = await adminClient();
      // Not even the realm was created (the admin client answers a missing realm with null on 26.0, undefined later).
      expect((await client.realms.findOne({ realm })) ?? undefined).toBeUndefined();
    });
  } else {
    it('applies them: the policy holds the origin, and a second run writes nothing', async () => {
      const realm = fresh('versions-new');
      const args = ['apply', '--yes', '--realm', realm, '--resource', resource, '--web-origin', origin];
      const first = await runCli(args);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const client = await adminClient();
      const policies = await client.components.find({ realm, type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy' });
      const policy = policies.find((p) => p.providerId === 'registration-web-origins' && p.subType === 'anonymous');
      expect(policy?.config?.['web-origins']).toEqual([origin]);
      const again = await runCli(['--json', ...args]);
      expect(again.code).toBe(0);
      const report = JSON.parse(again.stdout) as { applied: unknown[]; requests: { reads: number; writes: number; other: number } };
      expect(report.applied).toEqual([]);
      // The floor of a no-op apply (login + 4 reads) plus the one serverinfo read that web origins cost.
      expect(report.requests).toEqual({ reads: 5, writes: 0, other: 1 });
    });
  }

  it('a configuration without web origins never asks for the version (no serverinfo read), on any version', async () => {
    const realm = fresh('versions-plain');
    const args = ['apply', '--yes', '--realm', realm, '--resource', resource];
    expect((await runCli(args)).code).toBe(0);
    const plain = JSON.parse((await runCli(['--json', ...args])).stdout) as { requests: { reads: number; writes: number; other: number } };
    // The floor of a no-op apply without a test user: the login and 4 reads (apply.test.ts pins 5 + 2 with one).
    expect(plain.requests).toEqual({ reads: 4, writes: 0, other: 1 });
  });
});

describe(`what a registration gets on Keycloak ${version} (the table's DCR rows, shown on this version)`, () => {
  const authMethod = versionDifference('token-endpoint-auth-method-ignored');
  const shrink = versionDifference('registration-scope-shrinks-default-scopes');
  let realm: string;

  /** An anonymous registration as VS Code sends it: a public client asking for the MCP scope. */
  async function register(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
    const answer = await fetch(`${keycloak().url}/realms/${realm}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Visual Studio Code', redirect_uris: ['http://127.0.0.1:33418/'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...body }),
    });
    return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
  }

  it('prepares a realm with anonymous registration', async () => {
    realm = fresh('versions-dcr');
    const applied = await runCli(['apply', '--yes', '--realm', realm, '--resource', resource]);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('token_endpoint_auth_method "none" is honoured on every supported version (a public client, no secret)', async () => {
    // Measured on 26.0.8, 26.4.7 and 26.7.3: keycloak#44403 does not touch public clients.
    const { status, json } = await register({ token_endpoint_auth_method: 'none' });
    expect(status).toBe(201);
    expect(json.token_endpoint_auth_method).toBe('none');
    expect(json.client_secret).toBeUndefined();
  });

  it(`token_endpoint_auth_method "client_secret_post": ${olderThan(version, authMethod.fixedIn) ? `ignored before ${authMethod.fixedIn} (client_secret_basic)` : 'honoured'}`, async () => {
    // Measured: client_secret_basic on 26.0.8 and 26.4.7, client_secret_post on 26.7.3.
    const { status, json } = await register({ token_endpoint_auth_method: 'client_secret_post' });
    expect(status).toBe(201);
    expect(json.token_endpoint_auth_method).toBe(olderThan(version, authMethod.fixedIn) ? 'client_secret_basic' : 'client_secret_post');
  });

  it(`a "scope" in the registration: ${olderThan(version, shrink.fixedIn) ? `before ${shrink.fixedIn} the client's default scopes shrink to basic` : 'the realm default scopes stay'}`, async () => {
    const { status, json } = await register({ token_endpoint_auth_method: 'none', scope: 'mcp:run' });
    expect(status).toBe(201);
    const client = await adminClient();
    const [registered] = await client.clients.find({ realm, clientId: json.client_id as string });
    const defaults = (await client.clients.listDefaultClientScopes({ realm, id: registered!.id! })).map((s) => s.name).sort();
    const optional = (await client.clients.listOptionalClientScopes({ realm, id: registered!.id! })).map((s) => s.name).sort();
    if (olderThan(version, shrink.fixedIn)) {
      // Measured on 26.0.8, 26.4.7 and 26.7.3: only basic stays default; the requested scope is optional
      // (so it is in a token when the client asks for it, as VS Code does); profile, email and roles are gone.
      expect(defaults).toEqual(['basic']);
      expect(optional).toContain('mcp:run');
    } else {
      expect(defaults).toEqual(expect.arrayContaining(['mcp:run', 'profile', 'email']));
    }
  });
});
