/**
 * Copies of what apply owns, made with the admin API the way two concurrent applies (or an administrator)
 * make them: `plan` shows each as a duplicate with the reason, `apply` converges to exactly one with the
 * configured settings, a second apply writes nothing, and the effect is real: VS Code's registration and
 * the user's tokens follow the configuration again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';
import {
  addAnonymousPolicy,
  anonymousPolicies,
  audienceMappersOn,
  registerLikeVsCode,
  scopesNamed,
  VSCODE_TRUSTED_HOSTS,
} from '../support/realm-state.js';
import { applyRealm, createPasswordClient, passwordToken } from '../support/tokens.js';
import type { PlanJson } from '../support/cli-json.js';

interface PlanChange {
  action: string;
  kind: string;
  id?: string;
  reason?: string;
  fields: { field: string; from: unknown; to: unknown }[];
}

const realms: string[] = [];
afterAll(async () => {
  for (const realm of realms) await deleteRealm(realm);
});

function newRealm(prefix: string): string {
  const realm = uniqueRealm(prefix);
  realms.push(realm);
  return realm;
}

async function planChanges(args: string[]): Promise<PlanChange[]> {
  const result = await runCli(['--json', 'plan', ...args]);
  expect(result.stderr).toBe('');
  return (JSON.parse(result.stdout) as PlanJson).changes as PlanChange[];
}

async function applyJson(args: string[]): Promise<{ applied: PlanChange[]; requests: { writes: number } }> {
  const result = await runCli(['--json', 'apply', '--yes', ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { applied: PlanChange[]; requests: { writes: number } };
}

const TRUSTED_HOSTS_CHECKS = {
  'host-sending-registration-request-must-match': ['true'],
  'client-uris-must-match': ['true'],
};

describe('two anonymous Trusted Hosts policies', () => {
  const realm = newRealm('dup-trusted');
  const args = [
    '--realm',
    realm,
    '--dcr',
    'trusted-hosts',
    ...VSCODE_TRUSTED_HOSTS.flatMap((h) => ['--trusted-host', h]),
  ];

  it('plan shows the copy as a duplicate, apply keeps one with the hosts, and VS Code can register again', async () => {
    await (await adminClient()).realms.create({ realm, enabled: true });
    await applyJson(args);
    expect((await registerLikeVsCode(realm)).status).toBe(201);

    // A second apply that ran at the same time, with the hosts of an older config.
    await addAnonymousPolicy(realm, 'Trusted Hosts', 'trusted-hosts', {
      'trusted-hosts': ['old.example'],
      ...TRUSTED_HOSTS_CHECKS,
    });
    const refused = await registerLikeVsCode(realm);
    expect(refused.status).toBe(403);
    expect(refused.error).toMatch(/^Policy 'Trusted Hosts' rejected/);

    const changes = await planChanges(args);
    const deletes = changes.filter((c) => c.action === 'delete');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({
      kind: 'registration-policy',
      reason: expect.stringMatching(/^duplicate of "Trusted Hosts" [0-9a-f-]{36}, which apply keeps/),
    });
    const human = await runCli(['plan', '--detailed-exitcode', ...args]);
    expect(human.code).toBe(2);
    expect(human.stdout).toContain('why: duplicate of "Trusted Hosts"');

    await applyJson(args);
    const left = await anonymousPolicies(realm, 'trusted-hosts');
    expect(left.map((p) => [...(p.config?.['trusted-hosts'] ?? [])].sort())).toEqual([
      [...VSCODE_TRUSTED_HOSTS].sort(),
    ]);
    expect((await registerLikeVsCode(realm)).status).toBe(201);

    const again = await applyJson(args);
    expect(again.applied).toEqual([]);
    expect(again.requests.writes).toBe(0);
  });

  it('with copies on different hosts, a new host list lands on the one policy left (the issue: one copy kept the old host)', async () => {
    await addAnonymousPolicy(realm, 'Trusted Hosts', 'trusted-hosts', {
      'trusted-hosts': [...VSCODE_TRUSTED_HOSTS],
      ...TRUSTED_HOSTS_CHECKS,
    });
    const newArgs = ['--realm', realm, '--dcr', 'trusted-hosts', '--trusted-host', 'new.example'];
    const changes = await planChanges(newArgs);
    expect(changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'update registration-policy',
      'delete registration-policy',
    ]);

    await applyJson(newArgs);
    const left = await anonymousPolicies(realm, 'trusted-hosts');
    expect(left.map((p) => p.config?.['trusted-hosts'])).toEqual([['new.example']]);
    // The config no longer trusts VS Code's hosts: Keycloak refuses it, as configured.
    const refused = await registerLikeVsCode(realm);
    expect(refused.status).toBe(403);
    expect(refused.error).toContain('Trusted Hosts');
    expect(await planChanges(newArgs)).toEqual([]);
  });
});

describe('two anonymous Allowed Client Scopes policies', () => {
  const realm = newRealm('dup-allowed');

  it('the copy that refuses mcp:run is deleted and VS Code can register again', async () => {
    await (await adminClient()).realms.create({ realm, enabled: true });
    await applyJson(['--realm', realm]);
    await addAnonymousPolicy(realm, 'Allowed Client Scopes', 'allowed-client-templates', {
      'allowed-client-scopes': ['profile'],
      'allow-default-scopes': ['false'],
    });
    const refused = await registerLikeVsCode(realm);
    expect(refused.status).toBe(403);
    expect(refused.error).toMatch(/^Policy 'Allowed Client Scopes' rejected/);

    const deletes = (await planChanges(['--realm', realm])).filter((c) => c.action === 'delete');
    expect(deletes).toEqual([
      expect.objectContaining({
        kind: 'registration-policy',
        reason: expect.stringMatching(/^duplicate of "Allowed Client Scopes"/),
      }),
    ]);
    await applyJson(['--realm', realm]);

    const left = await anonymousPolicies(realm, 'allowed-client-templates');
    expect(left).toHaveLength(1);
    expect(left[0]!.config?.['allowed-client-scopes']).toContain('mcp:run');
    expect((await registerLikeVsCode(realm)).status).toBe(201);
    expect((await applyJson(['--realm', realm])).requests.writes).toBe(0);
  });
});

/**
 * Keycloak refuses a second mapper with a name in use, but checks before it writes: requests that arrive
 * together can all pass the check. This fires batches of concurrent creates until two copies exist.
 */
async function raceAudienceMapperCopies(realm: string, scopeId: string, audience: string): Promise<number> {
  const admin = await adminClient();
  const mapper = {
    name: 'mcp-audience',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    config: { 'included.custom.audience': audience, 'access.token.claim': 'true', 'introspection.token.claim': 'true' },
  };
  for (let batch = 0; batch < 40; batch++) {
    await Promise.all(
      Array.from({ length: 8 }, () =>
        admin.clientScopes
          .addProtocolMapper({ realm, id: scopeId }, mapper)
          .catch((error: { response?: { status?: number } }) => {
            if (error.response?.status !== 409) throw error;
          }),
      ),
    );
    const ours = (await admin.clientScopes.listProtocolMappers({ realm, id: scopeId })).filter(
      (m) => m.name === 'mcp-audience',
    );
    if (ours.length >= 2) return ours.length;
    for (const m of ours) await admin.clientScopes.delProtocolMapper({ realm, id: scopeId, mapperId: m.id! });
  }
  throw new Error('Keycloak made no second copy of the mapper in 40 batches of 8 concurrent creates');
}

describe('two audience mappers named mcp-audience on the scope', () => {
  const realm = newRealm('dup-mapper');
  const stale = 'http://127.0.0.1:1/old-mcp';

  it(
    'plan shows the copies, apply keeps one with the URL, and tokens lose the stale audience',
    { timeout: 120_000 },
    async () => {
      const resource = 'http://127.0.0.1:8765/mcp';
      await applyRealm(realm, resource);
      const admin = await adminClient();
      const [scope] = await scopesNamed(realm, 'mcp:run');
      for (const m of await audienceMappersOn(realm, 'mcp:run'))
        await admin.clientScopes.delProtocolMapper({ realm, id: scope!.id!, mapperId: m.id! });
      const copies = await raceAudienceMapperCopies(realm, scope!.id!, resource);
      // One copy carries an older URL, as a concurrent apply with an older config would have written.
      const [, second] = (await audienceMappersOn(realm, 'mcp:run')).sort((a, b) => a.id!.localeCompare(b.id!));
      await admin.clientScopes.updateProtocolMapper(
        { realm, id: scope!.id!, mapperId: second!.id! },
        { ...second, config: { ...second!.config, 'included.custom.audience': stale } },
      );

      const client = await createPasswordClient(realm, `dup-mapper-${Date.now()}`);
      const audiences = async () => [decodeJwt(await passwordToken(realm, client)).aud ?? []].flat();
      expect(await audiences()).toEqual(expect.arrayContaining([resource, stale]));

      const args = ['--realm', realm, '--resource', resource];
      const deletes = (await planChanges(args)).filter((c) => c.action === 'delete');
      expect(deletes).toHaveLength(copies - 1);
      for (const change of deletes)
        expect(change).toMatchObject({
          kind: 'audience-mapper',
          reason: expect.stringMatching(/^duplicate of "mcp-audience" /),
        });

      await applyJson(args);
      const left = await audienceMappersOn(realm, 'mcp:run');
      expect(
        left.map((m): unknown[] => [m.name, m.config?.['included.custom.audience'], m.config?.['access.token.claim']]),
      ).toEqual([['mcp-audience', resource, 'true']]);
      expect(await audiences()).toContain(resource);
      expect(await audiences()).not.toContain(stale);
      expect((await applyJson(args)).requests.writes).toBe(0);
    },
  );
});
