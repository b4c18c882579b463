/**
 * Real tokens for the serve tests: a realm provisioned by the built CLI (`apply`), password grants
 * for its test user through confidential clients created with the admin API (Keycloak refuses the
 * password grant to DCR clients: they require consent), and a signing key we hold ourselves.
 *
 * The key is imported into the realm as its highest-priority RSA key, so Keycloak signs its own tokens
 * with it too. Attack tokens re-signed with it differ from genuine ones only in the claim under test:
 * a rejection then proves that claim's check, not a key mismatch.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportJWK, SignJWT, type JWTPayload } from 'jose';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { adminClient, keycloak, runCli } from './keycloak.js';

export const TEST_USER = 'alice';
export const TEST_USER_PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;

export interface TestClient {
  clientId: string;
  secret: string;
}

/** `mcp-keycloak apply` with a test user, exactly as a user would run it. */
export async function applyRealm(
  realm: string,
  resource: string,
  password = TEST_USER_PASSWORD,
  extraArgs: string[] = [],
): Promise<void> {
  const result = await runCli(
    ['apply', '--yes', '--realm', realm, '--resource', resource, '--test-user', TEST_USER, ...extraArgs],
    {
      env: { MCP_KEYCLOAK_TEST_USER_PASSWORD: password },
    },
  );
  if (result.code !== 0 || result.stderr !== '') throw new Error(`apply failed (${result.code}): ${result.stderr}`);
}

export interface ServedRealm {
  server: RunningServer;
  resource: string;
  port: number;
}

/**
 * The system most tests need: a realm set up by the built `apply` (test user `alice`) for a fresh
 * loopback MCP URL, and the reference server answering exactly that URL.
 */
export async function serveRealm(
  realm: string,
  options: { password?: string; log?: (line: string) => void; applyArgs?: string[] } = {},
): Promise<ServedRealm> {
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource, options.password, options.applyArgs);
  const server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    host: '127.0.0.1',
    port,
    ...(options.log ? { log: options.log } : {}),
  });
  return { server, resource, port };
}

/**
 * A confidential client allowed the password grant. It gets the realm's default scopes (which `apply`
 * made include the MCP scope) unless `withoutScope` names one to take away; `audience` adds a
 * client-level Audience mapper, to mint tokens with an audience but without the scope.
 */
export async function createPasswordClient(
  realm: string,
  clientId: string,
  options: { withoutScope?: string; audience?: string } = {},
): Promise<TestClient> {
  const admin = await adminClient();
  const secret = randomBytes(18).toString('base64url');
  const { id } = await admin.clients.create({
    realm,
    clientId,
    publicClient: false,
    secret,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: false,
    serviceAccountsEnabled: false,
  });
  if (options.withoutScope) {
    const scopes = await admin.clients.listDefaultClientScopes({ realm, id });
    const scope = scopes.find((s) => s.name === options.withoutScope);
    if (scope?.id) await admin.clients.delDefaultClientScope({ realm, id, clientScopeId: scope.id });
  }
  if (options.audience) {
    await admin.clients.addProtocolMapper(
      { realm, id },
      {
        name: 'test-audience',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        config: {
          'included.custom.audience': options.audience,
          'access.token.claim': 'true',
          'introspection.token.claim': 'true',
        },
      },
    );
  }
  return { clientId, secret };
}

/** A password-grant access token for the test user, from the real token endpoint. */
export async function passwordToken(realm: string, client: TestClient): Promise<string> {
  const response = await fetch(`${keycloak().url}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: client.clientId,
      client_secret: client.secret,
      username: TEST_USER,
      password: TEST_USER_PASSWORD,
    }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!body.access_token) throw new Error(`token request failed: ${body.error}: ${body.error_description}`);
  return body.access_token;
}

export interface RealmKey {
  privateKey: KeyObject;
  kid: string;
}

/** Imports an RSA key we generated as the realm's active RS256 key and returns it with Keycloak's `kid`. */
export async function importSigningKey(realm: string, priority = 1000): Promise<RealmKey> {
  const admin = await adminClient();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const info = await admin.realms.findOne({ realm });
  await admin.components.create({
    realm,
    name: `serve-test-key-${priority}`,
    providerId: 'rsa',
    providerType: 'org.keycloak.keys.KeyProvider',
    parentId: info!.id!,
    config: {
      priority: [String(priority)],
      enabled: ['true'],
      active: ['true'],
      algorithm: ['RS256'],
      privateKey: [privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    },
  });
  const { n } = await exportJWK(publicKey);
  const jwks = (await (await fetch(`${keycloak().url}/realms/${realm}/protocol/openid-connect/certs`)).json()) as {
    keys: { kid: string; n?: string }[];
  };
  const kid = jwks.keys.find((key) => key.n === n)?.kid;
  if (!kid) throw new Error('the imported key is not in the realm JWKS');
  return { privateKey, kid };
}

/** A copy of a genuine token's claims with `changes` applied (undefined deletes), signed with `key`. */
export async function resign(
  token: string,
  key: { privateKey: KeyObject; kid: string },
  changes: Partial<Record<string, unknown>>,
): Promise<string> {
  const claims: JWTPayload = { ...decodeJwt(token) };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}

export function headerOf(token: string): Record<string, unknown> {
  return decodeProtectedHeader(token);
}

export const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * The resource server's own confidential client for introspection. Its client id is the resource URL
 * because Keycloak ≥ 26.6.2 answers `active: false` to introspecting clients outside the token's `aud`.
 * When `apply` made the realm, its resource client (clientId = the resource URL, confidential) is that
 * client already: its secret is read; otherwise one is created.
 */
export async function createResourceClient(realm: string, resource: string): Promise<TestClient> {
  const admin = await adminClient();
  const [existing] = await admin.clients.find({ realm, clientId: resource });
  if (existing?.id) {
    const { value } = await admin.clients.getClientSecret({ realm, id: existing.id });
    return { clientId: resource, secret: value! };
  }
  const secret = randomBytes(18).toString('base64url');
  await admin.clients.create({
    realm,
    clientId: resource,
    publicClient: false,
    secret,
    standardFlowEnabled: false,
    directAccessGrantsEnabled: false,
  });
  return { clientId: resource, secret };
}
