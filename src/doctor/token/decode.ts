/**
 * Decoding without trusting: header and claims of a JWT for display and comparison. The signature
 * segment is never returned, printed or logged; verification is `signature.ts`'s job.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';

export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Undefined when the value is not a compact JWS (e.g. an opaque token). */
export function decodeToken(token: string): DecodedToken | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    return { header: { ...decodeProtectedHeader(token) }, claims: { ...decodeJwt(token) } };
  } catch {
    return undefined;
  }
}

/** Seconds-since-epoch → "2026-11-23T01:02:03Z". */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
