/**
 * `export` gives realm JSON that Keycloak imports as it is (POST /admin/realms takes the same
 * representation as `kc.sh import`): the imported realm needs no change from apply, and exporting
 * it again gives the same document.
 */
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type RealmRepresentation from '@keycloak/keycloak-admin-client/lib/defs/realmRepresentation.js';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminClient, deleteRealm, runCli, uniqueRealm } from '../support/keycloak.js';
import type { PlanJson } from '../support/cli-json.js';

const realm = uniqueRealm('export');
const copy = uniqueRealm('imported');
const resource = 'http://localhost:8123/mcp';
const envFor = (name: string) => ({ MCP_KEYCLOAK_REALM: name, MCP_KEYCLOAK_RESOURCE: resource });

beforeAll(async () => {
  const applied = await runCli(['apply', '--yes'], { env: envFor(realm) });
  expect(applied.code, applied.stderr).toBe(0);
});
afterAll(() => Promise.all([deleteRealm(realm), deleteRealm(copy)]));

it('exports realm JSON that imports into a realm apply has nothing to change in', async () => {
  const result = await runCli(['export'], { env: envFor(realm) });
  expect(result.code, result.stderr).toBe(0);
  const document = JSON.parse(result.stdout) as RealmRepresentation;
  expect(document.realm).toBe(realm);
  // RealmRepresentation types its clientScopes as any[].
  const scope = (document.clientScopes as ClientScopeRepresentation[] | undefined)?.find((s) => s.name === 'mcp:run');
  expect(scope?.attributes?.['include.in.token.scope']).toBe('true');
  expect(scope?.protocolMappers?.[0]?.config?.['included.custom.audience']).toBe(resource);
  expect(document.defaultDefaultClientScopes).toContain('mcp:run');
  expect(document.clients).toEqual([
    expect.objectContaining({
      clientId: resource,
      attributes: { resource_url: resource, 'mcp-keycloak.created': 'true' },
    }),
  ]);
  expect(JSON.stringify(document)).not.toMatch(/"id":/);

  const client = await adminClient();
  await client.realms.create({ ...document, realm: copy });
  const plan = await runCli(['--json', 'plan'], { env: envFor(copy) });
  expect(plan.code, plan.stderr).toBe(0);
  expect((JSON.parse(plan.stdout) as PlanJson).changes).toEqual([]);

  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-export-'));
  const again = await runCli(['export', '-o', join(dir, 'realm.json')], { env: envFor(copy) });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).toContain('Wrote realm');
  const reexported = JSON.parse(await readFile(join(dir, 'realm.json'), 'utf8'));
  // Keycloak's import fills in one mapper default the admin API leaves out ("userinfo.token.claim");
  // apart from that, the round trip is exact.
  const withoutUserinfo = (doc: unknown): unknown =>
    JSON.parse(JSON.stringify(doc), (key, value: unknown) => (key === 'userinfo.token.claim' ? undefined : value));
  expect(withoutUserinfo({ ...reexported, realm })).toEqual(withoutUserinfo(document));
});

it('fails with one line for a realm that does not exist', async () => {
  const result = await runCli(['export'], { env: envFor(uniqueRealm('missing')) });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^error: Realm "missing-[0-9a-f]+" does not exist at .*\n$/);
});
