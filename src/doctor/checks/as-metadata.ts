/**
 * Check 3: authorization server metadata at the URLs clients try for the issuer the PRM names: RFC 8414
 * path-inserted, OIDC path-inserted, then OIDC path-appended. The `issuer` inside must equal the PRM entry
 * byte for byte (RFC 8414 §3.3), and the document must offer registration and PKCE S256. It should also
 * promise `iss` in authorization responses (RFC 9207), and says whether clients may use Client ID
 * Metadata Documents instead of registering (information only: this setup relies on registration).
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
    const answers = await Promise.all(
      asMetadataCandidates(issuer).map(async (c) => ({
        ...c,
        result: await send(c.url, { headers: { accept: 'application/json' } }),
      })),
    );
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
        skip('as.iss_parameter', ISS_PARAMETER_TITLE, reason),
        skip('as.cimd', CIMD_TITLE, reason),
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
      findings.push(
        pass('as.metadata', 'Authorization server metadata is reachable', { actual: ok.map((a) => a.url).join(', ') }),
      );
    }

    // Every document that answered must carry the same issuer, byte for byte.
    const mismatched = ok
      .map((a) => ({ url: a.url, issuer: asString(a.result.json!.issuer) }))
      .filter((a) => a.issuer !== issuer);
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
    findings.push(issParameterFinding(doc), cimdFinding(doc, cimdWanted(input.config)));
    return findings;
  },
};

const ISS_PARAMETER_TITLE = 'Authorization responses carry iss (RFC 9207)';
const CIMD_TITLE = 'Client ID Metadata Documents (CIMD)';

/**
 * RFC 9207: with `authorization_response_iss_parameter_supported: true` the server promises `iss` in every
 * authorization response, and clients that follow RFC 9207 (the MCP SDK v2) compare it with the issuer,
 * which is how they detect a mix-up attack. Keycloak always advertises it (a client attribute can drop `iss`
 * for that one client: the registration check names such clients).
 */
export function issParameterFinding(doc: Record<string, unknown>): Finding {
  const value = doc.authorization_response_iss_parameter_supported;
  if (value === true)
    return pass('as.iss_parameter', ISS_PARAMETER_TITLE, {
      actual: 'authorization_response_iss_parameter_supported: true',
    });
  return warn('as.iss_parameter', ISS_PARAMETER_TITLE, {
    expected: 'authorization_response_iss_parameter_supported: true',
    actual:
      value === undefined
        ? 'not advertised'
        : `authorization_response_iss_parameter_supported: ${JSON.stringify(value)}`,
    why: 'Without it, clients that follow RFC 9207 cannot tell whether an authorization response came from this server or from another one (a mix-up attack); sign-in still works.',
    fix: 'Serve Keycloak\u2019s own metadata (every supported Keycloak, 26.0 and later, advertises it; an older one: upgrade), not a copy edited by a proxy.',
  });
}

/** Whether the configuration sets up CIMD (an enabled `cimd` section); read loosely, as older configs have none. */
function cimdWanted(config: unknown): boolean {
  const cimd = (config as { cimd?: { enabled?: unknown } } | undefined)?.cimd;
  return cimd !== undefined && cimd.enabled !== false;
}

/**
 * Keycloak's experimental `cimd` feature (26.6 and later): `client_id_metadata_document_supported: true`,
 * and `none` added to `token_endpoint_auth_methods_supported`. Claude Code uses CIMD only when both hold;
 * otherwise clients register (DCR). For a DCR-only setup either answer is information (a pass); only a
 * configuration that sets up CIMD (`wanted`) is warned when Keycloak does not offer it.
 */
export function cimdFinding(doc: Record<string, unknown>, wanted = false): Finding {
  const supported = doc.client_id_metadata_document_supported === true;
  const methods = asStrings(doc.token_endpoint_auth_methods_supported) ?? [];
  const enable = 'start Keycloak with --features=cimd (26.6+)';
  if (supported && methods.includes('none')) {
    return pass('as.cimd', CIMD_TITLE, {
      actual:
        'available: client_id_metadata_document_supported true and "none" among token_endpoint_auth_methods_supported, so clients may use a metadata URL as client_id instead of registering',
    });
  }
  const noNone = 'advertised, but "none" is not among token_endpoint_auth_methods_supported';
  if (wanted) {
    return warn('as.cimd', CIMD_TITLE, {
      expected: 'client_id_metadata_document_supported: true and "none" among token_endpoint_auth_methods_supported',
      actual: supported ? noNone : 'not available (no client_id_metadata_document_supported)',
      why: 'The configuration sets up CIMD, but clients use it only when the metadata offers both (Claude Code checks both); they fall back to DCR.',
      fix: supported
        ? 'Serve Keycloak\u2019s own metadata (with --features=cimd it adds "none" itself).'
        : `${enable[0]!.toUpperCase()}${enable.slice(1)}.`,
    });
  }
  if (supported) {
    return pass('as.cimd', CIMD_TITLE, {
      actual: `${noNone}: clients that need both (Claude Code) register with DCR instead`,
      why: 'A public client with a metadata-document client_id authenticates with "none" at the token endpoint.',
    });
  }
  return pass('as.cimd', CIMD_TITLE, {
    actual: `not available (no client_id_metadata_document_supported): clients register with DCR, as this setup expects; to offer CIMD, ${enable}`,
    fix: `To offer CIMD, ${enable}.`,
  });
}
