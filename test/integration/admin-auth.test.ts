/**
 * The other ways of reaching the admin API: a service-account client (platform teams in CI) and a
 * Keycloak served under a legacy `/auth` base (here: the real Keycloak behind a path-prefix proxy).
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import type { ApplyJson } from '../support/cli-json.js';

const realm = uniqueRealm('adminauth');
const clientId = `mcp-keycloak-ci-${randomBytes(3).toString('hex')}`;
let clientUuid = '';
let proxy: Server;
let proxyUrl = '';

beforeAll(async () => {
  const admin = await adminClient();
  ({ id: clientUuid } = await admin.clients.create({
    realm: 'master',
    clientId,
    publicClient: false,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
  }));
  const serviceUser = await admin.clients.getServiceAccountUser({ realm: 'master', id: clientUuid });
  const adminRole = await admin.roles.findOneByName({ realm: 'master', name: 'admin' });
  await admin.users.addRealmRoleMappings({
    realm: 'master',
    id: serviceUser.id!,
    roles: [{ id: adminRole!.id!, name: 'admin' }],
  });

  // Serve the real Keycloak under /auth, as Keycloak ≤ 16 (or a reverse proxy) does.
  const target = new URL(keycloak().url);
  proxy = createServer((req, res) => {
    if (!req.url?.startsWith('/auth/')) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('not found');
      return;
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url.slice('/auth'.length),
        method: req.method,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  const admin = await adminClient();
  await admin.clients.del({ realm: 'master', id: clientUuid }).catch(() => undefined);
  await deleteRealm(realm);
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
});

it('applies with a service-account client instead of a user', async () => {
  const admin = await adminClient();
  const { value: secret } = await admin.clients.getClientSecret({ realm: 'master', id: clientUuid });
  const result = await runCli(['--json', 'apply', '--yes', '--realm', realm], {
    admin: false,
    env: { KEYCLOAK_ADMIN_CLIENT_ID: clientId, KEYCLOAK_ADMIN_CLIENT_SECRET: secret! },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect((JSON.parse(result.stdout) as ApplyJson).applied.length).toBeGreaterThan(0);
  expect(result.stdout).not.toContain(secret!);
});

it('a wrong client secret is one line naming the variables', async () => {
  const result = await runCli(['plan', '--realm', realm], {
    admin: false,
    env: { KEYCLOAK_ADMIN_CLIENT_ID: clientId, KEYCLOAK_ADMIN_CLIENT_SECRET: 'wrong-secret-value' },
  });
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toMatch(
    /^error: Keycloak rejected the admin client ".*" in realm "master": check KEYCLOAK_ADMIN_CLIENT_ID and KEYCLOAK_ADMIN_CLIENT_SECRET\.$/,
  );
});

it('names the missing /auth of a legacy base, and works with it', async () => {
  const without = await runCli(['plan', '--realm', realm, '--keycloak-url', proxyUrl]);
  expect(without.code).toBe(64);
  expect(without.stderr.trim()).toBe(
    `error: ${proxyUrl} is a legacy Keycloak served under /auth: use --keycloak-url ${proxyUrl}/auth.`,
  );

  const withAuth = await runCli(['--json', 'plan', '--realm', realm, '--keycloak-url', `${proxyUrl}/auth/`]);
  expect(withAuth.stderr).toBe('');
  expect(withAuth.code).toBe(0);
  expect(JSON.parse(withAuth.stdout)).toMatchObject({ keycloakUrl: `${proxyUrl}/auth`, changes: [] });
});
