/**
 * What plan and apply do when Keycloak misbehaves: the real Keycloak behind the fault proxy
 * (test/support/fault-proxy.ts), which stalls, resets or fails chosen requests. A stalled call fails
 * within --timeout with a sentence naming it; an idempotent read that meets a reset or a 503 is sent
 * again and the command succeeds; a write whose answer is lost is settled by reading it back (made: the
 * run goes on; not made: a worded error, and the next apply completes it without duplicates). Also: a
 * URL that answers HTML to every path is "not Keycloak", not a legacy /auth base.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type WriteFault } from '../support/fault-proxy.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm, type CliResult } from '../support/keycloak.js';
import { anonymousPolicies, convergedObjects, ownedObjects } from '../support/realm-state.js';
import type { ApplyJson, PlanJson } from '../support/cli-json.js';

const RESOURCE = 'http://localhost:8000/mcp';

const realm = uniqueRealm('faults');
let proxy: FaultProxy;

/** Runs the CLI against the proxy; returns the result and how long it took. */
async function viaProxy(args: string[]): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const result = await runCli(args, { env: { KEYCLOAK_URL: proxy.url } });
  return { ...result, ms: Date.now() - started };
}

function oneErrorLine(result: CliResult): string {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at |UND_ERR|ECONNRESET|TypeError/);
  return lines[0]!;
}

async function scopesNamed(name: string): Promise<number> {
  const client = await adminClient();
  return (await client.clientScopes.find({ realm })).filter((scope) => scope.name === name).length;
}

async function deleteScope(name: string): Promise<void> {
  const client = await adminClient();
  const scope = (await client.clientScopes.find({ realm })).find((s) => s.name === name);
  await client.clientScopes.del({ realm, id: scope!.id! });
}

beforeAll(async () => {
  proxy = await startFaultProxy(keycloak().url);
  const result = await runCli(['apply', '--yes', '--realm', realm]);
  expect(result.code).toBe(0);
});
afterEach(() => proxy.clear());
afterAll(async () => {
  await proxy.close();
  await deleteRealm(realm);
});

describe('a Keycloak that does not answer', () => {
  it('plan fails within --timeout, naming the call that did not answer', async () => {
    proxy.stall({ method: 'GET', path: `/admin/realms/${realm}/client-scopes` });
    const result = await viaProxy(['plan', '--timeout', '2', '--realm', realm]);
    expect(oneErrorLine(result)).toBe(
      `error: Keycloak did not answer within 2 s while listing the client scopes of realm "${realm}" (GET /admin/realms/${realm}/client-scopes): check that Keycloak is healthy (its log, CPU, database) or raise --timeout.`,
    );
    // It waited for the timeout, and not much more: before, undici gave up after 300 s.
    expect(result.ms).toBeGreaterThanOrEqual(2000);
    expect(result.ms).toBeLessThan(12_000);
  });

  it('apply with a stalled write fails within --timeout too, and says so', async () => {
    await deleteScope('mcp:run');
    proxy.stall({ method: 'POST', path: `/admin/realms/${realm}/client-scopes` });
    const result = await viaProxy(['apply', '--yes', '--timeout', '2', '--realm', realm]);
    expect(oneErrorLine(result)).toMatch(
      new RegExp(
        `^error: Keycloak did not answer within 2 s while .*"mcp:run" \\(POST /admin/realms/${realm}/client-scopes\\), so it may or may not have made this change: check that Keycloak is healthy \\(its log, CPU, database\\) or raise --timeout\\. Running the same command again completes it: it reads Keycloak afresh and makes only the changes still missing\\.$`,
      ),
    );
    expect(result.ms).toBeLessThan(12_000);
    proxy.clear();
    expect((await viaProxy(['apply', '--yes', '--realm', realm])).code).toBe(0);
    expect(await scopesNamed('mcp:run')).toBe(1);
  });

  it('the request is named by method and path, never with its query', async () => {
    proxy.stall({ method: 'GET', path: `/admin/realms/${realm}/users` });
    const result = await runCli(['plan', '--timeout', '1', '--realm', realm, '--test-user', 'alice'], {
      env: { KEYCLOAK_URL: proxy.url, MCP_KEYCLOAK_TEST_USER_PASSWORD: 'not-used-here-1' },
    });
    expect(oneErrorLine(result)).toBe(
      `error: Keycloak did not answer within 1 s while looking up test user "alice" in realm "${realm}" (GET /admin/realms/${realm}/users): check that Keycloak is healthy (its log, CPU, database) or raise --timeout.`,
    );
  });

  it('MCP_KEYCLOAK_TIMEOUT sets it too, and a stalled login is named as such', async () => {
    proxy.stall({ method: 'POST', path: '/realms/master/protocol/openid-connect/token' });
    const started = Date.now();
    const result = await runCli(['plan', '--realm', realm], {
      env: { KEYCLOAK_URL: proxy.url, MCP_KEYCLOAK_TIMEOUT: '1.5' },
    });
    expect(oneErrorLine(result)).toBe(
      `error: Keycloak did not answer within 1.5 s while logging in as admin "${keycloak().adminUsername}" in realm "master" (POST /realms/master/protocol/openid-connect/token): check that Keycloak is healthy (its log, CPU, database) or raise --timeout.`,
    );
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});

describe('a read that fails once', () => {
  it.each(['reset', 503, 502] as const)('is sent again after a %s and the command succeeds', async (fault) => {
    const path = `/admin/realms/${realm}/client-scopes`;
    proxy.failOnce({ method: 'GET', path }, fault);
    const before = proxy.count({ method: 'GET', path });
    const result = await viaProxy(['--json', 'plan', '--realm', realm]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as PlanJson;
    expect(plan.changes).toEqual([]);
    // The failed attempt and the retry; both are counted: login (other), realm, scopes twice, defaults, policies,
    // resource client, client profiles and client policies.
    expect(proxy.count({ method: 'GET', path }) - before).toBe(2);
    expect(plan.requests).toEqual({ reads: 8, writes: 0, other: 1 });
  });
});

describe('a write that fails', () => {
  // The drift is a deleted scope, so apply writes: 1 the scope, 2 its audience mapper, 3 the default scope.
  const cases: Array<[WriteFault, number, RegExp]> = [
    [
      'status-500',
      2,
      /Keycloak answered 500 Internal Server Error to POST \/admin\/realms\/[^/]+\/client-scopes\/[^/]+\/protocol-mappers\/models\./,
    ],
    [
      'reset-before',
      3,
      /the connection was reset \(PUT \/admin\/realms\/[^/]+\/default-default-client-scopes\/[^/]+\), so Keycloak may or may not have made this change\./,
    ],
  ];
  it.each(cases)(
    '%s on write %i (never made): read back, still missing, a worded error; the next apply completes it without duplicates',
    async (fault, nth, pattern) => {
      await deleteScope('mcp:run');
      proxy.failWrite(nth, fault);
      const failed = await viaProxy(['apply', '--yes', '--realm', realm]);
      const line = oneErrorLine(failed);
      expect(line).toMatch(pattern);
      expect(line).toMatch(
        /Running the same command again completes it: it reads Keycloak afresh and makes only the changes still missing\.$/,
      );

      const again = await viaProxy(['--json', 'apply', '--yes', '--realm', realm]);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      // Whatever Keycloak made before the failure is kept, not made twice.
      expect((JSON.parse(again.stdout) as ApplyJson).applied.length).toBe(3 - (nth - 1));
      expect(await scopesNamed('mcp:run')).toBe(1);
      const plan = JSON.parse((await viaProxy(['--json', 'plan', '--realm', realm])).stdout) as PlanJson;
      expect(plan.changes).toEqual([]);
    },
  );

  it('reset-after on the create (made, answer lost): read back, found made, and the same run completes', async () => {
    await deleteScope('mcp:run');
    proxy.failWrite(1, 'reset-after');
    const result = await viaProxy(['--json', 'apply', '--yes', '--realm', realm]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The scope is not listed as this run's (who made it cannot be told); the mapper and default scope are.
    expect((JSON.parse(result.stdout) as ApplyJson).applied.map((c: { kind: string }) => c.kind)).toEqual([
      'audience-mapper',
      'default-scope',
    ]);
    expect(await scopesNamed('mcp:run')).toBe(1);
    const plan = JSON.parse((await viaProxy(['--json', 'plan', '--realm', realm])).stdout) as PlanJson;
    expect(plan.changes).toEqual([]);
  });
});

describe("a delete whose answer is lost (Keycloak's 500 to the loser of two concurrent deletes)", () => {
  const bare: string[] = [];
  afterAll(async () => {
    for (const name of bare) await deleteRealm(name);
  });

  /** A realm with Keycloak's defaults only: apply deletes its Trusted Hosts policy. */
  async function bareRealm(): Promise<{ name: string; trustedId: string }> {
    const name = uniqueRealm('faults-bare');
    bare.push(name);
    await (await adminClient()).realms.create({ realm: name, enabled: true });
    const [trusted] = await anonymousPolicies(name, 'trusted-hosts');
    return { name, trustedId: trusted!.id! };
  }

  it('made, then answered 500: read back, gone, exit 0 and one state', async () => {
    const { name, trustedId } = await bareRealm();
    const contested = { method: 'DELETE', path: `/admin/realms/${name}/components/${trustedId}` };
    proxy.failWrite(1, 'status-500-after', contested);
    const result = await viaProxy(['--json', 'apply', '--yes', '--realm', name]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Keycloak made the delete; the CLI saw a 500.
    expect(
      proxy.log.filter((seen) => seen.method === 'DELETE' && seen.path === contested.path).map((seen) => seen.status),
    ).toEqual([204]);
    // As for a 404, a delete found made is not listed as this run's.
    expect(
      (JSON.parse(result.stdout) as ApplyJson).applied
        .filter((c: { kind: string }) => c.kind === 'registration-policy')
        .map((c: { action: string; name: string }) => `${c.action} ${c.name}`),
    ).toEqual(['update Allowed Client Scopes']);
    expect(await ownedObjects(name)).toEqual(convergedObjects(RESOURCE));
    const again = JSON.parse((await viaProxy(['--json', 'apply', '--yes', '--realm', name])).stdout) as ApplyJson;
    expect(again.applied).toEqual([]);
    expect(again.requests.writes).toBe(0);
  });

  it('not made (500 without forwarding): read back, still there, the worded error', async () => {
    const { name, trustedId } = await bareRealm();
    const contested = { method: 'DELETE', path: `/admin/realms/${name}/components/${trustedId}` };
    proxy.failWrite(1, 'status-500', contested);
    const result = await viaProxy(['apply', '--yes', '--realm', name]);
    expect(oneErrorLine(result)).toBe(
      `error: Deleting registration policy "Trusted Hosts" failed: Keycloak answered 500 Internal Server Error to DELETE ${contested.path}. Running the same command again completes it: it reads Keycloak afresh and makes only the changes still missing.`,
    );
    expect(await anonymousPolicies(name, 'trusted-hosts')).toHaveLength(1);
  });
});

describe('what answers at the URL', () => {
  let html: Server;
  let htmlUrl = '';
  beforeAll(async () => {
    // A proxy's landing page: 200 and the same HTML for every path, /auth/… included.
    html = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><head><title>Welcome to nginx!</title></head></html>'),
    );
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    const address = html.address();
    htmlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => html.close(() => resolve())));

  it('a server answering HTML to every path is not called a legacy /auth Keycloak', async () => {
    const result = await runCli(['plan', '--realm', realm, '--keycloak-url', htmlUrl]);
    expect(oneErrorLine(result)).toBe(
      `error: ${htmlUrl} does not look like Keycloak: GET /realms/master/.well-known/openid-configuration answered 200 (text/html, page title "Welcome to nginx!"). Check --keycloak-url / KEYCLOAK_URL.`,
    );
  });

  /** doctor's keycloak.realm finding for `args`. */
  async function doctorRealmFinding(args: string[]): Promise<{ status: string; actual: string; fix: string }> {
    const result = await runCli(['--json', 'doctor', '--resource', 'http://127.0.0.1:65000/mcp', ...args]);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as {
      checks: Array<{ id: string; status: string; actual: string; fix: string }>;
    };
    return report.checks.find((check) => check.id === 'keycloak.realm')!;
  }

  it('doctor against that server: not Keycloak, so the fix is --keycloak-url, not apply', async () => {
    const finding = await doctorRealmFinding(['--realm', realm, '--keycloak-url', htmlUrl]);
    expect(finding.status).toBe('fail');
    expect(finding.actual).toContain('does not look like Keycloak');
    expect(finding.fix).toBe(
      `Correct --keycloak-url / KEYCLOAK_URL: ${htmlUrl} is another server; it must be Keycloak's base URL (e.g. http://127.0.0.1:8080, or …/auth for a legacy Keycloak).`,
    );
  });

  it('doctor on a realm Keycloak does not have: named as such, and the fix is apply', async () => {
    const missing = uniqueRealm('faults-missing');
    const finding = await doctorRealmFinding(['--realm', missing]);
    expect(finding.status).toBe('fail');
    expect(finding.actual).toMatch(
      new RegExp(
        `^Keycloak at .* has no realm "${missing}" \\(GET /realms/${missing}/\\.well-known/openid-configuration answered 404 "Realm does not exist"\\)\\.$`,
      ),
    );
    expect(finding.fix).toMatch(/^Create the realm with `.*apply.*`, or check --realm\.$/);
  });
});
