/** An apply that dies half-way leaves a realm that the next apply completes, with nothing done twice. */
import { afterAll, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { connectAdmin } from '../../src/keycloak/session.js';
import { applyPlan, computePlan } from '../../src/realm/apply.js';
import { desiredRealm } from '../../src/realm/desired.js';
import { deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { PlanJson } from '../support/cli-json.js';

const realm = uniqueRealm('interrupted');
afterAll(() => deleteRealm(realm));

it('the next apply completes an interrupted one', async () => {
  const { url, adminUsername, adminPassword } = keycloak();
  const config = configSchema.parse({ keycloakUrl: url, realm, admin: { username: adminUsername } });
  const session = await connectAdmin(config, { adminPassword });
  const desired = desiredRealm(config);
  const computed = await computePlan(session, desired);

  // Die right after the client scope is created: realm and scope exist, mapper and the rest do not.
  let seen = 0;
  await expect(
    applyPlan(session, desired, computed, (change) => {
      seen++;
      if (change.kind === 'client-scope') throw new Error('simulated crash');
    }),
  ).rejects.toThrow('simulated crash');
  expect(seen).toBe(2);

  const plan = await runCli(['--json', 'plan', '--realm', realm]);
  const pending = (JSON.parse(plan.stdout) as PlanJson).changes.map(
    (c: { action: string; kind: string }) => `${c.action} ${c.kind}`,
  );
  expect(pending).toEqual([
    'create audience-mapper',
    'create default-scope',
    'create resource-client',
    'update registration-policy',
    'delete registration-policy',
    'create client-profile',
    'create client-policy',
  ]);

  expect((await runCli(['apply', '--yes', '--realm', realm])).code).toBe(0);
  expect((JSON.parse((await runCli(['--json', 'plan', '--realm', realm])).stdout) as PlanJson).changes).toEqual([]);
});
