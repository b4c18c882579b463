/**
 * `clients list|prune` against real registrations: clients made through the real DCR endpoint are
 * found, clients made through the admin API never are, a client with a live session is kept, and
 * prune asks (or needs --yes) before deleting.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signIn } from '../../src/oauth/sign-in.js';
import { FIRST_SEEN } from '../../src/maintenance/dcr-clients.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('prune');
const env = {
  MCP_KEYCLOAK_REALM: realm,
  MCP_KEYCLOAK_TEST_USER: 'alice',
  MCP_KEYCLOAK_TEST_USER_PASSWORD: 'alice-Pw-12345',
};
const REDIRECT = 'http://127.0.0.1:33418/';
const registered: string[] = [];

/** VS Code's own registration request (from its source), sent to the real endpoint. */
async function register(name: string): Promise<string> {
  const response = await fetch(`${keycloak().url}/realms/${realm}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      client_uri: 'https://code.visualstudio.com',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://vscode.dev/redirect', 'http://127.0.0.1/', REDIRECT],
      scope: 'mcp:run',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { client_id: string };
  registered.push(body.client_id);
  return body.client_id;
}

/** Signs alice in through a DCR client (authorization code + PKCE), leaving a live session behind. */
async function holdSession(clientId: string): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${keycloak().url}/realms/${realm}/protocol/openid-connect/auth`);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid mcp:run',
    state: 'x',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const { code } = await signIn({
    authorizationUrl: authorize,
    redirectUri: REDIRECT,
    username: 'alice',
    password: env.MCP_KEYCLOAK_TEST_USER_PASSWORD,
  });
  const token = await fetch(`${keycloak().url}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    }),
  });
  expect(token.status).toBe(200);
}

beforeAll(async () => {
  const applied = await runCli(['apply', '--yes'], { env });
  expect(applied.code, applied.stderr).toBe(0);
  const client = await adminClient();
  // Admin-made clients, one of them even with a UUID-shaped clientId: never DCR's.
  await client.clients.create({ realm, clientId: 'my-app', publicClient: true });
  await client.clients.create({ realm, clientId: '0f2b3c4d-1111-4222-8333-944455556666', publicClient: true });
});
afterAll(() => deleteRealm(realm));

it('lists exactly the clients DCR registered', async () => {
  const idle = await register('Visual Studio Code');
  const busy = await register('Visual Studio Code');
  await holdSession(busy);
  const result = await runCli(['--json', 'clients', 'list'], { env });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { clients: Array<{ clientId: string; sessions: number }> };
  expect(report.clients.map((c) => c.clientId).sort()).toEqual([idle, busy].sort());
  expect(report.clients.find((c) => c.clientId === busy)!.sessions).toBe(1);
});

it('marks clients it sees for the first time instead of deleting them', async () => {
  const result = await runCli(['--json', 'clients', 'prune', '--days', '30', '--yes'], { env });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { deleted: string[]; marked: string[] };
  expect(report.deleted).toEqual([]);
  expect(report.marked).toHaveLength(1); // the idle one; the busy one has a session
  const client = await adminClient();
  const [marked] = await client.clients.find({ realm, clientId: report.marked[0]! });
  expect(Number(marked!.attributes![FIRST_SEEN])).toBeGreaterThan(Date.now() - 60_000);
});

it('without a terminal, refuses to delete unless --yes; then deletes only unused DCR clients', async () => {
  const refused = await runCli(['clients', 'prune', '--days', '0'], { env });
  expect(refused.code).toBe(64);
  expect(refused.stderr).toMatch(/^error: Would delete 1 client\(s\) in realm .*--yes/);

  const result = await runCli(['--json', 'clients', 'prune', '--days', '0', '--yes'], { env });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { deleted: string[] };
  const [idle, busy] = registered;
  expect(report.deleted).toEqual([idle]);
  const client = await adminClient();
  const left = (await client.clients.find({ realm })).map((c) => c.clientId);
  expect(left).toContain(busy);
  expect(left).not.toContain(idle);
  expect(left).toEqual(
    expect.arrayContaining(['my-app', '0f2b3c4d-1111-4222-8333-944455556666', 'account', 'admin-cli']),
  );
});
