/** The verification core and the challenge/metadata helpers, with a local key set: no network. */
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearerTokenOf } from '../../src/server/http.js';
import { bearerChallenge, metadataPaths, metadataUrl } from '../../src/server/metadata.js';
import { checkConsistency } from '../../src/server/index.js';
import { BearerError, createJwtVerifier, type TokenVerifier } from '../../src/server/verify.js';

const ISSUER = 'http://localhost:8080/realms/mcp-demo';
const RESOURCE = 'http://localhost:8000/mcp';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let verifier: TokenVerifier;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  verifier = createJwtVerifier({
    issuer: ISSUER,
    audience: RESOURCE,
    scopes: ['mcp:run', 'mcp:admin'],
    keys: createLocalJWKSet({ keys: [jwk] }),
  });
});

function sign(changes: Partial<Record<string, unknown>> = {}, alg = 'ES256'): Promise<string> {
  const claims: JWTPayload = {
    iss: ISSUER,
    aud: [RESOURCE, 'account'],
    sub: 'u1',
    azp: 'vscode',
    typ: 'Bearer',
    scope: 'openid mcp:run',
    iat: now(),
    exp: now() + 300,
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return new SignJWT(claims).setProtectedHeader({ alg, kid: 'k1' }).sign(privateKey);
}

async function reason(token: string): Promise<string> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BearerError);
  return `${(error as BearerError).code}: ${(error as BearerError).message}`;
}

describe('createJwtVerifier', () => {
  it('accepts a good token and reports who called', async () => {
    expect(await verifier.verify(await sign())).toMatchObject({
      sub: 'u1',
      clientId: 'vscode',
      scopes: ['openid', 'mcp:run'],
    });
    expect((await verifier.verify(await sign({ aud: RESOURCE }))).sub).toBe('u1');
  });

  it('needs one of the configured scopes, from `scope` or an `scp` array', async () => {
    expect((await verifier.verify(await sign({ scope: 'mcp:admin' }))).scopes).toEqual(['mcp:admin']);
    expect((await verifier.verify(await sign({ scope: undefined, scp: ['mcp:run'] }))).scopes).toEqual(['mcp:run']);
    expect(await reason(await sign({ scope: 'openid mcp:runner' }))).toBe(
      'insufficient_scope: token lacks the scope mcp:run or mcp:admin',
    );
    expect(await reason(await sign({ scope: undefined }))).toMatch(/^insufficient_scope/);
  });

  it('compares aud and iss byte for byte', async () => {
    for (const aud of [`${RESOURCE}/`, 'http://localhost:8000/MCP', 'http://127.0.0.1:8000/mcp', ['account']]) {
      expect(await reason(await sign({ aud }))).toBe('invalid_token: token audience does not include this resource');
    }
    expect(await reason(await sign({ aud: undefined }))).toMatch(/^invalid_token/);
    expect(await reason(await sign({ iss: `${ISSUER}/` }))).toBe('invalid_token: token issuer is not this realm');
  });

  it('tolerates 30 s of clock skew, no more', async () => {
    expect((await verifier.verify(await sign({ exp: now() - 10 }))).sub).toBe('u1');
    expect(await reason(await sign({ exp: now() - 60 }))).toBe('invalid_token: token expired');
    expect((await verifier.verify(await sign({ nbf: now() + 10 }))).sub).toBe('u1');
    expect(await reason(await sign({ nbf: now() + 60 }))).toBe('invalid_token: token is not valid yet (nbf)');
    expect(await reason(await sign({ exp: undefined }))).toMatch(/^invalid_token/);
  });

  it('rejects symmetric algorithms outright and non-access tokens', async () => {
    const hs = await new SignJWT({ iss: ISSUER, aud: RESOURCE, scope: 'mcp:run', exp: now() + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await reason(hs)).toBe('invalid_token: token signing algorithm not allowed');
    expect(await reason(await sign({ typ: 'Refresh' }))).toBe('invalid_token: not an access token (typ Refresh)');
    expect(await reason('a.b.c')).toBe('invalid_token: token malformed');
  });
});

describe('HTTP helpers', () => {
  it('reads only a well-formed Bearer header', () => {
    expect(bearerTokenOf('Bearer abc.def-_~+/=')).toBe('abc.def-_~+/=');
    expect(bearerTokenOf('bearer  abc')).toBe('abc');
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearer a,b'])
      expect(bearerTokenOf(header)).toBeUndefined();
  });

  it('inserts the well-known path before the resource path (RFC 9728 §3.1)', () => {
    expect(metadataUrl(RESOURCE)).toBe('http://localhost:8000/.well-known/oauth-protected-resource/mcp');
    expect(metadataUrl('https://mcp.example.com/')).toBe(
      'https://mcp.example.com/.well-known/oauth-protected-resource',
    );
    expect(metadataPaths('http://h/a/b')).toEqual([
      '/.well-known/oauth-protected-resource/a/b',
      '/.well-known/oauth-protected-resource',
    ]);
  });

  it('builds challenges with quoted, escaped parameters', () => {
    expect(bearerChallenge({ resourceMetadata: 'http://h/.well-known/x', scopes: ['a', 'b'] })).toBe(
      'Bearer resource_metadata="http://h/.well-known/x", scope="a b"',
    );
    expect(
      bearerChallenge({ resourceMetadata: 'm', scopes: ['a'], error: 'invalid_token', description: 'say "hi"\\' }),
    ).toBe('Bearer resource_metadata="m", scope="a", error="invalid_token", error_description="say \\"hi\\"\\\\"');
  });

  it('refuses settings that leave the resource URL unserved', () => {
    expect(() => checkConsistency({ resource: RESOURCE, host: '127.0.0.1', port: 8001, scopes: ['s'] })).toThrow(
      /port 8000 but the server would listen on 8001/,
    );
    expect(() =>
      checkConsistency({ resource: 'http://localhost/mcp', host: '127.0.0.1', port: 80, scopes: ['s'] }),
    ).not.toThrow();
    expect(() =>
      checkConsistency({ resource: 'https://mcp.example.com/mcp', host: '0.0.0.0', port: 8000, scopes: ['s'] }),
    ).not.toThrow();
    expect(() =>
      checkConsistency({ resource: `${RESOURCE}?x=1`, host: '127.0.0.1', port: 8000, scopes: ['s'] }),
    ).toThrow(/query string/);
  });
});

describe('verified-token cache', () => {
  it('skips the key lookup for a token it verified before, and not when disabled', async () => {
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const local = createLocalJWKSet({ keys: [jwk] });
    for (const [cacheSize, lookups] of [
      [1000, 1],
      [0, 2],
    ] as const) {
      let calls = 0;
      const counting: JWTVerifyGetKey = (header, token) => {
        calls++;
        return local(header, token);
      };
      const cached = createJwtVerifier({
        issuer: ISSUER,
        audience: RESOURCE,
        scopes: ['mcp:run'],
        keys: counting,
        cacheSize,
      });
      const token = await sign();
      await cached.verify(token);
      expect((await cached.verify(token)).sub).toBe('u1');
      expect(calls).toBe(lookups);
      // A different token (one more claim) is never served from the cache.
      await expect(cached.verify(await sign({ aud: 'http://other/mcp' }))).rejects.toThrow(/audience/);
    }
  });
});
