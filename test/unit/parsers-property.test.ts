/**
 * Property-based tests of the pure parsers that read what other parties send: WWW-Authenticate
 * challenges, JWTs decoded for display, URL comparisons. Whatever the input, they return (no throw,
 * no hang), and what the reference server writes, doctor reads back unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainUrlDifference, realmOf } from '../../src/doctor/url-diff.js';
import { bearerChallenge as parseBearer, parseWwwAuthenticate } from '../../src/oauth/www-authenticate.js';
import { bearerChallenge as writeBearer } from '../../src/server/metadata.js';
import { decodeToken } from '../../src/doctor/token/decode.js';

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
);
/** RFC 9110 token characters. */
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
/** Printable ASCII (what a quoted-string may carry once escaped), spaces included. */
const quotable = fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s));
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('WWW-Authenticate', () => {
  it('parses any header without throwing, and every challenge has a token scheme', () => {
    fc.assert(
      fc.property(anyText, (header) => {
        for (const challenge of parseWwwAuthenticate(header))
          expect(challenge.scheme).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back generated challenges: scheme and quoted parameters, escapes included', () => {
    const challengeArb = fc.record({ scheme: token, params: fc.dictionary(token, quotable, { maxKeys: 4 }) });
    fc.assert(
      fc.property(fc.array(challengeArb, { minLength: 1, maxLength: 3 }), (challenges) => {
        const header = challenges
          .map(({ scheme, params }) => {
            const list = Object.entries(params).map(([name, value]) => `${name}="${value.replace(/[\\"]/g, '\\$&')}"`);
            return list.length ? `${scheme} ${list.join(', ')}` : scheme;
          })
          .join(', ');
        const parsed = parseWwwAuthenticate(header);
        expect(parsed.map((c) => c.scheme)).toEqual(challenges.map((c) => c.scheme));
        parsed.forEach((challenge, i) => {
          const expected: Record<string, string> = {};
          for (const [name, value] of Object.entries(challenges[i]!.params)) expected[name.toLowerCase()] = value;
          expect(challenge.params).toEqual(expected);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('reads what the reference server writes, whatever the error description says', () => {
    fc.assert(
      fc.property(
        quotable,
        fc.array(fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,10}$/), { minLength: 1, maxLength: 3 }),
        anyText,
        (path, scopes, description) => {
          const resourceMetadata = `http://127.0.0.1:8000/.well-known/oauth-protected-resource/${encodeURIComponent(path)}`;
          const header = writeBearer({ resourceMetadata, scopes, error: 'invalid_token', description });
          const parsed = parseBearer(header);
          expect(parsed?.params.resource_metadata).toBe(resourceMetadata);
          expect(parsed?.params.scope).toBe(scopes.join(' '));
          expect(parsed?.params.error).toBe('invalid_token');
          // An empty description is left out (RFC 6750 makes it optional).
          expect(parsed?.params.error_description).toBe(description ? description.replace(/[\r\n]/g, ' ') : undefined);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('decodeToken', () => {
  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.tuple(anyText, anyText, anyText).map((parts) => parts.join('.')),
        ),
        (value) => {
          const decoded = decodeToken(value);
          if (decoded) {
            expect(typeof decoded.header).toBe('object');
            expect(typeof decoded.claims).toBe('object');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('returns the header and claims of any compact JWS it is given', () => {
    const claims = fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(claims, fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), (payload, kid) => {
        const header = { alg: 'RS256', kid };
        const decoded = decodeToken(`${b64(header)}.${b64(payload)}.c2lnbmF0dXJl`);
        expect(decoded?.header).toEqual(header);
        expect(decoded?.claims).toEqual(JSON.parse(JSON.stringify(payload)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('URL comparison', () => {
  const urlish = fc.oneof(
    anyText,
    fc.webUrl({ withQueryParameters: true }),
    fc.webUrl().map((u) => `${u}/`),
  );

  it('never throws, and is silent exactly when the strings are equal', () => {
    fc.assert(
      fc.property(urlish, urlish, (a, b) => {
        const explanation = explainUrlDifference(a, b);
        expect(explanation === undefined).toBe(a === b);
        expect(explainUrlDifference(a, a)).toBeUndefined();
        realmOf(a);
      }),
      { numRuns: 3000 },
    );
  });

  it('names the realm when two issuers differ only there', () => {
    const realm = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);
    fc.assert(
      fc.property(realm, realm, (one, two) => {
        fc.pre(one !== two);
        const explanation = explainUrlDifference(
          `http://localhost:8080/realms/${one}`,
          `http://localhost:8080/realms/${two}`,
        );
        expect(explanation).toBe(`the realm (${one} vs ${two})`);
        expect(realmOf(`http://localhost:8080/realms/${one}`)).toBe(one);
      }),
      { numRuns: 500 },
    );
  });
});
