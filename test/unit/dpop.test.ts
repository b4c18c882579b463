/**
 * The DPoP proof checks (src/server/dpop.ts), one per RFC 9449 §4.3 step, on proofs made here with jose: each
 * broken proof is refused with its reason, and a control proof made the same way passes.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accessTokenHash,
  checkDpopProof,
  dpopChallenge,
  DpopError,
  memoryReplayCache,
  nonceIssuer,
  normalizedHtu,
  type ProofRequest,
} from '../../src/server/dpop.js';

const URL_ = 'http://127.0.0.1:8000/mcp';
const TOKEN = 'header.payload.signature';
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let key: PrivateKey;
let jwk: JWK;
let jkt: string;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
  jkt = await calculateJwkThumbprint(jwk, 'sha256');
});

let counter = 0;
async function proof(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  signWith: PrivateKey = key,
): Promise<string> {
  const payload = {
    jti: `id-${++counter}`,
    htm: 'POST',
    htu: URL_,
    iat: Math.floor(Date.now() / 1000),
    ath: accessTokenHash(TOKEN),
    ...claims,
  };
  for (const [name, value] of Object.entries(payload))
    if (value === undefined) delete (payload as Record<string, unknown>)[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header }).sign(signWith);
}

function request(value: string | string[] | undefined, changes: Partial<ProofRequest> = {}): ProofRequest {
  return { proof: value, method: 'POST', url: URL_, accessToken: TOKEN, jkt, ...changes };
}

async function refusal(promise: Promise<void>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DpopError);
  return (error as DpopError).message;
}

describe('checkDpopProof', () => {
  it('accepts a proof made for this request, this token and this key (control)', async () => {
    await expect(checkDpopProof(request(await proof()), { replay: memoryReplayCache() })).resolves.toBeUndefined();
  });

  it('refuses a missing, doubled or malformed proof', async () => {
    const replay = memoryReplayCache();
    expect(await refusal(checkDpopProof(request(undefined), { replay }))).toBe('DPoP proof missing');
    const one = await proof();
    expect(await refusal(checkDpopProof(request([one, one]), { replay }))).toBe('more than one DPoP header');
    expect(await refusal(checkDpopProof(request('not a jwt'), { replay }))).toBe('DPoP proof malformed');
  });

  it('refuses the wrong typ, a symmetric alg, no jwk, a private jwk', async () => {
    const replay = memoryReplayCache();
    expect(await refusal(checkDpopProof(request(await proof({}, { typ: 'JWT' })), { replay }))).toMatch(/typ/);
    const hs = await new SignJWT({ jti: 'x', htm: 'POST', htu: URL_, iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk })
      .sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef'));
    expect(await refusal(checkDpopProof(request(hs), { replay }))).toMatch(/algorithm not allowed/);
    expect(await refusal(checkDpopProof(request(await proof({}, { jwk: undefined })), { replay }))).toMatch(/no jwk/);
    const privateJwk = { ...jwk, d: 'AAAA' };
    expect(await refusal(checkDpopProof(request(await proof({}, { jwk: privateJwk })), { replay }))).toMatch(
      /not a public key/,
    );
  });

  it('refuses a proof whose signature is not made by its own jwk', async () => {
    const other = await generateKeyPair('ES256');
    const message = await refusal(
      checkDpopProof(request(await proof({}, {}, other.privateKey)), { replay: memoryReplayCache() }),
    );
    expect(message).toBe('proof signature invalid');
  });

  it('refuses another method, another URL, an old or future iat', async () => {
    const replay = memoryReplayCache();
    expect(await refusal(checkDpopProof(request(await proof({ htm: 'GET' })), { replay }))).toMatch(/htm/);
    expect(
      await refusal(checkDpopProof(request(await proof({ htu: 'http://127.0.0.1:8000/other' })), { replay })),
    ).toMatch(/htu/);
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(checkDpopProof(request(await proof({ iat: now - 600 })), { replay }))).toMatch(/iat/);
    expect(await refusal(checkDpopProof(request(await proof({ iat: now + 600 })), { replay }))).toMatch(/iat/);
  });

  it('accepts the htu with a query, a default port or upper-case host, as RFC 3986 normalization says', async () => {
    expect(normalizedHtu('HTTP://127.0.0.1:80/mcp?x=1#f')).toBe(normalizedHtu('http://127.0.0.1/mcp'));
    const replay = memoryReplayCache();
    await expect(checkDpopProof(request(await proof({ htu: `${URL_}?q=1` })), { replay })).resolves.toBeUndefined();
  });

  it('refuses a proof for another token (ath), or signed by a key the token is not bound to (cnf.jkt)', async () => {
    const replay = memoryReplayCache();
    expect(await refusal(checkDpopProof(request(await proof({ ath: accessTokenHash('other') })), { replay }))).toMatch(
      /ath/,
    );
    expect(await refusal(checkDpopProof(request(await proof({ ath: undefined })), { replay }))).toMatch(/ath/);
    expect(await refusal(checkDpopProof(request(await proof(), { jkt: 'someone-else' }), { replay }))).toMatch(
      /bound to/,
    );
  });

  it('refuses a replayed proof (the same jti twice)', async () => {
    const replay = memoryReplayCache();
    const once = await proof();
    await checkDpopProof(request(once), { replay });
    expect(await refusal(checkDpopProof(request(once), { replay }))).toMatch(/replayed/);
  });

  it('asks for a nonce when nonces are on, and accepts the current one', async () => {
    const nonces = nonceIssuer();
    const replay = memoryReplayCache();
    const missing = await checkDpopProof(request(await proof()), { replay, nonces }).catch((e: DpopError) => e);
    expect(missing).toMatchObject({ code: 'use_dpop_nonce' });
    const stale = await checkDpopProof(request(await proof({ nonce: 'stale' })), { replay, nonces }).catch(
      (e: DpopError) => e,
    );
    expect(stale).toMatchObject({ code: 'use_dpop_nonce' });
    await expect(
      checkDpopProof(request(await proof({ nonce: nonces.current() })), { replay, nonces }),
    ).resolves.toBeUndefined();
    // Another replica with the same secret accepts it; one with another secret does not.
    const shared = Buffer.alloc(32, 7);
    expect(nonceIssuer(shared).accepts(nonceIssuer(shared).current())).toBe(true);
    expect(nonceIssuer(Buffer.alloc(32, 8)).accepts(nonceIssuer(shared).current())).toBe(false);
  });

  it('words the challenge with the accepted algorithms and the error', () => {
    expect(dpopChallenge()).toMatch(/^DPoP algs="RS256 [^"]*ES256[^"]*"$/);
    expect(dpopChallenge(new DpopError('invalid_dpop_proof', 'proof "x"'))).toContain('error="invalid_dpop_proof"');
  });
});
