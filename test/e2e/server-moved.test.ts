/**
 * An MCP server that moves to another authorization server in the middle of a session (SEP-2352, the
 * conformance suite's `auth/authorization-server-migration`), with real Keycloak realms as the two
 * authorization servers: realm A and realm B both set up by the built `apply` for the same MCP URL. The
 * reference server for A answers until the client's first `tools/list`; then it is replaced, on the same
 * port, by the reference server for B, which refuses A's token with 401 and names B in its Protected
 * Resource Metadata. The flow must discover again, register a new client at B (never show A's client to B),
 * sign the user in at B and list the tools.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientStore, deleteRegistration, runE2e, SDK_LINES } from '../../src/e2e/index.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { freePort } from '../../src/local/process.js';
import { adminClient, deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { applyRealm } from '../support/tokens.js';

const realmA = uniqueRealm('e2e-moved-a');
const realmB = uniqueRealm('e2e-moved-b');
const password = randomBytes(12).toString('base64url');
let port: number;
let resource: string;
let server: RunningServer | undefined;

const serve = (realm: string) =>
  startReferenceServer({ keycloakUrl: keycloak().url, realm, resource, scopes: ['mcp:run'], host: '127.0.0.1', port });

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await Promise.all([applyRealm(realmA, resource, password), applyRealm(realmB, resource, password)]);
});

afterAll(async () => {
  await server?.close();
  await Promise.all([deleteRealm(realmA), deleteRealm(realmB)]);
});

/** The clientIds Keycloak's registration created in `realm` (VS Code's client_name). */
async function registered(realm: string): Promise<string[]> {
  const clients = await (await adminClient()).clients.find({ realm });
  return clients.filter((c) => c.name === 'Visual Studio Code').map((c) => c.clientId!);
}

describe.each(SDK_LINES)('the %s SDK client', (sdk) => {
  it('meets a 401 after the server moved to realm B: discovers again, registers at B, signs in at B, lists the tools', async () => {
    const [beforeA, beforeB] = await Promise.all([registered(realmA), registered(realmB)]);
    server = await serve(realmA);
    let moved = false;
    const clientIdsSeenByB = new Set<string>();
    // Swaps the server for realm B's just before the first tools/list reaches it, as a redeployment would.
    const swapping: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const body = request.method === 'POST' ? await request.clone().text() : '';
      if (!moved && request.url === resource && body.includes('"tools/list"')) {
        moved = true;
        await server!.close();
        server = await serve(realmB);
      }
      const clientId = new URL(request.url).searchParams.get('client_id');
      if (moved && clientId && request.url.includes(`/realms/${realmB}/`)) clientIdsSeenByB.add(clientId);
      return fetch(request);
    };
    const store = new ClientStore();
    const report = await runE2e({
      serverUrl: resource,
      username: 'alice',
      password,
      sdk,
      store,
      fetch: swapping,
    }).finally(async () => {
      await server?.close();
      server = undefined;
    });

    expect(moved).toBe(true);
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.actual}`)).toEqual([]);
    expect(report.calculatorResult).toBe(59.25);
    const tools = report.checks.find((c) => c.id === 'e2e.tools')!;
    const issuerA = `${keycloak().url}/realms/${realmA}`;
    const issuerB = `${keycloak().url}/realms/${realmB}`;
    expect(tools.actual).toMatch(
      new RegExp(
        `a 401 in the middle of the session: discovered again \\(the authorization server moved from ${issuerA}/? to ${issuerB}/?\\), registered a new client \\(\\S+\\), signed in again`,
      ),
    );
    // One new client in each realm; A's client_id never reached B.
    const [afterA, afterB] = await Promise.all([registered(realmA), registered(realmB)]);
    const newInA = afterA.filter((id) => !beforeA.includes(id));
    expect(newInA).toHaveLength(1);
    expect(afterB.filter((id) => !beforeB.includes(id))).toEqual([store.clientInformation!.client_id]);
    expect(clientIdsSeenByB.size).toBeGreaterThan(0);
    expect(clientIdsSeenByB.has(newInA[0]!)).toBe(false);
    await deleteRegistration(store);
  });
});
