/**
 * The real race between two CLI applies, forced rather than hoped for: both processes go through the
 * fault proxy, whose gate holds the contested write until both have sent it, lets Keycloak make them
 * one after the other and answers both together (test/support/fault-proxy.ts). So each run has
 * decided on its write from a realm without the other's, and one of them meets the other's work: a
 * 409 on a create, a 404 on a delete, or a second Trusted Hosts policy (no unique name, no 409).
 * Both must exit 0, the realm must end in one state, and the next apply must write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type Match } from '../support/fault-proxy.js';
import { deleteRealm, keycloak, runCli, type CliResult } from '../support/keycloak.js';
import {
  anonymousPolicies,
  convergedObjects,
  ownedObjects,
  bareRealm as createBareRealm,
} from '../support/realm-state.js';
import type { ApplyJson } from '../support/cli-json.js';

const RESOURCE = 'http://localhost:8000/mcp';
const TRUSTED = ['--dcr', 'trusted-hosts', '--trusted-host', 'new.example'];
let proxy: FaultProxy;
const realms: string[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy(keycloak().url);
});
afterAll(async () => {
  await proxy.close();
  for (const realm of realms) await deleteRealm(realm);
});

const bareRealm = (prefix: string) => createBareRealm(prefix, realms);

const viaProxy = (args: string[]) => runCli(args, { env: { KEYCLOAK_URL: proxy.url } });

/** Runs two applies through the proxy with a gate for 2 requests matching `contested`; returns both results. */
async function twoApplies(args: string[], contested: Match): Promise<CliResult[]> {
  const gate = proxy.hold(contested, 2);
  const runs = await Promise.all([viaProxy(['apply', '--yes', ...args]), viaProxy(['apply', '--yes', ...args])]);
  // Both requests reached the gate: had only one, it would still be held and its run would have timed out.
  expect(gate.held()).toBe(2);
  await gate.passed;
  return runs;
}

/** Keycloak's answers to the requests matching `match`, in the order it made them. */
const statuses = (match: { method: string; path: string | RegExp }) =>
  proxy.log
    .filter(
      (seen) =>
        seen.method === match.method &&
        (typeof match.path === 'string' ? seen.path === match.path : match.path.test(seen.path)),
    )
    .map((seen) => seen.status);

/** Both runs succeeded silently. */
function bothSucceeded(runs: CliResult[]): void {
  expect(runs.map((run) => [run.code, run.stderr])).toEqual([
    [0, ''],
    [0, ''],
  ]);
}

/** An apply after the race finds nothing to do: no change, no write. */
async function nothingLeft(args: string[]): Promise<void> {
  const after = await runCli(['--json', 'apply', '--yes', ...args]);
  expect(after.stderr).toBe('');
  const result = JSON.parse(after.stdout) as ApplyJson;
  expect(result.applied).toEqual([]);
  expect(result.requests.writes).toBe(0);
}

describe('two applies forced into the same write', { timeout: 120_000 }, () => {
  it('both create client scope mcp:run on a bare realm: the second meets 409, adopts the scope, and both exit 0', async () => {
    const realm = await bareRealm('forced-scope');
    const contested = { method: 'POST', path: `/admin/realms/${realm}/client-scopes` };
    const runs = await twoApplies(['--realm', realm], contested);

    expect(statuses(contested)).toEqual([201, 409]);
    bothSucceeded(runs);
    // One scope, its audience mapper once, a default scope, allowed for registration, no Trusted Hosts policy.
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
    await nothingLeft(['--realm', realm]);
  });

  it("both delete the bare realm's Trusted Hosts policy: the second meets 404, which is done, and both exit 0", async () => {
    const realm = await bareRealm('forced-delete');
    const [trusted] = await anonymousPolicies(realm, 'trusted-hosts');
    const contested = { method: 'DELETE', path: `/admin/realms/${realm}/components/${trusted!.id}` };
    const runs = await twoApplies(['--realm', realm], contested);

    expect(statuses(contested)).toEqual([204, 404]);
    bothSucceeded(runs);
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE));
    await nothingLeft(['--realm', realm]);
  });

  it('both create a Trusted Hosts policy (--dcr trusted-hosts): two exist, then both delete the same copy and one remains', async () => {
    const realm = await bareRealm('forced-trusted');
    // From anonymous mode, where no Trusted Hosts policy exists, both runs plan to create one.
    expect((await runCli(['apply', '--yes', '--realm', realm])).code).toBe(0);
    // The admin client posts to …/components/ (with the slash).
    const created = { method: 'POST', path: new RegExp(`^/admin/realms/${realm}/components/?$`) };
    const removed = { method: 'DELETE', path: new RegExp(`^/admin/realms/${realm}/components/`) };
    // The creates are answered together, so each run's read-back sees both copies and deletes the
    // one with the higher id: the second gate makes those deletes meet as well.
    const deletes = proxy.hold(removed, 2);
    const runs = await twoApplies(['--realm', realm, ...TRUSTED], created);
    // Keycloak has no unique name for policies: both creates succeed, and the duplicate is real.
    expect(statuses(created)).toEqual([201, 201]);
    // Both runs have exited: both must have sent the delete (an engine blind to duplicates sends none).
    expect(deletes.held()).toBe(2);
    await deletes.passed;
    expect(statuses(removed)).toEqual([204, 404]);
    bothSucceeded(runs);
    expect(await ownedObjects(realm)).toEqual(convergedObjects(RESOURCE, ['new.example']));
    await nothingLeft(['--realm', realm, ...TRUSTED]);
  });
});
