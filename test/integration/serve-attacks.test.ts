/**
 * The token attack suite: every way a token can be wrong, each rejected with the right status and
 * challenge. Genuine tokens come from the real Keycloak; forged ones are either unsigned, signed with
 * keys the realm does not trust, or re-signed with the realm's own active key (see serve-tokens.ts) so
 * that only the claim under test differs. A control re-signed with no change must pass.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, SignJWT, type FetchImplementation } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { createJwtVerifier, remoteKeys, startReferenceServer, type RunningServer } from '../../src/server/index.js';
import { deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { parseChallenge, postToolsCall } from '../support/mcp-http.js';
import {
  applyRealm,
  b64url,
  createPasswordClient,
  importSigningKey,
  passwordToken,
  resign,
  type RealmKey,
} from '../support/tokens.js';

const realm = uniqueRealm('serve-attack');
const otherRealm = uniqueRealm('serve-attack-other');
const logs: string[] = [];
let port: number;
let resource: string;
let server: RunningServer;
let key: RealmKey;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  // Both realms protect the same resource: a token from the other one is right in every claim but iss.
  await Promise.all([applyRealm(realm, resource), applyRealm(otherRealm, resource)]);
  key = await importSigningKey(realm);
  const [valid, noScope, otherAudience, other] = await Promise.all([
    createPasswordClient(realm, 'attack-valid'),
    // Keycloak-issued token with our audience (client-level mapper) but without the scope.
    createPasswordClient(realm, 'attack-no-scope', { withoutScope: 'mcp:run', audience: resource }),
    // Keycloak-issued token for a different resource of the same realm.
    createPasswordClient(realm, 'attack-other-aud', {
      withoutScope: 'mcp:run',
      audience: `http://127.0.0.1:${port}/other`,
    }),
    createPasswordClient(otherRealm, 'attack-other-realm'),
  ]);
  tokens.valid = await passwordToken(realm, valid);
  tokens.noScope = await passwordToken(realm, noScope);
  tokens.otherAudience = await passwordToken(realm, otherAudience);
  tokens.otherRealm = await passwordToken(otherRealm, other);
  server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    host: '127.0.0.1',
    port,
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await server?.close();
  await Promise.all([deleteRealm(realm), deleteRealm(otherRealm)]);
});

const now = () => Math.floor(Date.now() / 1000);

/** Calls tools/call and checks status and the whole challenge; returns the error_description. */
async function expectRejected(
  token: string | undefined,
  status: 401 | 403,
  error: string | undefined,
  options: { inQuery?: boolean } = {},
) {
  const response = await postToolsCall(resource, token, options);
  expect(response.status).toBe(status);
  const { scheme, params } = parseChallenge(response.headers.get('www-authenticate'));
  expect(scheme).toBe('Bearer');
  expect(params.resource_metadata).toBe(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
  expect(params.scope).toBe('mcp:run');
  expect(params.error).toBe(error);
  if (error) expect(params.error_description).toBeTruthy();
  else expect(Object.keys(params).sort()).toEqual(['resource_metadata', 'scope']);
  return params.error_description;
}

describe('controls', () => {
  it('accepts the genuine Keycloak token, signed with the imported realm key', async () => {
    expect((await import('jose')).decodeProtectedHeader(tokens.valid!).kid).toBe(key.kid);
    expect((await postToolsCall(resource, tokens.valid)).status).toBe(200);
  });

  it('accepts a copy re-signed with the realm key and no change, so every rejection below is the claim', async () => {
    expect((await postToolsCall(resource, await resign(tokens.valid!, key, {}))).status).toBe(200);
  });
});

describe('attacks, each rejected with status and WWW-Authenticate', () => {
  it('no token: 401 without an error code', async () => {
    await expectRejected(undefined, 401, undefined);
  });

  it('garbage: 401 invalid_token', async () => {
    await expectRejected('garbage.token.here', 401, 'invalid_token');
    await expectRejected('x', 401, 'invalid_token');
  });

  it('alg none: 401 invalid_token', async () => {
    const [, payload] = tokens.valid!.split('.');
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    expect(await expectRejected(unsigned, 401, 'invalid_token')).toMatch(/algorithm|malformed/);
  });

  it('HS256 signed with the realm public key as the HMAC secret (key confusion): 401', async () => {
    const publicPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const forged = await new SignJWT(decodeJwt(tokens.valid!))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
      .sign(new TextEncoder().encode(publicPem));
    expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token signing algorithm not allowed');
  });

  it('a valid token from another realm of the same Keycloak: 401', async () => {
    const claims = decodeJwt(tokens.otherRealm!);
    expect(claims.aud).toContain(resource);
    expect(claims.scope).toContain('mcp:run');
    await expectRejected(tokens.otherRealm, 401, 'invalid_token');
  });

  it('the other realm issuer on a token signed with this realm key: 401', async () => {
    const forged = await resign(tokens.valid!, key, { iss: decodeJwt(tokens.otherRealm!).iss });
    expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token issuer is not this realm');
  });

  it('wrong aud, as Keycloak issues it for another resource: 401', async () => {
    expect(decodeJwt(tokens.otherAudience!).aud).not.toContain(resource);
    expect(await expectRejected(tokens.otherAudience, 401, 'invalid_token')).toBe(
      'token audience does not include this resource',
    );
  });

  it('wrong aud with every other claim valid: 401', async () => {
    const forged = await resign(tokens.valid!, key, { aud: ['account', `http://127.0.0.1:${port}/other`] });
    expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token audience does not include this resource');
  });

  it('aud with a trailing slash (string and array): 401', async () => {
    for (const aud of [`${resource}/`, [`${resource}/`, 'account'], resource.toUpperCase()]) {
      const forged = await resign(tokens.valid!, key, { aud });
      expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token audience does not include this resource');
    }
  });

  it('expired beyond the clock tolerance: 401', async () => {
    const forged = await resign(tokens.valid!, key, { iat: now() - 600, exp: now() - 120 });
    expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token expired');
  });

  it('without exp at all: 401', async () => {
    const forged = await resign(tokens.valid!, key, { exp: undefined });
    expect(await expectRejected(forged, 401, 'invalid_token')).toMatch(/expiry|exp/);
  });

  it('nbf in the future: 401', async () => {
    const forged = await resign(tokens.valid!, key, { nbf: now() + 300 });
    expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token is not valid yet (nbf)');
  });

  it('an ID or refresh token instead of an access token: 401', async () => {
    const forged = await resign(tokens.valid!, key, { typ: 'ID' });
    expect(await expectRejected(forged, 401, 'invalid_token')).toMatch(/not an access token/);
  });

  it('tampered payload with the original signature: 401', async () => {
    const [header, payload, signature] = tokens.valid!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as {
      scope?: string;
      [claim: string]: unknown;
    };
    const tampered = `${header}.${b64url({ ...claims, sub: 'admin', scope: `${claims.scope} admin` })}.${signature}`;
    expect(await expectRejected(tampered, 401, 'invalid_token')).toBe('token signature invalid');
  });

  it('unknown kid (an attacker key): 401, after at most one rate-limited JWKS refetch', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await resign(tokens.valid!, { privateKey, kid: 'attacker-key' }, {});
    expect(await expectRejected(forged, 401, 'invalid_token')).toBe('token signed with an unknown key');
    // The realm's kid with the attacker's key: the signature check catches it.
    const spoofed = await resign(tokens.valid!, { privateKey, kid: key.kid }, {});
    expect(await expectRejected(spoofed, 401, 'invalid_token')).toBe('token signature invalid');
  });

  it('token only in the query string: 401 as if none were sent, and the token is not logged', async () => {
    await expectRejected(tokens.valid, 401, undefined, { inQuery: true });
    expect(logs.some((line) => line.includes('access_token') || line.includes(tokens.valid!.slice(0, 24)))).toBe(false);
  });

  it('a non-Bearer Authorization scheme: 401 without an error code', async () => {
    const response = await fetch(resource, {
      method: 'POST',
      headers: { authorization: `Basic ${b64url('a:b')}` },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers.get('www-authenticate')).params.error).toBeUndefined();
  });

  it('missing scope, as Keycloak issues it with the right audience: 403 insufficient_scope', async () => {
    const claims = decodeJwt(tokens.noScope!);
    expect(claims.aud).toContain(resource);
    // Keycloak's scope claim is one space-separated string (RFC 8693 §4.2).
    expect(String((claims.scope as string | undefined) ?? '').split(' ')).not.toContain('mcp:run');
    expect(await expectRejected(tokens.noScope, 403, 'insufficient_scope')).toBe('token lacks the scope mcp:run');
  });

  it('refetches the JWKS for an unknown kid at most once per cooldown, and so picks up a rotated key', async () => {
    const issuer = `${keycloak().url}/realms/${realm}`;
    const jwksUri = `${issuer}/protocol/openid-connect/certs`;
    let fetches = 0;
    const counting: FetchImplementation = (url, init) => {
      fetches++;
      return fetch(url, init);
    };
    const expected = { issuer, audience: resource, scopes: ['mcp:run'], cacheSize: 0 };
    const limited = createJwtVerifier({ ...expected, keys: remoteKeys(jwksUri, { fetch: counting }) });
    await limited.verify(tokens.valid!);
    expect(fetches).toBe(1);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (let i = 0; i < 20; i++) {
      await expect(limited.verify(await resign(tokens.valid!, { privateKey, kid: `flood-${i}` }, {}))).rejects.toThrow(
        'unknown key',
      );
    }
    expect(fetches).toBe(1); // a flood of forged kids costs Keycloak nothing within the 30 s cooldown

    // Rotation: a key added to the realm after the JWKS was cached is fetched on first sight of its kid.
    const eager = createJwtVerifier({ ...expected, keys: remoteKeys(jwksUri, { cooldownMs: 0 }) });
    await eager.verify(tokens.valid!);
    const rotated = await importSigningKey(realm, 10);
    expect((await eager.verify(await resign(tokens.valid!, rotated, {}))).clientId).toBe('attack-valid');
  });

  it('logs each refusal with its reason and never a token', () => {
    const refusals = logs.filter((line) => / 40[13] /.test(line));
    expect(refusals.length).toBeGreaterThanOrEqual(15);
    for (const line of refusals) expect(line).toMatch(/reason="/);
    for (const token of Object.values(tokens))
      for (const line of logs) expect(line).not.toContain(token.split('.')[2]!.slice(0, 16));
  });
});
