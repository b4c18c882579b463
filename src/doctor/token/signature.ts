/**
 * Signature verification only, against the JWKS of the realm the MCP server trusts (not the one the
 * token claims to come from: a token from another realm must fail here, which is the point). Claims
 * are compared separately (`claims.ts`) so that every mismatch is reported, not just the first.
 * The algorithm allow-list is the reference server's, so doctor and server agree.
 */
import { compactVerify, errors } from 'jose';
import { ALLOWED_ALGORITHMS, remoteKeys } from '../../server/verify.js';

export type SignatureResult = { ok: true; alg: string; kid?: string } | { ok: false; reason: string };

/** Verifies the signature against the keys at `jwksUri`; a failure comes back as a reason to print, never thrown. */
export async function verifySignature(token: string, jwksUri: string): Promise<SignatureResult> {
  try {
    const { protectedHeader } = await compactVerify(token, remoteKeys(jwksUri), {
      algorithms: [...ALLOWED_ALGORITHMS],
    });
    return protectedHeader.kid
      ? { ok: true, alg: protectedHeader.alg, kid: protectedHeader.kid }
      : { ok: true, alg: protectedHeader.alg };
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) {
      return {
        ok: false,
        reason: `no key in ${jwksUri} matches the token's kid: it was signed by another realm or another Keycloak`,
      };
    }
    if (error instanceof errors.JOSEAlgNotAllowed)
      return { ok: false, reason: 'the algorithm is not allowed (symmetric or "none"); a server must refuse it' };
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return { ok: false, reason: 'the signature does not match: the token was altered or signed with another key' };
    if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
      return { ok: false, reason: `the JWKS at ${jwksUri} could not be read` };
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
