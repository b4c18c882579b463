/**
 * Machine clients (OAuth client credentials) against the real Keycloak, in whichever mode it runs (resource
 * indicators on or off; the test names it): `apply --machine-client` creates a service-account client per entry
 * with its credentials in a 0600 file and no secret in the output, a second apply writes nothing, and the
 * official SDK v2 client's ClientCredentialsProvider and PrivateKeyJwtProvider get tokens that the reference
 * server accepts. The hole it closes: a client registered ANONYMOUSLY with `grant_types: ["client_credentials"]`
 * gets a service-account token with the MCP audience and scope, and serve refuses it. `serve --machine-client`
 * and `doctor --machine-client` run as the built CLI. destroy removes both clients and their files; export shows
 * them without secrets.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client,
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import type { MachineCredentials } from '../../src/realm/machine-clients.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { deleteRealm, keycloak, runCli, startServe, uniqueRealm } from '../support/keycloak.js';
import { parseChallenge, postToolsCall } from '../support/mcp-http.js';

const realm = uniqueRealm('machine');
const state = mkdtempSync(join(tmpdir(), 'mcp-keycloak-machine-'));
const env = { MCP_KEYCLOAK_STATE: state };
const mode = inject('keycloakFeatures').includes('resource-indicators') ? 'resource indicators on' : 'features off';
const MACHINES = ['--machine-client', 'ci-jwt', '--machine-client', 'ci-secret:client_secret_basic'];
let resource: string;
let port: number;
let server: RunningServer | undefined;
const issuer = () => `${keycloak().url}/realms/${realm}`;
const credentials = (clientId: string) =>
  JSON.parse(readFileSync(join(state, 'machine-clients', realm, `${clientId}.json`), 'utf8')) as MachineCredentials;
const target = () => ['--realm', realm, '--resource', resource];
const serveOptions = () => ({
  keycloakUrl: keycloak().url,
  realm,
  resource,
  scopes: ['mcp:run'],
  host: '127.0.0.1',
  port,
});

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
});
afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
  rmSync(state, { recursive: true, force: true });
});

/** An SDK v2 client authenticating as a machine client, calling add_numbers; resolves to the tool's text. */
async function callAsMachine(clientId: string): Promise<string> {
  const file = credentials(clientId);
  const authProvider =
    file.auth === 'private_key_jwt'
      ? new PrivateKeyJwtProvider({
          clientId,
          privateKey: file.privateKey as Record<string, unknown>,
          algorithm: String(file.privateKey!.alg),
          expectedIssuer: issuer(),
        })
      : new ClientCredentialsProvider({ clientId, clientSecret: file.clientSecret!, expectedIssuer: issuer() });
  const client = new Client({ name: 'machine-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider }));
  try {
    const result = await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
    return JSON.stringify(result.content);
  } finally {
    await client.close();
  }
}

/** Registers a client anonymously (no token) with only client_credentials, as anyone on the network can, and gets its token. */
async function anonymousServiceAccountToken(): Promise<string> {
  const registration = await fetch(`${issuer()}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'anonymous machine',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  expect(registration.status).toBe(201);
  const { client_id, client_secret } = (await registration.json()) as { client_id: string; client_secret: string };
  const basic = Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`).toString('base64');
  // Without `resource`: Keycloak answers 500 to this client with it under resource indicators (keycloak#50251).
  const answer = await fetch(`${issuer()}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { access_token: string }).access_token;
}

describe(`machine clients (Keycloak with ${mode})`, () => {
  it('apply creates both clients, writes 0600 credentials files, prints no secret; a second apply writes nothing', async () => {
    const first = await runCli(['--json', 'apply', '--yes', ...target(), ...MACHINES], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = (JSON.parse(first.stdout) as { applied: { kind: string; name: string }[] }).applied;
    expect(applied.filter((c) => c.kind === 'machine-client').map((c) => c.name)).toEqual(['ci-jwt', 'ci-secret']);
    const jwt = credentials('ci-jwt');
    const secret = credentials('ci-secret');
    expect(jwt.privateKey?.d).toBeTruthy();
    expect(secret.clientSecret).toBeTruthy();
    for (const id of ['ci-jwt', 'ci-secret'])
      expect(statSync(join(state, 'machine-clients', realm, `${id}.json`)).mode & 0o777).toBe(0o600);
    expect(first.stdout).not.toContain(secret.clientSecret!);
    expect(first.stdout).not.toContain(String(jwt.privateKey!.d));

    const second = await runCli(['--json', 'apply', '--yes', ...target(), ...MACHINES], { env });
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { applied: unknown[] }).applied).toEqual([]);
  });

  it('export (config file) shows the machine clients with their public key, without the secret', async () => {
    const config = join(state, 'mcp-keycloak.json');
    const machineClients = [{ clientId: 'ci-jwt' }, { clientId: 'ci-secret', auth: 'client_secret_basic' }];
    writeFileSync(config, JSON.stringify({ realm, resources: [{ url: resource }], machineClients }));
    const result = await runCli(['export', '-c', config], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"clientId": "ci-secret"');
    expect(result.stdout).toContain('"serviceAccountsEnabled": true');
    expect(result.stdout).toContain('"jwks.string"');
    expect(result.stdout).not.toContain(credentials('ci-secret').clientSecret!);
    expect(result.stdout).not.toContain(String(credentials('ci-jwt').privateKey!.d));
  });

  describe('serve', () => {
    beforeAll(async () => {
      server = await startReferenceServer({ ...serveOptions(), machineClients: ['ci-jwt', 'ci-secret'] });
    });

    it.each(['ci-jwt', 'ci-secret'])(
      'accepts the token of machine client %s, got through the official SDK',
      async (id) => {
        expect(await callAsMachine(id)).toContain('5');
      },
    );

    it('doctor --machine-client gets a token as each machine client and calls add_numbers; a missing one fails', async () => {
      const args = ['--json', 'doctor', ...target(), '--machine-client', 'ci-jwt', '--machine-client', 'ci-secret'];
      const result = await runCli([...args, '--machine-client', 'nobody'], { env });
      const findings = (JSON.parse(result.stdout) as { checks: { id: string; status: string; actual?: string }[] })
        .checks;
      const machine = findings.filter((f) => f.id.startsWith('machine.'));
      expect(machine.map((f) => [f.id, f.status])).toEqual([
        ['machine.call', 'pass'],
        ['machine.call', 'pass'],
        ['machine.credentials', 'fail'],
      ]);
      expect(machine[0]!.actual).toContain('private_key_jwt: tools/call add_numbers(2, 3): 5');
      expect(machine[1]!.actual).toContain('client_secret_basic: tools/call add_numbers(2, 3): 5');
      expect(result.stdout).not.toContain(credentials('ci-secret').clientSecret!);
    });

    it('serve --machine-client (the CLI) accepts only that machine client; doctor explains the refusal of the other', async () => {
      await server?.close();
      server = undefined;
      const { child, output } = await startServe(['--json', ...target(), '--machine-client', 'ci-jwt']);
      try {
        expect(JSON.parse(output().split('\n')[0]!)).toMatchObject({ event: 'listening', machineClients: ['ci-jwt'] });
        const args = ['--json', 'doctor', ...target(), '--machine-client', 'ci-jwt', '--machine-client', 'ci-secret'];
        const result = await runCli(args, { env });
        const checks = (JSON.parse(result.stdout) as { checks: { id: string; status: string; why?: string }[] }).checks;
        const machine = checks.filter((f) => f.id === 'machine.call');
        expect(machine.map((f) => f.status)).toEqual(['pass', 'fail']);
        expect(machine[1]?.why).toContain('refuses service-account tokens');
        expect(result.code).toBe(1);
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      server = await startReferenceServer({ ...serveOptions(), machineClients: ['ci-jwt', 'ci-secret'] });
    });

    it('refuses the service-account token of a client that registered anonymously', async () => {
      const token = await anonymousServiceAccountToken();
      const response = await postToolsCall(resource, token);
      expect(response.status).toBe(401);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      expect(challenge.params.error).toBe('invalid_token');
      expect(challenge.params.error_description).toContain('not a configured machine client');
    });
  });

  it('destroy removes both clients and their credentials files', async () => {
    await server?.close();
    server = undefined;
    const result = await runCli(['destroy', '--yes', ...target(), ...MACHINES], { env });
    expect(result.code).toBe(0);
    expect(existsSync(join(state, 'machine-clients', realm, 'ci-jwt.json'))).toBe(false);
    expect(existsSync(join(state, 'machine-clients', realm, 'ci-secret.json'))).toBe(false);
    const plan = await runCli(['--json', 'plan', ...target(), ...MACHINES], { env });
    const changes = (JSON.parse(plan.stdout) as { changes: { kind: string; action: string }[] }).changes;
    expect(changes.filter((c) => c.kind === 'machine-client').map((c) => c.action)).toEqual(['create', 'create']);
  });
});
