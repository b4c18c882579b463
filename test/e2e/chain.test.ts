/**
 * The whole chain with real MCP clients: a realm set up by the built `apply`, the reference server, and the
 * official SDK clients (v1 and v2) starting from nothing but the server URL. A headless user signs in on
 * Keycloak's real login and consent pages.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClientStore, runE2e, SDK_LINES, type E2eReport } from '../../src/e2e/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, uniqueRealm } from '../support/keycloak.js';
import { serveRealm } from '../support/tokens.js';

const realm = uniqueRealm('e2e-chain');
const password = randomBytes(12).toString('base64url');
let server: RunningServer;

beforeAll(async () => {
  ({ server } = await serveRealm(realm, { password }));
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

/** Clients of the realm that dynamic registration created (VS Code's client_name). */
async function registeredClients(): Promise<number> {
  const admin = await adminClient();
  const clients = await admin.clients.find({ realm });
  return clients.filter((c) => c.name === 'Visual Studio Code').length;
}

it('runs on the Keycloak the run asked for (the version the server reports, printed)', async () => {
  const reported = (await (await adminClient()).serverInfo.find()).systemInfo?.version;
  process.stdout.write(`[e2e chain] Keycloak ${reported}\n`);
  expect(reported).toBe(inject('keycloakVersion'));
  // The second run of \`npm test\` (scripts/test-matrix.mjs --chain) asks for the oldest supported version
  // and drops KEYCLOAK_URL; were a developer's shared server used instead, this would fail, not pass twice.
  if (process.env.KEYCLOAK_VERSION && !process.env.KEYCLOAK_URL) expect(reported).toBe(process.env.KEYCLOAK_VERSION);
});

function problems(report: E2eReport): string[] {
  return report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.actual}`);
}

/** Nothing secret may end up in a report that doctor prints. */
function expectNoSecrets(report: E2eReport, store: ClientStore): void {
  const text = JSON.stringify(report);
  expect(text).not.toContain(password);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  if (store.tokens?.refresh_token) expect(text).not.toContain(store.tokens.refresh_token);
}

describe.each(SDK_LINES)('the %s SDK client', (sdk) => {
  const store = new ClientStore();
  let first: E2eReport;

  it('goes from the bare URL to 59.25: 401, PRM, discovery, registration, sign-in, token, tools', async () => {
    const before = await registeredClients();
    first = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store });

    expect(problems(first)).toEqual([]);
    expect(first.ok).toBe(true);
    expect(first.checks.map((c) => c.id)).toEqual([
      'e2e.challenge',
      'e2e.prm',
      'e2e.as-metadata',
      'e2e.register',
      'e2e.authorize-url',
      'e2e.sign-in',
      'e2e.consent',
      'e2e.iss',
      'e2e.token',
      'e2e.claims',
      'e2e.connect',
      'e2e.tools',
      'e2e.calculator',
    ]);
    expect(first.tools).toEqual(expect.arrayContaining(['add_numbers', 'multiply_numbers', 'divide_numbers']));
    expect(first.calculatorResult).toBe(59.25);
    // The token is for this server and carries the MCP scope (Audience mapper + default scope from apply).
    expect(first.token?.aud).toContain(server.url);
    expect(first.token?.scope).toContain('mcp:run');
    expect(first.token?.azp).toBe(first.clientId);
    expect(first.registered).toBe(true);
    expect(first.signedIn).toBe(true);
    expect(first.checks.find((c) => c.id === 'e2e.consent')?.actual).toMatch(/consent page shown and accepted/);
    // RFC 9207: Keycloak's redirect names the issuer; v2 compares it in finishAuth, for v1 the flow does.
    expect(first.checks.find((c) => c.id === 'e2e.iss')?.actual).toBe(
      `iss ${server.issuer} equals the issuer; ${sdk === 'v2' ? 'checked by @modelcontextprotocol/client (v2) in finishAuth, before it redeemed the code' : 'checked by the e2e flow before finishAuth (the v1 SDK does not check iss)'}`,
    );
    expect(store.registrations).toBe(1);
    expect(await registeredClients()).toBe(before + 1);
    // v1 speaks the 2025 handshake; v2 negotiates the stateless 2026-07-28 revision the server offers.
    expect(first.protocolVersion).toBe(sdk === 'v1' ? '2025-11-25' : '2026-07-28');
    expectNoSecrets(first, store);
  });

  it('a second connection signs in again with the same registration instead of registering again', async () => {
    expect(first?.ok).toBe(true);
    const before = await registeredClients();
    store.forgetTokens(); // as after the token and its refresh expired
    const second = await runE2e({ serverUrl: server.url, username: 'alice', password, sdk, store });

    expect(problems(second)).toEqual([]);
    expect(second.registered).toBe(false);
    expect(second.signedIn).toBe(true);
    expect(second.clientId).toBe(first.clientId);
    expect(second.checks.find((c) => c.id === 'e2e.register')?.actual).toMatch(/^reused the stored registration/);
    expect(store.registrations).toBe(1);
    expect(await registeredClients()).toBe(before);
    expect(second.calculatorResult).toBe(59.25);
  });

  it('a third connection with the stored token needs no sign-in at all', async () => {
    const third = await runE2e({ serverUrl: server.url, username: 'alice', password: 'not-used', sdk, store });
    expect(third.ok).toBe(true);
    expect(third.signedIn).toBe(false);
    expect(third.registered).toBe(false);
    expect(third.calculatorResult).toBe(59.25);
  });
});
