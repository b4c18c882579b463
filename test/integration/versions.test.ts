/**
 * Version-aware apply against the real Keycloak the harness runs (KEYCLOAK_VERSION picks it): the
 * version is read only when the configuration has something version-sensitive, and a setting the
 * version cannot hold is refused in one sentence before anything is written. Each expectation is what
 * that version does: on 26.5.0 and later web origins are applied; before, apply refuses them.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { olderThan, versionDifference } from '../../src/keycloak/versions.js';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';

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
