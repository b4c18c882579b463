/**
 * An enterprise IdP of our own for the enterprise-managed authorization tests: a signing key, its JWKS
 * served on loopback (Keycloak fetches it, as it would fetch a real IdP's), and ID-JAGs
 * (draft-ietf-oauth-identity-assertion-authz-grant §3.1: header `typ` = `oauth-id-jag+jwt`) minted with it.
 * A second key that Keycloak never sees signs the forgeries.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { freePort } from '../../src/local/process.js';

export interface EnterpriseIdp {
  /** The `iss` of its ID-JAGs (a path on the JWKS server, so the two always agree). */
  issuer: string;
  jwksUri: string;
  /** An ID-JAG for `claims` (sub, aud, client_id, scope, resource, …); `forged` signs it with a key not in the JWKS. */
  mint(claims: IdJagClaims, options?: { forged?: boolean; typ?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface IdJagClaims {
  sub: string;
  /** The Resource Authorization Server's issuer: the Keycloak realm's. */
  aud: string;
  client_id?: string;
  scope?: string;
  resource?: string;
  email?: string;
}

export async function startEnterpriseIdp(): Promise<EnterpriseIdp> {
  // A kid of its own per run: Keycloak caches an IdP's keys by kid, and a reused kid with a new key fails.
  const kid = `ema-${randomUUID()}`;
  const genuine = await generateKeyPair('RS256');
  const forger = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(genuine.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/idp`;
  const server: Server = createServer((request, response) => {
    const found = request.url === '/idp/jwks';
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(found ? JSON.stringify({ keys: [jwk] }) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    mint: (claims, options = {}) =>
      sign(claims, issuer, kid, options.forged ? forger.privateKey : genuine.privateKey, options.typ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function sign(claims: IdJagClaims, issuer: string, kid: string, key: CryptoKey, typ = 'oauth-id-jag+jwt') {
  const { sub, aud, ...rest } = claims;
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg: 'RS256', kid, typ })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime('4m')
    .setJti(randomUUID())
    .sign(key);
}

export interface GrantAnswer {
  status: number;
  error?: string;
  error_description?: string;
  access_token?: string;
  refresh_token?: string;
  scope?: string;
}

/** The RFC 7523 §2.1 token request with `assertion` (client_secret_basic), as an EMA client sends it (ext-auth §5). */
export async function redeem(
  tokenEndpoint: string,
  client: { clientId: string; secret: string },
  assertion: string,
  extra: Record<string, string> = {},
): Promise<GrantAnswer> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, ...extra }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GrantAnswer, 'status'>) };
}
