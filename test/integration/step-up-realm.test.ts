/**
 * The realm side of step-up against the real Keycloak: a scope named only in `toolScopes` becomes an
 * optional client scope with the same audience, allowed for anonymous registration; a client gets it
 * only when it asks for it; apply is idempotent and destroy removes it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  discoverAuthorizationServerMetadata,
  registerClient,
  type AuthorizationServerMetadata,
  type OAuthClientInformationFull,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { REDIRECT_URI, vscodeClientMetadata } from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { codeFlowTokens } from '../support/oauth.js';
import type { PlanJson } from '../support/cli-json.js';

const realm = uniqueRealm('step-up-realm');
const password = randomBytes(12).toString('base64url');
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };
let resource: string;
let configFile: string;
let issuer: string;
let metadata: AuthorizationServerMetadata;

beforeAll(async () => {
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-step-up-'));
  configFile = join(dir, 'mcp-keycloak.json');
  const config = {
    keycloakUrl: keycloak().url,
    realm,
    resources: [{ url: resource, scopes: ['mcp:run'], toolScopes: { divide_numbers: ['mcp:admin'] } }],
    testUser: { username: 'alice' },
  };
  await writeFile(configFile, JSON.stringify(config));
  const applied = await runCli(['--json', 'apply', '--yes', '--config', configFile], { env });
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  issuer = `${keycloak().url}/realms/${realm}`;
  metadata = (await discoverAuthorizationServerMetadata(issuer))!;
});

afterAll(() => deleteRealm(realm));

/** A VS Code-like client registered with `registered` as its scope, signed in asking for `asked`. */
async function tokenScopes(registered: string, asked: string): Promise<{ scope: string[]; aud: unknown }> {
  const client: OAuthClientInformationFull = await registerClient(issuer, {
    metadata,
    clientMetadata: { ...vscodeClientMetadata(), scope: registered },
  });
  const tokens = await codeFlowTokens({
    issuer,
    metadata,
    client,
    redirectUri: REDIRECT_URI,
    username: 'alice',
    password,
    scope: asked,
    resource,
  });
  const claims = decodeJwt(tokens.access_token);
  return { scope: String(claims.scope).split(' '), aud: claims.aud };
}

it('makes mcp:admin an optional (not default) client scope with the audience mapper, allowed for registration', async () => {
  const admin = await adminClient();
  const scope = (await admin.clientScopes.find({ realm })).find((s) => s.name === 'mcp:admin');
  expect(scope?.attributes?.['include.in.token.scope']).toBe('true');
  expect(
    scope?.protocolMappers?.find((m) => m.protocolMapper === 'oidc-audience-mapper')?.config?.[
      'included.custom.audience'
    ],
  ).toBe(resource);
  const optional = (await admin.clientScopes.listDefaultOptionalClientScopes({ realm } as never)).map((s) => s.name);
  const defaults = (await admin.clientScopes.listDefaultClientScopes({ realm } as never)).map((s) => s.name);
  expect(optional).toContain('mcp:admin');
  expect(defaults).not.toContain('mcp:admin');
  expect(defaults).toContain('mcp:run');
});

it('a second apply writes nothing (one read more: the optional scopes)', async () => {
  const again = await runCli(['--json', 'apply', '--yes', '--config', configFile], { env });
  const report = JSON.parse(again.stdout) as { applied: unknown[]; requests: { reads: number; writes: number } };
  expect(report.applied).toEqual([]);
  expect(report.requests).toMatchObject({ reads: 9, writes: 0 });
});

it('a step-up scope someone put among the default scopes is shown as moved back to the optional ones, and apply moves it', async () => {
  const admin = await adminClient();
  const scope = (await admin.clientScopes.find({ realm })).find((s) => s.name === 'mcp:admin')!;
  await admin.clientScopes.delDefaultOptionalClientScope({ realm, id: scope.id! });
  await admin.clientScopes.addDefaultClientScope({ realm, id: scope.id! });
  const planned = await runCli(['plan', '--config', configFile], { env });
  expect(planned.stdout).toContain(
    '  ~ update optional-scope mcp:admin\n      realm default client scopes: mcp:admin → (removed: a step-up scope is granted only to a client that asks for it)\n      realm optional client scopes: → mcp:admin\n',
  );
  const applied = await runCli(['apply', '--yes', '--config', configFile], { env });
  expect(applied.code, applied.stderr).toBe(0);
  expect(applied.stdout).toContain('✔ updated optional-scope mcp:admin');
  const defaults = (await admin.clientScopes.listDefaultClientScopes({ realm } as never)).map((s) => s.name);
  const optional = (await admin.clientScopes.listDefaultOptionalClientScopes({ realm } as never)).map((s) => s.name);
  expect(defaults).not.toContain('mcp:admin');
  expect(optional).toContain('mcp:admin');
  expect(
    (JSON.parse((await runCli(['--json', 'plan', '--config', configFile], { env })).stdout) as PlanJson).changes,
  ).toEqual([]);
});

it('a client that registered with both scopes gets mcp:admin only when it asks for it, with aud = the MCP URL', async () => {
  const first = await tokenScopes('mcp:run mcp:admin', 'mcp:run');
  expect(first.scope).toContain('mcp:run');
  expect(first.scope).not.toContain('mcp:admin');
  const stepped = await tokenScopes('mcp:run mcp:admin', 'mcp:run mcp:admin');
  expect(stepped.scope).toEqual(expect.arrayContaining(['mcp:run', 'mcp:admin']));
  expect(Array.isArray(stepped.aud) ? stepped.aud : [stepped.aud]).toContain(resource);
});

it('a client that registered with mcp:run alone cannot step up: Keycloak answers invalid_scope (why the PRM lists mcp:admin)', async () => {
  // A scope in the registration becomes the client's only optional scopes; asking for another one is refused.
  await expect(tokenScopes('mcp:run', 'mcp:run mcp:admin')).rejects.toThrow(
    /error=invalid_scope \(Invalid scopes: mcp:run mcp:admin\)/,
  );
});

it("doctor keeps the base scope's bare check ids and gives the step-up scope its own, with or without admin credentials", async () => {
  const realmChecks = async (admin: boolean) => {
    const result = await runCli(['--json', 'doctor', '--config', configFile], { env, admin });
    expect(result.stderr).toBe('');
    const { checks } = JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; why?: string }> };
    return checks.filter((f) => f.id.startsWith('realm.'));
  };
  const audited = await realmChecks(true);
  // On a Keycloak with the cimd feature, realm.cimd warns that this realm (no --cimd) refuses clients that prefer CIMD.
  const cimdOn = inject('keycloakFeatures').includes('cimd');
  expect(audited.filter((f) => f.status !== 'pass').map((f) => `${f.status} ${f.id}`)).toEqual(
    cimdOn ? ['warn realm.cimd'] : [],
  );
  expect(audited.map((f) => f.id)).toEqual([
    'realm.exists',
    'realm.scope.exists',
    'realm.scope.include_in_token_scope',
    'realm.audience',
    'realm.default_scope',
    'realm.scope.exists:mcp:admin',
    'realm.scope.include_in_token_scope:mcp:admin',
    'realm.audience:mcp:admin',
    'realm.optional_scope:mcp:admin',
    'realm.one_token_per_server',
    'realm.allowed_client_scopes',
    'realm.trusted_hosts',
    'realm.web_origins',
    'realm.max_clients',
    'realm.resource_client',
    ...(cimdOn ? ['realm.cimd'] : []),
    'realm.anonymous_clients',
    'realm.test_user',
  ]);
  const skipped = await realmChecks(false);
  expect(skipped.map((f) => f.id)).toEqual(audited.map((f) => f.id));
  expect(skipped.filter((f) => f.status !== 'skip')).toEqual([]);
});

it('destroy removes the step-up scope too', async () => {
  const planned = await runCli(['destroy', '--dry-run', '--config', configFile], { env });
  expect(planned.code, planned.stderr).toBe(0);
  expect(planned.stdout).toContain(
    '- delete client-scope mcp:admin: with its audience mapper and its place among the optional scopes (a step-up scope)',
  );
  expect(planned.stdout).toContain(
    '- delete client-scope mcp:run: with its audience mapper and its place among the default scopes',
  );
  const result = await runCli(['destroy', '--yes', '--config', configFile], { env });
  expect(result.code, result.stderr).toBe(0);
  expect((await (await adminClient()).clientScopes.find({ realm })).map((s) => s.name)).not.toContain('mcp:admin');
});
