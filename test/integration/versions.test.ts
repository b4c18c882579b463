/**
 * Version-aware apply against the real Keycloak the harness runs (KEYCLOAK_VERSION picks it): the
 * version is read only when the configuration has something version-sensitive, and a setting the
 * version cannot hold is refused in one sentence before anything is written. Each expectation is what
 * that version does: on 26.5.0 and later web origins are applied; before, apply refuses them. The table's
 * rows that Keycloak answers for itself (registrations, CORS, serverinfo features) are shown as this version answers.
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
      const policies = await client.components.find({
        realm,
        type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
      });
      const policy = policies.find((p) => p.providerId === 'registration-web-origins' && p.subType === 'anonymous');
      expect(policy?.config?.['web-origins']).toEqual([origin]);
      const again = await runCli(['--json', ...args]);
      expect(again.code).toBe(0);
      const report = JSON.parse(again.stdout) as {
        applied: unknown[];
        requests: { reads: number; writes: number; other: number };
      };
      expect(report.applied).toEqual([]);
      // The floor of a no-op apply (login + 7 reads) plus the one serverinfo read that web origins cost.
      expect(report.requests).toEqual({ reads: 8, writes: 0, other: 1 });
    });
  }

  it('a configuration without web origins never asks for the version (no serverinfo read), on any version', async () => {
    const realm = fresh('versions-plain');
    const args = ['apply', '--yes', '--realm', realm, '--resource', resource];
    expect((await runCli(args)).code).toBe(0);
    const plain = JSON.parse((await runCli(['--json', ...args])).stdout) as {
      requests: { reads: number; writes: number; other: number };
    };
    // The floor of a no-op apply without a test user: the login and 7 reads, the client profile and policy lists
    // among them (apply.test.ts pins 8 + 2 with one).
    expect(plain.requests).toEqual({ reads: 7, writes: 0, other: 1 });
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
      body: JSON.stringify({
        client_name: 'Visual Studio Code',
        redirect_uris: ['http://127.0.0.1:33418/'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        ...body,
      }),
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
    expect(json.token_endpoint_auth_method).toBe(
      olderThan(version, authMethod.fixedIn) ? 'client_secret_basic' : 'client_secret_post',
    );
  });

  it(`a "scope" in the registration: ${olderThan(version, shrink.fixedIn) ? `before ${shrink.fixedIn} the client's default scopes shrink to basic` : 'the realm default scopes stay'}`, async () => {
    const { status, json } = await register({ token_endpoint_auth_method: 'none', scope: 'mcp:run' });
    expect(status).toBe(201);
    const client = await adminClient();
    const [registered] = await client.clients.find({ realm, clientId: json.client_id as string });
    const defaults = (await client.clients.listDefaultClientScopes({ realm, id: registered!.id! }))
      .map((s) => s.name)
      .sort();
    const optional = (await client.clients.listOptionalClientScopes({ realm, id: registered!.id! }))
      .map((s) => s.name)
      .sort();
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

describe(`CORS on the registration endpoint on Keycloak ${version} (the registration-cors row, shown on this version)`, () => {
  const cors = versionDifference('registration-cors');
  const before = olderThan(version, cors.fixedIn);
  let endpoint: string;

  it(`prepares a realm with anonymous registration${before ? ' (no web origins: this version refuses them)' : ` and ${origin} as an allowed registration web origin`}`, async () => {
    const realm = fresh('versions-cors');
    const applied = await runCli([
      'apply',
      '--yes',
      '--realm',
      realm,
      '--resource',
      resource,
      ...(before ? [] : ['--web-origin', origin]),
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    endpoint = `${keycloak().url}/realms/${realm}/clients-registrations/openid-connect`;
  });

  /** A registration as a browser page at `from` sends it (fetch in Node sends the Origin header as given). */
  function registerFrom(from: string): Promise<Response> {
    return fetch(endpoint, {
      method: 'POST',
      headers: { origin: from, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'MCP Inspector',
        redirect_uris: [`${origin}/oauth/callback`],
        token_endpoint_auth_method: 'none',
      }),
    });
  }

  /** The CORS headers of an answer: the browser blocks a cross-origin answer without Access-Control-Allow-Origin. */
  const corsHeaders = (answer: Response) =>
    [...answer.headers.keys()].filter((name) => name.startsWith('access-control-'));

  if (before) {
    it(`before ${cors.fixedIn}: a registration from a browser origin is created, but its answer carries no CORS header (the browser would block it)`, async () => {
      // Measured: 201 without any Access-Control-* header on 26.0.8 and 26.4.7.
      const answer = await registerFrom(origin);
      expect(answer.status).toBe(201);
      expect(corsHeaders(answer)).toEqual([]);
    });

    it(`before ${cors.fixedIn}: the preflight gets no CORS header either`, async () => {
      // Measured: 405 on 26.0.8; 200 with only "Allow" (the framework's default OPTIONS) on 26.4.7.
      const answer = await fetch(endpoint, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(corsHeaders(answer)).toEqual([]);
    });
  } else {
    it('the preflight allows the origin to POST JSON', async () => {
      // Measured on 26.7.3: 200, the origin echoed; the preflight answers any origin alike (the policy acts on the POST).
      const answer = await fetch(endpoint, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
      expect(answer.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    });

    it('a registration from the allowed origin is created and carries Access-Control-Allow-Origin', async () => {
      const answer = await registerFrom(origin);
      expect(answer.status).toBe(201);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    });

    it('a registration from an origin the policy does not list is refused, with no Access-Control-Allow-Origin', async () => {
      const answer = await registerFrom('http://localhost:9999');
      expect(answer.status).toBe(403);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      expect(await answer.json()).toEqual({ error: 'Invalid origin' });
    });
  }
});

describe(`CIMD and resource indicators on Keycloak ${version} (the cimd-and-resource-indicators row, shown on this version)`, () => {
  const cimd = versionDifference('cimd-and-resource-indicators');

  it(`GET /admin/serverinfo: ${olderThan(version, cimd.fixedIn) ? `before ${cimd.fixedIn} no CIMD and no RESOURCE_INDICATORS feature` : 'CIMD and RESOURCE_INDICATORS are experimental features'}`, async () => {
    const client = await adminClient();
    const features = (await client.serverInfo.find()).features ?? [];
    // The list itself is there on every version, so an absence below is the version's, not a missing list.
    expect(features.length).toBeGreaterThan(10);
    const named = (name: string) =>
      features.filter((f) => f.name === name).map(({ name, type, enabled }) => ({ name, type, enabled }));
    if (olderThan(version, cimd.fixedIn)) {
      expect(named('CIMD')).toEqual([]);
      expect(named('RESOURCE_INDICATORS')).toEqual([]);
    } else {
      // Present as experimental features; on or off is how the server was started (--features), not the version.
      expect(named('CIMD')).toEqual([{ name: 'CIMD', type: 'EXPERIMENTAL', enabled: expect.any(Boolean) }]);
      expect(named('RESOURCE_INDICATORS')).toEqual([
        { name: 'RESOURCE_INDICATORS', type: 'EXPERIMENTAL', enabled: expect.any(Boolean) },
      ]);
    }
  });
});
