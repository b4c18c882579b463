/**
 * The two slowest requests of a no-op `apply` with a test user, the admin login and the test user's
 * password check, make Keycloak hash a password each. They are in flight together: the fault proxy's
 * gate holds token requests until two have arrived, so the run only succeeds when the password check
 * goes out before the login is answered (before, it went out after, and the held login timed out).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { ApplyJson } from '../support/cli-json.js';

const realm = uniqueRealm('overlap');
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: `pw-${Math.random().toString(36).slice(2)}` };
const args = ['--json', 'apply', '--yes', '--realm', realm, '--test-user', 'alice'];
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await startFaultProxy(keycloak().url);
  expect((await runCli(args, { env })).code).toBe(0);
});
afterAll(async () => {
  await proxy.close();
  await deleteRealm(realm);
});

it('a no-op apply sends the test user password check alongside the admin login, in 10 requests', async () => {
  const token = { method: 'POST', path: /\/protocol\/openid-connect\/token$/ };
  const gate = proxy.hold(token, 2);
  // Should the check wait for the login, the held login would fail this run after 3 s.
  const result = await runCli([...args, '--timeout', '3'], { env: { ...env, KEYCLOAK_URL: proxy.url } });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(gate.held()).toBe(2);
  expect(
    proxy.log
      .filter((seen) => seen.method === 'POST')
      .map((seen) => [seen.path, seen.status])
      .sort(),
  ).toEqual([
    ['/realms/master/protocol/openid-connect/token', 200],
    [`/realms/${realm}/protocol/openid-connect/token`, 200],
  ]);
  const output = JSON.parse(result.stdout) as ApplyJson;
  expect(output.applied).toEqual([]);
  expect(output.requests).toEqual({ reads: 8, writes: 0, other: 2 });
  expect(proxy.log).toHaveLength(10);
});
