/**
 * RFC 9207 (`iss` in the authorization response) and RFC 8707 (`invalid_target`) through the real chain:
 * a realm set up by the built `apply`, the reference server, both SDK client lines, Keycloak's own pages.
 *
 * How each failure is produced, and why that way:
 * - missing iss: the flow registers a client of its own on each run, so the test runs it once, turns on
 *   the Keycloak client attribute `exclude.issuer.from.auth.response` for that very client through the
 *   admin API, and signs in again with the same registration (as an installed client does). Keycloak then
 *   really omits `iss` while its metadata still advertises it. No hook in the flow is needed.
 * - a different iss (mix-up): Keycloak cannot be made to name another issuer, so the test's fetch rewrites
 *   the `iss` of Keycloak's callback redirect, which is what a mix-up attacker's server would hand back.
 *   Everything else is Keycloak's real answer.
 * - invalid_target: only a Keycloak started with `--features=resource-indicators` sends it; the test
 *   deletes the resource client `apply` creates (clientId = resource_url = the MCP URL), and `apply`
 *   restores it. Skipped (and said so) on a Keycloak without that feature, such as the harness's own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings.js';
import {
  ClientStore,
  deleteRegistration,
  REDIRECT_URI,
  runE2e,
  SDK_LINES,
  vscodeClientMetadata,
  type E2eReport,
} from '../../src/e2e/index.js';
import { olderThan } from '../../src/keycloak/versions.js';
import type { RunningServer } from '../../src/server/index.js';
import { command } from '../../src/ui/invocation.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { applyRealm, serveRealm } from '../support/tokens.js';

const realm = uniqueRealm('e2e-iss');
const password = randomBytes(12).toString('base64url');
let server: RunningServer;

const features = (await (await adminClient()).serverInfo.find()).features ?? [];
const resourceIndicators = features.some((f) => f.name === 'RESOURCE_INDICATORS' && f.enabled);

beforeAll(async () => {
  ({ server } = await serveRealm(realm, { password }));
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

const V2 = 'checked by @modelcontextprotocol/client (v2) in finishAuth, before it redeemed the code';
const V1 = 'checked by the e2e flow before finishAuth (the v1 SDK does not check iss)';

function problems(report: E2eReport): string[] {
  return report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.actual}`);
}

const step = (report: E2eReport, id: string) => report.checks.find((c) => c.id === id)!;

/** Sets Keycloak's "Exclude Issuer From Authentication Response" on the client with this clientId. */
async function excludeIss(clientId: string, on: boolean): Promise<void> {
  const admin = await adminClient();
  const [client] = await admin.clients.find({ realm, clientId });
  await admin.clients.update(
    { realm, id: client!.id! },
    { ...client, attributes: { ...client!.attributes, 'exclude.issuer.from.auth.response': String(on) } },
  );
}

async function doctor(
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; checks: Finding[] }> {
  const result = await runCli(['--json', 'doctor', '--realm', realm, '--resource', server.url, ...extra], { env });
  return { code: result.code, checks: (JSON.parse(result.stdout) as { checks: Finding[] }).checks };
}

/** Counts token requests and, when `iss` is given, rewrites the iss of Keycloak's redirect to the client (a mix-up). */
function wire(iss?: string): { fetch: typeof fetch; tokenRequests: () => number } {
  let tokenRequests = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.method === 'POST' && new URL(request.url).pathname.endsWith('/protocol/openid-connect/token'))
      tokenRequests += 1;
    const response = await fetch(input, init);
    const location = response.headers.get('location');
    if (iss && location?.startsWith(REDIRECT_URI)) {
      const next = new URL(location);
      if (next.searchParams.has('iss')) {
        next.searchParams.set('iss', iss);
        const headers = new Headers(response.headers);
        headers.set('location', next.href);
        await response.body?.cancel();
        return new Response(null, { status: response.status, headers });
      }
    }
    return response;
  };
  return { fetch: wrapped, tokenRequests: () => tokenRequests };
}

describe('doctor reads RFC 9207 and CIMD from Keycloak\u2019s metadata', () => {
  it('as.iss_parameter passes (Keycloak always advertises iss); as.cimd says what this server was started with, never a warning', async () => {
    const { checks } = await doctor();
    const find = (id: string) => checks.find((c) => c.id === id)!;
    expect(find('as.iss_parameter')).toMatchObject({
      status: 'pass',
      actual: 'authorization_response_iss_parameter_supported: true',
    });
    const cimd = features.some((f) => f.name === 'CIMD' && f.enabled);
    expect(find('as.cimd').status).toBe('pass');
    expect(find('as.cimd').actual).toMatch(
      cimd ? /^available: / : /^not available .*start Keycloak with --features=cimd \(26\.6\+\)$/,
    );
    expect(find('registration.iss')).toMatchObject({
      status: 'pass',
      actual: expect.stringMatching(/^no client has exclude\.issuer\.from\.auth\.response on, \d+ clients read$/),
    });
  });
});

describe.each(SDK_LINES)('RFC 9207 with the %s SDK client', (sdk) => {
  it('break and fix: a client whose responses lack iss stops at e2e.iss (the code is not redeemed), and doctor names it', async () => {
    const store = new ClientStore();
    const first = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store });
    expect(problems(first)).toEqual([]);
    expect(step(first, 'e2e.iss').actual).toBe(`iss ${server.issuer} equals the issuer; ${sdk === 'v2' ? V2 : V1}`);
    const clientId = first.clientId!;
    try {
      await excludeIss(clientId, true);
      store.forgetTokens();
      const counted = wire();
      const broken = await runE2e({
        serverUrl: server.url,
        username: 'alice',
        password,
        sdk,
        store,
        fetch: counted.fetch,
      });
      expect(broken.ok).toBe(false);
      expect(broken.signedIn).toBe(true);
      expect(step(broken, 'e2e.consent').status).toBe('pass');
      expect(step(broken, 'e2e.iss')).toMatchObject({
        status: 'fail',
        actual: `the redirect carried no iss although the metadata advertises authorization_response_iss_parameter_supported; ${sdk === 'v2' ? V2 : V1}`,
        fix: expect.stringContaining(`"Exclude Issuer From Authentication Response" for client ${clientId}`),
      });
      expect(
        broken.checks.slice(broken.checks.findIndex((c) => c.id === 'e2e.iss') + 1).every((c) => c.status === 'skip'),
      ).toBe(true);
      expect(counted.tokenRequests()).toBe(0);
      expect(store.tokens).toBeUndefined();

      const named = await doctor();
      const iss = named.checks.find((c) => c.id === 'registration.iss')!;
      expect(iss.status).toBe('warn');
      expect(iss.actual).toBe(`1 client(s) with exclude.issuer.from.auth.response = true: "${clientId}"`);
      expect(iss.why).toMatch(/refuse the response as a possible mix-up attack/);
      expect(named.code).toBe(0); // a warning: doctor cannot tell whether MCP clients use that client
    } finally {
      await excludeIss(clientId, false);
    }
    store.forgetTokens();
    const fixed = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store });
    expect(problems(fixed)).toEqual([]);
    expect((await doctor()).checks.find((c) => c.id === 'registration.iss')?.status).toBe('pass');
    expect((await deleteRegistration(store)).deleted).toBe(true);
  });

  it('a mix-up: a redirect whose iss names another server is refused before any token request', async () => {
    const elsewhere = 'http://127.0.0.1:1/realms/elsewhere';
    const store = new ClientStore();
    const mixedUp = wire(elsewhere);
    const report = await runE2e({
      serverUrl: server.url,
      username: 'alice',
      password,
      sdk,
      store,
      fetch: mixedUp.fetch,
    });
    expect(report.ok).toBe(false);
    expect(step(report, 'e2e.iss')).toMatchObject({
      status: 'fail',
      actual: `the redirect carried iss "${elsewhere}", but the issuer is ${server.issuer}; ${sdk === 'v2' ? V2 : V1}`,
      fix: expect.stringMatching(/mix-up/),
    });
    expect(step(report, 'e2e.token').status).toBe('skip');
    expect(mixedUp.tokenRequests()).toBe(0);
    expect(store.tokens).toBeUndefined();
    await deleteRegistration(store);
  });

  it('poisoned metadata: a document whose issuer is not the one its URL names is refused before registration or sign-in', async () => {
    const elsewhere = 'http://127.0.0.1:1/realms/elsewhere';
    let registrations = 0;
    let authorizations = 0;
    // What a mix-up attacker's metadata looks like: Keycloak's real document with another issuer (RFC 8414 §3.3).
    const poisoned: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const path = new URL(request.url).pathname;
      if (request.method === 'POST' && path.includes('/clients-registrations/')) registrations += 1;
      if (path.endsWith('/protocol/openid-connect/auth')) authorizations += 1;
      const response = await fetch(input, init);
      if (response.status !== 200 || !/\/\.well-known\/(oauth-authorization-server|openid-configuration)/.test(path))
        return response;
      const body = (await response.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, issuer: elsewhere }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const store = new ClientStore();
    const report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store, fetch: poisoned });
    expect(report.ok).toBe(false);
    const failed = report.checks.find((c) => c.status === 'fail')!;
    // v2 refuses it in its discovery (IssuerMismatchError); for v1, which does not compare, the flow does.
    expect(['e2e.prm', 'e2e.as-metadata']).toContain(failed.id);
    expect(failed.actual).toContain(elsewhere);
    if (sdk === 'v1') expect(failed.actual).toContain('(RFC 8414 §3.3): its endpoints were not used');
    expect(registrations).toBe(0);
    expect(authorizations).toBe(0);
    expect(store.clientInformation).toBeUndefined();
  });
});

describe.skipIf(!resourceIndicators)('invalid_target (Keycloak with --features=resource-indicators)', () => {
  it.each(SDK_LINES)(
    '%s: without the resource client the token request is explained; doctor --fix (v2) or apply (v1) restores it',
    async (sdk) => {
      const admin = await adminClient();
      const [resourceClient] = await admin.clients.find({ realm, clientId: server.url });
      expect(resourceClient?.attributes?.resource_url, 'apply creates the resource client').toBe(server.url);
      await admin.clients.del({ realm, id: resourceClient!.id! });
      try {
        const store = new ClientStore();
        const report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store });
        await deleteRegistration(store);
        const token = step(report, 'e2e.token');
        expect(token.status).toBe('fail');
        expect(token.actual).toMatch(/The requested resource is invalid, missing, unknown, or malformed/);
        expect(token.fix).toBe(
          `Keycloak runs with resource indicators (RFC 8707) and no client of realm ${realm} has resource_url = ${server.url}: run \`${command('apply')}\` (it creates the resource client).`,
        );
        // RFC 9207 was satisfied: the SDK (v2) or the flow (v1) compared iss before the token request.
        expect(step(report, 'e2e.iss')).toMatchObject({
          status: 'pass',
          actual: `iss ${server.issuer} equals the issuer; ${sdk === 'v2' ? V2 : V1}`,
        });

        if (sdk === 'v2') {
          // doctor --e2e: the same finding, with apply spelled for this target, and marked fixable.
          const e2e = await doctor(['--e2e', '--test-user', 'alice'], { MCP_KEYCLOAK_TEST_USER_PASSWORD: password });
          const viaDoctor = e2e.checks.find((c) => c.id === 'e2e.token')!;
          expect(e2e.code).toBe(1);
          expect(viaDoctor).toMatchObject({ status: 'fail', fixable: true });
          // Spelled the way the CLI process was run (node …/bin/mcp-keycloak.js here), with this target's flags.
          expect(viaDoctor.fix).toContain(
            ` apply --keycloak-url ${keycloak().url} --realm ${realm} --resource ${server.url}\` (it creates the resource client).`,
          );
          // fixable is true to its word: doctor --fix (the apply engine) recreates the resource client and the chain passes again.
          const repaired = await doctor(['--fix', '--yes', '--e2e', '--test-user', 'alice'], {
            MCP_KEYCLOAK_TEST_USER_PASSWORD: password,
          });
          expect(repaired.checks.filter((c) => c.id.startsWith('e2e') && c.status !== 'pass')).toEqual([]);
          expect(repaired.code).toBe(0);
        }
      } finally {
        await applyRealm(realm, server.url, password); // v1's repair; after v2's doctor --fix, a no-op
      }
      const store = new ClientStore();
      const restored = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store });
      await deleteRegistration(store);
      expect(problems(restored)).toEqual([]);
    },
  );

  it.each(SDK_LINES)(
    '%s: a client without refresh tokens meets Keycloak\u2019s 500 (keycloak#50251), explained; "Use refresh tokens" on makes the same client work',
    async (sdk) => {
      const version = (await (await adminClient()).serverInfo.find()).systemInfo?.version ?? '';
      const store = new ClientStore();
      // A client that registers without the refresh_token grant: Keycloak sets "Use refresh tokens" off for it.
      const clientMetadata = { ...vscodeClientMetadata(), grant_types: ['authorization_code'] };
      try {
        const report = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store, clientMetadata });
        const token = step(report, 'e2e.token');
        // Seen on 26.7.3; a Keycloak with the fix (upstream's main has the null check) issues the token.
        if (!olderThan(version, '26.8.0')) {
          expect(problems(report)).toEqual([]);
          return;
        }
        expect(token).toMatchObject({
          status: 'fail',
          actual: 'Keycloak answered HTTP 500 to the token request: For more on this error consult the server log.',
        });
        expect(token.fix).toContain(
          '(keycloak#50251): this client registered grant_types ["authorization_code"], without refresh_token',
        );
        expect(token.fix).toContain('turn on "Use refresh tokens" for the client');

        // The fix the finding names, through the admin API: the same registration then gets its token.
        const admin = await adminClient();
        const [client] = await admin.clients.find({ realm, clientId: store.clientInformation!.client_id });
        expect(client!.attributes!['use.refresh.tokens']).toBe('false');
        await admin.clients.update(
          { realm, id: client!.id! },
          { ...client, attributes: { ...client!.attributes, 'use.refresh.tokens': 'true' } },
        );
        store.forgetTokens();
        const fixed = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store, clientMetadata });
        expect(problems(fixed)).toEqual([]);
      } finally {
        await deleteRegistration(store);
      }
    },
  );
});
