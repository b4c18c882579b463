/**
 * Another writer is not an error. Deterministic cases: a plan is computed, the admin API then makes the
 * change another apply (or an administrator) would make, and the stale plan is applied: it succeeds and
 * the realm ends converged, nothing duplicated. Then the real thing: two CLI applies at once, repeatedly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyPlan, computePlan } from '../../src/realm/apply.js';
import { passwordWorks } from '../../src/realm/live.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import {
  addAnonymousPolicy,
  anonymousPolicies,
  audienceMappersOn,
  convergedObjects,
  defaultScopeNames,
  engine,
  ownedObjects,
  scopesNamed,
  bareRealm as createBareRealm,
} from '../support/realm-state.js';
import type { PlanJson } from '../support/cli-json.js';

const RESOURCE = 'http://localhost:8000/mcp';
const realms: string[] = [];
afterAll(async () => {
  for (const realm of realms) await deleteRealm(realm);
});

const bareRealm = (prefix: string) => createBareRealm(prefix, realms);

/** Applies from scratch through the engine, so a test can start from a converged realm. */
async function converge(realm: string, options: Parameters<typeof engine>[1] = {}): Promise<void> {
  const { session, desired } = await engine(realm, options);
  await applyPlan(session, desired, await computePlan(session, desired));
}

const summary = (changes: { action: string; kind: string }[]) => changes.map((c) => `${c.action} ${c.kind}`);

describe('a stale plan meets the other writer', () => {
  it('create meets 409: the scope created meanwhile is adopted and repaired, not duplicated', async () => {
    const realm = await bareRealm('race-scope');
    const { session, desired } = await engine(realm);
    const stale = await computePlan(session, desired);
    expect(summary(stale.plan.changes)).toContain('create client-scope');

    const admin = await adminClient();
    const { id } = await admin.clientScopes.create({
      realm,
      name: 'mcp:run',
      protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'false' },
    });
    const applied = await applyPlan(session, desired, stale);

    expect(summary(applied)).not.toContain('create client-scope');
    expect(summary(applied)).toContain('update client-scope');
    expect((await scopesNamed(realm, 'mcp:run')).map((s) => s.id)).toEqual([id]);
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
    expect((await computePlan(session, desired)).plan.changes).toEqual([]);
  });

  it('delete meets 404: a Trusted Hosts policy deleted meanwhile is done', async () => {
    const realm = await bareRealm('race-delete');
    const { session, desired } = await engine(realm);
    const stale = await computePlan(session, desired);
    const [trusted] = await anonymousPolicies(realm, 'trusted-hosts');
    await (await adminClient()).components.del({ realm, id: trusted!.id! });

    const applied = await applyPlan(session, desired, stale);
    expect(summary(applied)).not.toContain('delete registration-policy');
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
  });

  it('create meets 409: a default scope added meanwhile is left as it is', async () => {
    const realm = await bareRealm('race-default');
    await converge(realm);
    const admin = await adminClient();
    const [scope] = await scopesNamed(realm, 'mcp:run');
    await admin.clientScopes.delDefaultClientScope({ realm, id: scope!.id! });
    const { session, desired } = await engine(realm);
    const stale = await computePlan(session, desired);
    expect(summary(stale.plan.changes)).toEqual(['create default-scope']);

    await admin.clientScopes.addDefaultClientScope({ realm, id: scope!.id! });
    const before = session.requests().writes;
    expect(await applyPlan(session, desired, stale)).toEqual([]);
    expect(session.requests().writes - before).toBe(1); // the PUT that met 409, nothing after it
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
  });

  it('a scope among the optional default scopes is moved to the default ones (Keycloak answers 409 otherwise)', async () => {
    const realm = await bareRealm('race-optional');
    await converge(realm);
    const admin = await adminClient();
    const [scope] = await scopesNamed(realm, 'mcp:run');
    await admin.clientScopes.delDefaultClientScope({ realm, id: scope!.id! });
    await admin.clientScopes.addDefaultOptionalClientScope({ realm, id: scope!.id! });

    const { session, desired } = await engine(realm);
    expect(summary(await applyPlan(session, desired, await computePlan(session, desired)))).toEqual([
      'create default-scope',
    ]);
    expect(await defaultScopeNames(realm)).toContain('mcp:run');
    const optional = await admin.clientScopes.listDefaultOptionalClientScopes({ realm } as never);
    expect(optional.map((s) => s.name)).not.toContain('mcp:run');
  });

  it('update meets 404: an audience mapper deleted meanwhile is recreated', async () => {
    const realm = await bareRealm('race-mapper');
    await converge(realm);
    const admin = await adminClient();
    const [scope] = await scopesNamed(realm, 'mcp:run');
    const [mapper] = await audienceMappersOn(realm, 'mcp:run');
    await admin.clientScopes.updateProtocolMapper(
      { realm, id: scope!.id!, mapperId: mapper!.id! },
      { ...mapper, config: { ...mapper!.config, 'included.custom.audience': `${RESOURCE}/` } },
    );
    const { session, desired } = await engine(realm);
    const stale = await computePlan(session, desired);
    expect(summary(stale.plan.changes)).toEqual(['update audience-mapper']);

    await admin.clientScopes.delProtocolMapper({ realm, id: scope!.id!, mapperId: mapper!.id! });
    expect(summary(await applyPlan(session, desired, stale))).toEqual(['create audience-mapper']);
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
  });

  it('update meets 404: a Trusted Hosts policy deleted before its update is recreated with the hosts', async () => {
    const realm = await bareRealm('race-policy');
    await converge(realm, { dcr: { mode: 'trusted-hosts', trustedHosts: ['old.example'] } });
    const { session, desired } = await engine(realm, { dcr: { mode: 'trusted-hosts', trustedHosts: ['new.example'] } });
    const stale = await computePlan(session, desired);
    expect(summary(stale.plan.changes)).toEqual(['update registration-policy']);

    const [trusted] = await anonymousPolicies(realm, 'trusted-hosts');
    await (await adminClient()).components.del({ realm, id: trusted!.id! });
    expect(summary(await applyPlan(session, desired, stale))).toEqual(['create registration-policy']);
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE, ['new.example']));
  });

  it('create meets 409: a test user created meanwhile is completed and gets the password', async () => {
    const realm = await bareRealm('race-user');
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const { session, desired } = await engine(realm, { testUser: 'alice', password });
    const stale = await computePlan(session, desired);
    await (await adminClient()).users.create({ realm, username: 'alice', enabled: true });

    const applied = await applyPlan(session, desired, stale);
    expect(summary(applied)).not.toContain('create test-user');
    expect(summary(applied)).toContain('update test-user');
    expect(await passwordWorks(keycloak().url, realm, 'alice', password)).toBe(true);
    expect((await computePlan(session, desired)).plan.changes).toEqual([]);
  });

  it('create meets 409: a realm created meanwhile is used', async () => {
    const realm = uniqueRealm('race-realm');
    realms.push(realm);
    const { session, desired } = await engine(realm);
    const stale = await computePlan(session, desired);
    expect(summary(stale.plan.changes)[0]).toBe('create realm');

    await (await adminClient()).realms.create({ realm, enabled: true });
    const applied = await applyPlan(session, desired, stale);
    expect(summary(applied)).not.toContain('create realm');
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
  });

  it('a copy the other writer creates next to ours (no 409: policies have no unique name) is removed by the read-back', async () => {
    const realm = await bareRealm('race-readback');
    await converge(realm);
    const { session, desired } = await engine(realm, { dcr: { mode: 'trusted-hosts', trustedHosts: ['new.example'] } });
    const stale = await computePlan(session, desired);
    expect(summary(stale.plan.changes)).toEqual(['create registration-policy']);

    const theirs = {
      'trusted-hosts': ['new.example'],
      'host-sending-registration-request-must-match': ['true'],
      'client-uris-must-match': ['true'],
    };
    await addAnonymousPolicy(realm, 'Trusted Hosts', 'trusted-hosts', theirs);
    const applied = await applyPlan(session, desired, stale);
    expect(summary(applied)).toEqual(['create registration-policy', 'delete registration-policy']);
    expect(applied[1]!.reason).toMatch(/^duplicate of "Trusted Hosts" /);
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE, ['new.example']));
  });
});

describe('two CLI applies at once', () => {
  const trials = 4;

  it(`on a bare realm both exit 0 and leave one state (${trials} trials)`, { timeout: 180_000 }, async () => {
    for (let trial = 0; trial < trials; trial++) {
      const realm = await bareRealm('race-cli');
      const runs = await Promise.all([
        runCli(['apply', '--yes', '--realm', realm]),
        runCli(['apply', '--yes', '--realm', realm]),
      ]);
      expect(runs.map((r) => [r.code, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
      expect((JSON.parse((await runCli(['--json', 'plan', '--realm', realm])).stdout) as PlanJson).changes).toEqual([]);
    }
  });

  it(
    `in trusted-hosts mode both exit 0 and leave one Trusted Hosts policy (${trials} trials)`,
    { timeout: 180_000 },
    async () => {
      const args = (realm: string) => [
        'apply',
        '--yes',
        '--realm',
        realm,
        '--dcr',
        'trusted-hosts',
        '--trusted-host',
        'new.example',
      ];
      for (let trial = 0; trial < trials; trial++) {
        const realm = await bareRealm('race-cli-th');
        // Start from anonymous mode, where no Trusted Hosts policy exists: both runs then create one.
        expect((await runCli(['apply', '--yes', '--realm', realm])).code).toBe(0);
        const runs = await Promise.all([runCli(args(realm)), runCli(args(realm))]);
        expect(runs.map((r) => [r.code, r.stderr])).toEqual([
          [0, ''],
          [0, ''],
        ]);
        expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE, ['new.example']));
      }
    },
  );
});
