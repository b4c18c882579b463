/**
 * Check 3: authorization server metadata at the URLs clients try for the issuer the PRM names: RFC 8414
 * path-inserted, OIDC path-inserted, then OIDC path-appended. The `issuer` inside must equal the PRM entry
 * byte for byte (RFC 8414 §3.3), and the document must offer registration and PKCE S256.
 */
import { explainUrlDifference } from '../url-diff.js';
import { fail, pass, skip, warn, type Finding } from '../../findings.js';
import { applyCommand } from '../fixes.js';
import { asStrings, asString, describeResult, request } from '../http.js';
import type { Check } from '../types.js';

/** The discovery URLs for an issuer, in the order the MCP spec (2025-11-25) gives them. */
export function asMetadataCandidates(issuer: string): { url: string; kind: 'oauth' | 'oidc' }[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  if (!path) {
    return [
      { url: `${url.origin}/.well-known/oauth-authorization-server`, kind: 'oauth' },
      { url: `${url.origin}/.well-known/openid-configuration`, kind: 'oidc' },
    ];
  }
  return [
    { url: `${url.origin}/.well-known/oauth-authorization-server${path}`, kind: 'oauth' },
    { url: `${url.origin}/.well-known/openid-configuration${path}`, kind: 'oidc' },
    { url: `${url.origin}${path}/.well-known/openid-configuration`, kind: 'oidc' },
  ];
}

export const asMetadataCheck: Check = {
  id: 'as',
  title: 'Reading the authorization server metadata',
  async run(input, state) {
    const issuer = state.authorizationServer ?? input.expectedIssuer;
    const send = input.request ?? request;
    const answers = await Promise.all(asMetadataCandidates(issuer).map(async (c) => ({ ...c, result: await send(c.url, { headers: { accept: 'application/json' } }) })));
    const ok = answers.filter((a) => a.result.status === 200 && a.result.json);
    const lines = answers.map((a) => `${a.url} → ${describeResult(a.result)}`);
    if (ok.length === 0) {
      const reason = 'no authorization server metadata could be read';
      return [
        fail('as.metadata', 'Authorization server metadata is reachable', {
          expected: `metadata for ${issuer}`,
          actual: lines.join('; '),
          why: 'Clients need it to find the authorization, token and registration endpoints.',
          fix: `Check that Keycloak runs at ${new URL(issuer).origin} and that the realm in ${issuer} exists (\`${applyCommand(input)}\` creates it).`,
        }),
        skip('as.issuer', 'Metadata issuer equals the PRM entry', reason),
        skip('as.registration_endpoint', 'Dynamic client registration is offered', reason),
        skip('as.pkce', 'PKCE S256 is supported', reason),
      ];
    }
    const first = ok[0]!;
    const doc = first.result.json!;
    state.asMetadata = { url: first.url, document: doc };
    const findings: Finding[] = [];
    const oauthAnswer = answers[0]!;
    if (oauthAnswer.kind === 'oauth' && !(oauthAnswer.result.status === 200 && oauthAnswer.result.json)) {
      findings.push(
        warn('as.metadata', 'Authorization server metadata is reachable', {
          expected: `RFC 8414 metadata at ${oauthAnswer.url}`,
          actual: lines.join('; '),
          why: 'Clients that only try RFC 8414 fail; Keycloak serves it since 26.4.0, so an older Keycloak or a proxy that drops /.well-known/oauth-authorization-server is in the way.',
          fix: 'Upgrade Keycloak to 26.4 or later, or route /.well-known/oauth-authorization-server/realms/* to Keycloak.',
        }),
      );
    } else {
      findings.push(pass('as.metadata', 'Authorization server metadata is reachable', { actual: ok.map((a) => a.url).join(', ') }));
    }

    // Every document that answered must carry the same issuer, byte for byte.
    const mismatched = ok.map((a) => ({ url: a.url, issuer: asString(a.result.json!.issuer) })).filter((a) => a.issuer !== issuer);
    if (mismatched.length === 0) {
      findings.push(pass('as.issuer', 'Metadata issuer equals the PRM entry', { actual: issuer }));
    } else {
      const m = mismatched[0]!;
      findings.push(
        fail('as.issuer', 'Metadata issuer equals the PRM entry', {
          expected: issuer,
          actual: `${m.issuer ?? '(none)'} at ${m.url}`,
          why: `The metadata says issuer ${m.issuer ?? '(none)'} but the PRM names ${issuer}${m.issuer ? `: ${explainUrlDifference(m.issuer, issuer)}` : ''}. Clients reject metadata whose issuer differs (RFC 8414 §3.3), and tokens carry Keycloak's issuer.`,
          fix: `Publish exactly ${m.issuer ?? 'Keycloak\u2019s issuer'} in the PRM authorization_servers; if Keycloak sits behind a proxy, set its hostname (KC_HOSTNAME) so the issuer is the public URL.`,
        }),
      );
    }

    const registration = asString(doc.registration_endpoint);
    findings.push(
      registration
        ? pass('as.registration_endpoint', 'Dynamic client registration is offered', { actual: registration })
        : fail('as.registration_endpoint', 'Dynamic client registration is offered', {
            expected: 'registration_endpoint in the metadata',
            actual: 'missing',
            why: 'VS Code, Claude and Cursor register themselves (RFC 7591); without an endpoint they need a pre-registered client.',
            fix: 'Serve the metadata from Keycloak itself (it always advertises clients-registrations/openid-connect).',
          }),
    );
    const methods = asStrings(doc.code_challenge_methods_supported) ?? [];
    findings.push(
      methods.includes('S256')
        ? pass('as.pkce', 'PKCE S256 is supported', { actual: methods.join(', ') })
        : fail('as.pkce', 'PKCE S256 is supported', {
            expected: 'code_challenge_methods_supported containing S256',
            actual: methods.length ? methods.join(', ') : 'not advertised',
            why: 'MCP clients must use PKCE S256 and refuse to continue when the server does not advertise it.',
            fix: 'Use a Keycloak that advertises S256 (every supported version does).',
          }),
    );
    return findings;
  },
};
