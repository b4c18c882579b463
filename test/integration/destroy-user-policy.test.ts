/**
 * `destroy` in a realm where a client policy of the user's names a profile `apply --cimd` made. Keycloak
 * lets a profile go while a policy still names it, and then answers 400 to every save of the realm's
 * policies (the admin console's included). destroy removes our profile's name from the user's policy
 * first, says so in the plan, and leaves the user's policy and profile in place. Real Keycloak, cimd on.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('destroy-theirs');
const featureOn = inject('keycloakFeatures').includes('cimd');
const target = ['--realm', realm, '--resource', 'http://127.0.0.1:18999/mcp'];

beforeAll(async () => {
  if (!featureOn) return;
  const applied = await runCli(['apply', '--yes', ...target, '--cimd']);
  expect(applied.code, applied.stderr).toBe(0);
  const admin = await adminClient();
  const { profiles = [] } = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
  const theirProfile = {
    name: 'their-profile',
    executors: [{ executor: 'pkce-enforcer', configuration: { 'auto-configure': false } }],
  };
  await admin.clientPolicies.createProfiles({ realm, profiles: [...profiles, theirProfile] as never });
  const { policies = [] } = await admin.clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
  // Two policies of the user's: one reusing our PKCE profile alone, one beside a profile of their own.
  const condition = { condition: 'client-updater-context', configuration: { 'update-client-source': ['ByAnonymous'] } };
  const theirs = [
    { name: 'reuses-ours', enabled: true, conditions: [condition], profiles: ['mcp-keycloak-pkce'] },
    { name: 'mixed', enabled: true, conditions: [condition], profiles: ['their-profile', 'mcp-keycloak-pkce'] },
  ];
  await admin.clientPolicies.updatePolicy({ realm, policies: [...policies, ...theirs] as never });
});
afterAll(() => deleteRealm(realm));

describe.runIf(featureOn)('destroy with a policy of the user’s naming our profile', () => {
  it('plans and shows taking our profile’s name out of that policy, before the profile goes', async () => {
    const dry = await runCli(['destroy', '--dry-run', ...target]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/~ update client-policy reuses-ours: .*without mcp-keycloak-pkce.*no profile left/);
    expect(dry.stdout).toMatch(/~ update client-policy mixed: .*without mcp-keycloak-pkce/);
    const lines = dry.stdout.split('\n');
    const update = lines.findIndex((line) => line.includes('client-policy mixed'));
    const profile = lines.findIndex((line) => line.includes('delete client-profile mcp-keycloak-pkce'));
    expect(update).toBeGreaterThan(-1);
    expect(profile).toBeGreaterThan(update);
  });

  it('destroy leaves the user’s policies and profile, without our name, and the policies can be saved again', async () => {
    const result = await runCli(['destroy', '--yes', ...target]);
    expect(result.code, result.stderr).toBe(0);
    const admin = await adminClient();
    const { policies = [] } = await admin.clientPolicies.listPolicies({ realm, includeGlobalPolicies: false });
    expect(policies.map((p) => [p.name, p.profiles ?? []])).toEqual([
      ['reuses-ours', []],
      ['mixed', ['their-profile']],
    ]);
    const { profiles = [] } = await admin.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false });
    expect(profiles.map((p) => p.name)).toEqual(['their-profile']);
    // What the admin console does on any edit: write the list back. With a dangling name Keycloak answers 400.
    await expect(admin.clientPolicies.updatePolicy({ realm, policies })).resolves.not.toThrow();
  });
});

describe.runIf(!featureOn)('without the cimd feature', () => {
  it.skip('needs Keycloak started with --features=cimd (apply --cimd makes the profiles)', () => {});
});
