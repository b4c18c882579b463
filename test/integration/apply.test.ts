/**
 * `apply` against the real Keycloak: a fresh realm is converged, read back through the admin API, a
 * second run makes zero writes, drift is named by `plan` and repaired, and the effect is real: VS Code's
 * registration is refused before and accepted after, and a user's token carries the audience and scope.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { olderThan } from '../../src/keycloak/versions.js';
import { decodeJwt } from 'jose';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { VSCODE_REGISTRATION } from '../support/realm-state.js';
import type { ApplyJson, PlanJson } from '../support/cli-json.js';

const realm = uniqueRealm('apply');
const resource = 'http://localhost:8000/mcp';
const userPassword = `pw-${Math.random().toString(36).slice(2)}`;
const applyArgs = ['apply', '--yes', '--realm', realm, '--resource', resource, '--test-user', 'alice'];
const userEnv = { MCP_KEYCLOAK_TEST_USER_PASSWORD: userPassword };

async function registerLikeVsCode(): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${keycloak().url}/realms/${realm}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(VSCODE_REGISTRATION),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function planJson(): Promise<{
  changes: Array<{
    action: string;
    kind: string;
    name: string;
    fields: Array<{ field: string; from: unknown; to: unknown }>;
  }>;
}> {
  const result = await runCli(['--json', 'plan', '--realm', realm, '--resource', resource, '--test-user', 'alice'], {
    env: userEnv,
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Awaited<ReturnType<typeof planJson>>;
}

beforeAll(async () => {
  // The realm exists with Keycloak's defaults, as it would for someone who followed step 4 by hand.
  const client = await adminClient();
  await client.realms.create({ realm, enabled: true });
});
afterAll(() => deleteRealm(realm));

describe('apply on a fresh realm', () => {
  it('VS Code cannot register before apply: an anonymous policy rejects it', async () => {
    const { status, body } = await registerLikeVsCode();
    expect(status).toBe(403);
    // Keycloak reports the first policy that says no: the unknown scope or the untrusted hosts.
    expect(String(body.error_description)).toMatch(/^Policy '(Allowed Client Scopes|Trusted Hosts)' rejected/);
  });

  it('plan --detailed-exitcode reports pending changes with exit code 2', async () => {
    const result = await runCli(
      ['plan', '--detailed-exitcode', '--realm', realm, '--resource', resource, '--test-user', 'alice'],
      { env: userEnv },
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('+ create client-scope mcp:run');
    expect(result.stdout).toContain('- delete registration-policy Trusted Hosts');
  });

  it('apply converges every item, verifiable through the admin API', async () => {
    const result = await runCli(applyArgs, { env: userEnv });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Applied \d+ change\(s\)/);

    const client = await adminClient();
    const scope = (await client.clientScopes.find({ realm })).find((s) => s.name === 'mcp:run');
    expect(scope?.protocol).toBe('openid-connect');
    expect(scope?.attributes?.['include.in.token.scope']).toBe('true');
    expect(scope?.attributes?.['display.on.consent.screen']).toBe('true');

    const mappers = await client.clientScopes.listProtocolMappers({ realm, id: scope!.id! });
    const audience = mappers.filter((m) => m.protocolMapper === 'oidc-audience-mapper');
    expect(audience).toHaveLength(1);
    expect(audience[0]!.config).toMatchObject({
      'included.custom.audience': resource,
      'access.token.claim': 'true',
      'introspection.token.claim': 'true',
    });

    const defaults = await client.clientScopes.listDefaultClientScopes({ realm } as never);
    expect(defaults.map((s) => s.name)).toContain('mcp:run');

    const policies = (
      await client.components.find({
        realm,
        type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
      })
    ).filter((p) => p.subType === 'anonymous');
    expect(policies.find((p) => p.providerId === 'trusted-hosts')).toBeUndefined();
    const allowed = policies.find((p) => p.providerId === 'allowed-client-templates');
    expect(allowed?.config?.['allowed-client-scopes']).toContain('mcp:run');
    // The other anonymous policies stay in place.
    for (const kept of ['max-clients', 'consent-required', 'allowed-protocol-mappers', 'scope']) {
      expect(policies.map((p) => p.providerId)).toContain(kept);
    }

    const [alice] = await client.users.find({ realm, username: 'alice', exact: true });
    expect(alice).toMatchObject({ enabled: true, emailVerified: true, email: 'alice@example.com' });
    expect(alice?.requiredActions ?? []).toEqual([]);
  });

  it('a second apply changes nothing and makes zero write requests, at the floor of 10 requests', async () => {
    const result = await runCli(['--json', ...applyArgs], { env: userEnv });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as ApplyJson;
    expect(report.applied).toEqual([]);
    // The floor: the admin login and the test user's password check (other); the realm, its client
    // scopes (with their mappers), default scopes, registration policies, the resource client, the test user, and
    // the client profiles and policies (the anonymous-clients profile) (reads).
    expect(report.requests).toEqual({ reads: 8, writes: 0, other: 2 });

    const human = await runCli(applyArgs, { env: userEnv });
    expect(human.stdout).toContain('No changes');
  });

  it("VS Code's registration is accepted after apply, and the probe client deletes itself", async () => {
    const { status, body } = await registerLikeVsCode();
    expect(status).toBe(201);
    const deleted = await fetch(String(body.registration_client_uri), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(body.registration_access_token)}` },
    });
    expect(deleted.status).toBe(204);
  });

  it("the test user's token carries aud = the MCP URL and mcp:run in scope", async () => {
    // A client created after apply inherits the realm default scopes, as every DCR client does.
    const client = await adminClient();
    const clientId = `token-check-${Date.now()}`;
    await client.clients.create({
      realm,
      clientId,
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
    });
    const response = await fetch(`${keycloak().url}/realms/${realm}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: clientId,
        username: 'alice',
        password: userPassword,
      }),
    });
    expect(response.status).toBe(200);
    const { access_token: token } = (await response.json()) as { access_token: string };
    const claims = decodeJwt(token);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    expect(aud).toContain(resource);
    expect(String(claims.scope).split(' ')).toContain('mcp:run');
    expect(claims.iss).toBe(`${keycloak().url}/realms/${realm}`);
  });
});

describe('drift', () => {
  it('plan names each drift exactly and apply repairs it', async () => {
    const client = await adminClient();
    const scope = (await client.clientScopes.find({ realm })).find((s) => s.name === 'mcp:run')!;
    // 1. include-in-token-scope off
    await client.clientScopes.update(
      { realm, id: scope.id! },
      { ...scope, attributes: { ...scope.attributes, 'include.in.token.scope': 'false' } },
    );
    // 2. audience changed (a trailing slash: the classic mistake)
    const [mapper] = (await client.clientScopes.listProtocolMappers({ realm, id: scope.id! })).filter(
      (m) => m.protocolMapper === 'oidc-audience-mapper',
    );
    await client.clientScopes.updateProtocolMapper(
      { realm, id: scope.id!, mapperId: mapper!.id! },
      { ...mapper, config: { ...mapper!.config, 'included.custom.audience': `${resource}/` } },
    );
    // 3. no longer a realm default scope
    await client.clientScopes.delDefaultClientScope({ realm, id: scope.id! });
    // 4. Trusted Hosts back
    const realmId = (await client.realms.findOne({ realm }))!.id!;
    await client.components.create({
      realm,
      name: 'Trusted Hosts',
      providerId: 'trusted-hosts',
      providerType: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
      parentId: realmId,
      subType: 'anonymous',
      config: {
        'trusted-hosts': ['example.org'],
        'host-sending-registration-request-must-match': ['true'],
        'client-uris-must-match': ['true'],
      },
    });

    const plan = await planJson();
    const summary = plan.changes.map(
      (c) =>
        `${c.action} ${c.kind} ${c.fields.map((f) => `${f.field}:${JSON.stringify(f.from)}→${JSON.stringify(f.to)}`).join(',')}`,
    );
    expect(summary.sort()).toEqual(
      [
        'update client-scope include.in.token.scope:"false"→"true"',
        `update audience-mapper included.custom.audience:"${resource}/"→"${resource}"`,
        'create default-scope realm default client scopes:null→"mcp:run"',
        'delete registration-policy trusted-hosts:["example.org"]→null',
      ].sort(),
    );

    const applied = await runCli(['--json', ...applyArgs], { env: userEnv });
    expect(applied.code).toBe(0);
    expect((JSON.parse(applied.stdout) as ApplyJson).applied).toHaveLength(4);
    expect((await planJson()).changes).toEqual([]);
  });

  it('keeps scopes that Allowed Client Scopes already allowed, and compares them as a set', async () => {
    const client = await adminClient();
    const policies = await client.components.find({
      realm,
      type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
    });
    const allowed = policies.find((p) => p.subType === 'anonymous' && p.providerId === 'allowed-client-templates')!;
    await client.components.update(
      { realm, id: allowed.id! },
      { ...allowed, config: { ...allowed.config, 'allowed-client-scopes': ['profile', 'mcp:run', 'email'] } },
    );
    expect((await planJson()).changes).toEqual([]);

    await client.components.update(
      { realm, id: allowed.id! },
      { ...allowed, config: { ...allowed.config, 'allowed-client-scopes': ['profile'] } },
    );
    const plan = await planJson();
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.fields[0]).toEqual({
      field: 'allowed-client-scopes',
      from: ['profile'],
      to: ['profile', 'mcp:run'],
    });
    expect((await runCli(applyArgs, { env: userEnv })).code).toBe(0);
  });

  it('turns allow-default-scopes back on: off, Keycloak refuses registrations that also ask for a default scope', async () => {
    const client = await adminClient();
    const policies = await client.components.find({
      realm,
      type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
    });
    const allowed = policies.find((p) => p.subType === 'anonymous' && p.providerId === 'allowed-client-templates')!;
    await client.components.update(
      { realm, id: allowed.id! },
      { ...allowed, config: { ...allowed.config, 'allow-default-scopes': ['false'] } },
    );
    expect((await registerLikeVsCode()).status).toBe(403);

    const plan = await planJson();
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.fields).toEqual([{ field: 'allow-default-scopes', from: ['false'], to: ['true'] }]);
    expect((await runCli(applyArgs, { env: userEnv })).code).toBe(0);

    const { status, body } = await registerLikeVsCode();
    expect(status).toBe(201);
    await fetch(String(body.registration_client_uri), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(body.registration_access_token)}` },
    });
  });

  it('a changed test-user password is detected and reset', async () => {
    const result = await runCli(['--json', 'plan', '--realm', realm, '--resource', resource, '--test-user', 'alice'], {
      env: { MCP_KEYCLOAK_TEST_USER_PASSWORD: `${userPassword}-new` },
    });
    const plan = JSON.parse(result.stdout) as PlanJson;
    expect(plan.changes).toEqual([
      {
        action: 'update',
        kind: 'test-user',
        name: 'alice',
        id: expect.any(String),
        fields: [{ field: 'password', from: '(does not work)', to: '(set)' }],
      },
    ]);
    expect(result.stdout).not.toContain(userPassword);
  });
});

describe('trusted-hosts mode', () => {
  it('keeps the policy with exactly the listed hosts, in any order', async () => {
    const args = [
      '--realm',
      realm,
      '--resource',
      resource,
      '--dcr',
      'trusted-hosts',
      '--trusted-host',
      'localhost',
      '--trusted-host',
      '127.0.0.1',
    ];
    expect((await runCli(['apply', '--yes', ...args])).code).toBe(0);
    const client = await adminClient();
    const policies = await client.components.find({
      realm,
      type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
    });
    const trusted = policies.filter((p) => p.subType === 'anonymous' && p.providerId === 'trusted-hosts');
    expect(trusted).toHaveLength(1);
    expect([...(trusted[0]!.config!['trusted-hosts'] as string[])].sort()).toEqual(['127.0.0.1', 'localhost']);

    const reordered = await runCli([
      '--json',
      'plan',
      '--realm',
      realm,
      '--resource',
      resource,
      '--dcr',
      'trusted-hosts',
      '--trusted-host',
      '127.0.0.1',
      '--trusted-host',
      'localhost',
    ]);
    expect((JSON.parse(reordered.stdout) as PlanJson).changes).toEqual([]);
  });
});

describe('a realm that does not exist yet', () => {
  const fresh = uniqueRealm('apply-new');
  afterAll(() => deleteRealm(fresh));
  // Web origins exist from Keycloak 26.5.0 (before, apply refuses them: versions.test.ts).
  const webOrigins = !olderThan(inject('keycloakVersion'), '26.5.0');

  it(`plan announces exactly what apply then reports${webOrigins ? ', --web-origin included (Keycloak creates that policy with the realm)' : ''}`, async () => {
    const args = [
      '--realm',
      fresh,
      '--resource',
      resource,
      ...(webOrigins ? ['--web-origin', 'http://localhost:6274'] : []),
    ];
    const planned = await runCli(['--json', 'plan', ...args]);
    expect(planned.stderr).toBe('');
    const applied = await runCli(['--json', 'apply', '--yes', ...args]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    // Ids are unknown before the realm exists, so changes are compared without them.
    const withoutIds = (changes: Array<Record<string, unknown>>) => changes.map(({ id: _id, ...change }) => change);
    const plannedChanges = withoutIds((JSON.parse(planned.stdout) as PlanJson).changes);
    const names = plannedChanges.map((c) => `${String(c.action)} ${String(c.name)}`);
    if (webOrigins) expect(names).toContain('update Allowed Registration Web Origins');
    else expect(names.filter((n) => n.includes('Web Origins'))).toEqual([]);
    expect(withoutIds((JSON.parse(applied.stdout) as ApplyJson).applied)).toEqual(plannedChanges);
  });
});
