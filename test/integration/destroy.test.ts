/**
 * `destroy` against a realm that apply set up: it removes what apply made (scope with its mapper and
 * default-scope entry, test user, our name in Allowed Client Scopes), puts Keycloak's own Trusted
 * Hosts default back, leaves everything else alone; `--whole-realm` deletes the realm.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('destroy');
const pristine = uniqueRealm('pristine');
const env = {
  MCP_KEYCLOAK_REALM: realm,
  MCP_KEYCLOAK_TEST_USER: 'alice',
  MCP_KEYCLOAK_TEST_USER_PASSWORD: 'alice-Pw-12345',
};
const POLICY = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';

async function anonymousPolicies(name: string) {
  const client = await adminClient();
  const components = await client.components.find({ realm: name, type: POLICY });
  return components
    .filter((c) => c.subType === 'anonymous')
    .map((c) => ({
      name: c.name,
      providerId: c.providerId,
      config: Object.fromEntries(Object.entries(c.config ?? {}).map(([k, v]) => [k, [...(v as string[])].sort()])),
    }))
    .sort((a, b) => a.name!.localeCompare(b.name!));
}

beforeAll(async () => {
  const client = await adminClient();
  await client.realms.create({ realm: pristine, enabled: true });
  const applied = await runCli(['apply', '--yes'], { env });
  expect(applied.code, applied.stderr).toBe(0);
  await client.clientScopes.create({ realm, name: 'users-own-scope', protocol: 'openid-connect' });
});
afterAll(() => Promise.all([deleteRealm(realm), deleteRealm(pristine)]));

it('without a terminal it changes nothing unless --yes', async () => {
  const result = await runCli(['destroy'], { env });
  expect(result.code).toBe(64);
  expect(result.stderr).toMatch(/^error: destroy changes realm .*--yes.*Nothing was changed\.\n$/);
  const client = await adminClient();
  expect((await client.clientScopes.find({ realm })).map((s) => s.name)).toContain('mcp:run');
});

it('shows the plan with --dry-run', async () => {
  const result = await runCli(['--json', 'destroy', '--dry-run'], { env });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { removals: Array<{ action: string; kind: string; name: string }> };
  expect(report.removals.map((r) => `${r.action} ${r.kind} ${r.name}`)).toEqual([
    'delete test-user alice',
    'delete client-scope mcp:run',
    'delete resource-client http://localhost:8000/mcp',
    'delete client-policy mcp-keycloak-pkce',
    'delete client-profile mcp-keycloak-pkce',
    'update registration-policy Allowed Client Scopes',
    'create registration-policy Trusted Hosts',
  ]);
});

it('removes what apply made and restores the registration policies of a new realm', async () => {
  const result = await runCli(['destroy', '--yes'], { env });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain(`Removed 7 item(s) from realm ${realm}.`);
  const client = await adminClient();
  const scopes = (await client.clientScopes.find({ realm })).map((s) => s.name);
  expect(scopes).not.toContain('mcp:run');
  expect(scopes).toContain('users-own-scope');
  expect(await client.clients.find({ realm, clientId: 'http://localhost:8000/mcp' })).toEqual([]);
  expect(await client.users.find({ realm, username: 'alice', exact: true })).toEqual([]);
  expect(await anonymousPolicies(realm)).toEqual(await anonymousPolicies(pristine));

  const again = await runCli(['destroy', '--yes'], { env });
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('Nothing to remove');
});

it('deletes the whole realm with --whole-realm --yes', async () => {
  const result = await runCli(['destroy', '--whole-realm', '--yes'], { env });
  expect(result.code, result.stderr).toBe(0);
  expect(await (await adminClient()).realms.findOne({ realm })).toBeFalsy();
});
