/**
 * The e2e flow's pure readings added for RFC 9207 and RFC 8707: the `iss` of the authorization response
 * against the issuer (the MCP spec's four-row table, the same rule the v2 SDK applies), the finding that
 * names which step compared it, and the explanation of `invalid_target`. No network: the e2e tests
 * (test/e2e/issuer-and-target.test.ts) run the same paths against the real Keycloak.
 */
import { describe, expect, it } from 'vitest';
import {
  checkResponseIssuer,
  invalidTargetFix,
  metadataIssuerProblem,
  oauthErrorCode,
  readResponseIssuer,
  readTokenError,
} from '../../src/e2e/responses.js';
import { readAsMetadata } from '../../src/e2e/steps.js';
import { command } from '../../src/ui/invocation.js';

const ISS = 'http://127.0.0.1:8080/realms/mcp-demo';
const MCP = 'http://127.0.0.1:8000/mcp';

describe('checkResponseIssuer (RFC 9207 §2.4)', () => {
  it.each([
    // advertised, iss, verdict
    [true, ISS, { ok: true, iss: ISS, advertised: true }],
    [true, undefined, { ok: false, problem: 'missing', expected: ISS }],
    [false, ISS, { ok: true, iss: ISS, advertised: false }],
    [false, undefined, { ok: true, advertised: false }],
    [true, `${ISS}/`, { ok: false, problem: 'mismatch', expected: ISS, received: `${ISS}/` }],
    [
      false,
      'http://127.0.0.1:8080/realms/other',
      { ok: false, problem: 'mismatch', expected: ISS, received: 'http://127.0.0.1:8080/realms/other' },
    ],
  ] as const)('advertised %s, iss %s', (advertised, iss, verdict) => {
    expect(checkResponseIssuer(iss, ISS, advertised)).toEqual(verdict);
  });

  it('compares by simple string equality: no case folding, no default-port elision', () => {
    expect(checkResponseIssuer('HTTP://127.0.0.1:8080/realms/mcp-demo', ISS, true).ok).toBe(false);
    expect(checkResponseIssuer('http://localhost:80/realms/r', 'http://localhost/realms/r', true).ok).toBe(false);
  });

  it('has nothing to compare with when no issuer was discovered', () => {
    expect(checkResponseIssuer(undefined, undefined, true)).toEqual({ ok: true, advertised: true });
    expect(checkResponseIssuer('x', undefined, true)).toMatchObject({ ok: true });
  });
});

describe('readResponseIssuer: the e2e.iss finding names who compared', () => {
  it('passes an equal iss, checked by the flow (v1) or by the v2 SDK', () => {
    const verdict = checkResponseIssuer(ISS, ISS, true);
    expect(readResponseIssuer(verdict, 'flow')).toMatchObject({
      id: 'e2e.iss',
      status: 'pass',
      actual: `iss ${ISS} equals the issuer; checked by the e2e flow before finishAuth (the v1 SDK does not check iss)`,
    });
    expect(readResponseIssuer(verdict, 'sdk-v2').actual).toMatch(
      /checked by @modelcontextprotocol\/client \(v2\) in finishAuth, before it redeemed the code$/,
    );
    expect(readResponseIssuer(verdict, 'flow').fix).toBeUndefined();
  });

  it('fails a missing iss while advertised, naming the client attribute to turn off', () => {
    const finding = readResponseIssuer(checkResponseIssuer(undefined, ISS, true), 'sdk-v2', 'abc-123');
    expect(finding.status).toBe('fail');
    expect(finding.actual).toMatch(
      /^the redirect carried no iss although the metadata advertises authorization_response_iss_parameter_supported; checked by @modelcontextprotocol\/client \(v2\)/,
    );
    expect(finding.fix).toContain('"Exclude Issuer From Authentication Response" for client abc-123');
    expect(finding.fix).toContain('exclude.issuer.from.auth.response = "false"');
  });

  it('fails a different iss, showing the received value JSON-encoded and short (an attacker may choose it)', () => {
    const hostile = `http://127.0.0.1:1/realms/x"\n${'a'.repeat(500)}`;
    const finding = readResponseIssuer(checkResponseIssuer(hostile, ISS, true), 'flow');
    expect(finding.status).toBe('fail');
    expect(finding.actual).not.toContain('\n');
    expect(finding.actual).toContain('"http://127.0.0.1:1/realms/x\\"\\n');
    expect(finding.actual!.length).toBeLessThan(400);
    expect(finding.actual).toContain(`but the issuer is ${ISS}; checked by the e2e flow`);
    expect(finding.fix).toMatch(/mix-up/);
  });

  it('warns when the server neither advertises nor sends iss: sign-in works, mix-ups go unnoticed', () => {
    const finding = readResponseIssuer(checkResponseIssuer(undefined, ISS, false), 'flow');
    expect(finding.status).toBe('warn');
    expect(finding.actual).toMatch(/does not advertise authorization_response_iss_parameter_supported/);
  });
});

describe('invalid_target explained', () => {
  const unknown = 'The requested resource is invalid, missing, unknown, or malformed.';

  it('reads the OAuth error code of either SDK line', () => {
    expect(oauthErrorCode({ code: 'invalid_target', message: unknown })).toBe('invalid_target'); // v2 OAuthError
    expect(oauthErrorCode({ errorCode: 'invalid_target', message: unknown })).toBe('invalid_target'); // v1 InvalidTargetError
    expect(oauthErrorCode(new Error('HTTP 400: error=invalid_target'))).toBe('invalid_target');
    expect(oauthErrorCode({ code: 'invalid_grant' })).toBe('invalid_grant');
    expect(oauthErrorCode(new Error('fetch failed'))).toBeUndefined();
  });

  it('a resource no client of the realm has as resource_url: run apply, it creates the resource client', () => {
    expect(invalidTargetFix(unknown, MCP, ISS)).toBe(
      `Keycloak runs with resource indicators (RFC 8707) and no client of realm mcp-demo has resource_url = ${MCP}: run \`${command('apply')}\` (it creates the resource client).`,
    );
  });

  it('token and authorization requests with different resources: a client bug, not the realm', () => {
    const fix = invalidTargetFix('The requested resource is not matching the original request.', MCP, ISS);
    expect(fix).toMatch(/different `resource` to the token endpoint than in the authorization request/);
    expect(fix).not.toContain('apply');
  });

  it('at the authorization endpoint Keycloak refuses only a resource it cannot parse', () => {
    const fix = invalidTargetFix('the redirect carried error=invalid_target (Invalid resource)', MCP, ISS, 'authorize');
    expect(fix).toMatch(/absolute URI/);
    expect(fix).not.toContain('apply');
  });

  it('the e2e.token finding: invalid_target gets its explanation, other errors the generic one', () => {
    const target = readTokenError({ code: 'invalid_target' }, unknown, MCP, ISS);
    expect(target).toMatchObject({ id: 'e2e.token', status: 'fail', actual: unknown });
    expect(target.fix).toMatch(
      /^Keycloak runs with resource indicators \(RFC 8707\) and no client of realm mcp-demo has resource_url = /,
    );
    const grant = readTokenError({ code: 'invalid_grant' }, 'Code not valid', MCP, ISS);
    expect(grant.fix).toMatch(
      /^Read the error: invalid_grant usually means a redirect_uri or PKCE mismatch; invalid_target/,
    );
  });
});

describe('readAsMetadata: a registration endpoint only for a client that must register', () => {
  const metadata = (extra: Record<string, unknown> = {}) =>
    ({
      authorizationServerUrl: ISS,
      authorizationServerMetadata: {
        issuer: ISS,
        authorization_endpoint: `${ISS}/auth`,
        token_endpoint: `${ISS}/token`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        ...extra,
      },
    }) as unknown as Parameters<typeof readAsMetadata>[0];

  it('passes with a registration endpoint', () => {
    expect(readAsMetadata(metadata({ registration_endpoint: `${ISS}/reg` })).status).toBe('pass');
  });

  it('fails without one for a client that would have to register', () => {
    const finding = readAsMetadata(metadata());
    expect(finding.status).toBe('fail');
    expect(finding.actual).toContain('advertises no registration_endpoint');
    // A metadata document URL does not help where the AS does not take them.
    expect(readAsMetadata(metadata(), undefined, { metadataUrl: 'https://client.example/meta.json' }).status).toBe(
      'fail',
    );
  });

  it('passes without one for a pre-registered client, and for a CIMD client where the AS advertises CIMD', () => {
    expect(readAsMetadata(metadata(), undefined, { registered: true })).toMatchObject({
      status: 'pass',
      actual: expect.stringContaining('already registered'),
    });
    const cimd = readAsMetadata(metadata({ client_id_metadata_document_supported: true }), undefined, {
      metadataUrl: 'https://client.example/meta.json',
    });
    expect(cimd).toMatchObject({ status: 'pass', actual: expect.stringContaining('metadata document URL') });
  });

  it('fails without PKCE S256 whatever the client', () => {
    expect(
      readAsMetadata(metadata({ code_challenge_methods_supported: ['plain'] }), undefined, { registered: true }).status,
    ).toBe('fail');
  });
});

describe('metadataIssuerProblem (RFC 8414 §3.3, what the flow checks for the v1 SDK)', () => {
  it.each([
    // metadata URL, issuer it may name
    ['http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/mcp-demo', ISS],
    ['http://127.0.0.1:8080/.well-known/openid-configuration/realms/mcp-demo', ISS],
    ['http://127.0.0.1:8080/realms/mcp-demo/.well-known/openid-configuration', ISS],
    ['http://127.0.0.1:3000/.well-known/oauth-authorization-server', 'http://127.0.0.1:3000'],
    ['http://127.0.0.1:3000/.well-known/oauth-authorization-server', 'http://127.0.0.1:3000/'],
  ])('accepts %s naming %s', (url, issuer) => {
    expect(metadataIssuerProblem(url, issuer)).toBeUndefined();
  });

  it('refuses another issuer, a missing one and a near miss, naming both', () => {
    const url = 'http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/mcp-demo';
    expect(metadataIssuerProblem(url, 'http://evil.example/realms/mcp-demo')).toBe(
      `the authorization server metadata at ${url} names the issuer "http://evil.example/realms/mcp-demo", not ${ISS} (RFC 8414 §3.3): its endpoints were not used`,
    );
    expect(metadataIssuerProblem(url, undefined)).toContain('names the issuer "undefined"');
    expect(
      metadataIssuerProblem(`${ISS}/.well-known/openid-configuration`, 'http://127.0.0.1:8080/realms/mcp-demo2'),
    ).toBeDefined();
  });

  it('has no opinion on URLs that are not metadata URLs', () => {
    expect(
      metadataIssuerProblem('http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp', 'x'),
    ).toBeUndefined();
  });
});

describe('HTTP 500 from the token endpoint explained (resource indicators, keycloak#50251 / #49077)', () => {
  it('names the missing refresh_token grant when the client registered without it', () => {
    const finding = readTokenError(
      new Error('For more on this error consult the server log.'),
      'For more on this error consult the server log.',
      MCP,
      ISS,
      { status: 500, grantTypes: ['authorization_code'] },
    );
    expect(finding.actual).toBe(
      'Keycloak answered HTTP 500 to the token request: For more on this error consult the server log.',
    );
    expect(finding.fix).toContain(
      'keycloak#50251): this client registered grant_types ["authorization_code"], without refresh_token',
    );
  });

  it('names both causes when the grant types are unknown or include refresh_token', () => {
    for (const facts of [{ status: 500 }, { status: 500, grantTypes: ['authorization_code', 'refresh_token'] }]) {
      const fix = readTokenError(new Error('x'), 'x', MCP, ISS, facts).fix!;
      expect(fix).toContain('keycloak#50251');
      expect(fix).toContain(
        `keycloak#49077, fixed in 26.8.0: the client lacks the scope whose Audience mapper adds ${MCP}`,
      );
    }
  });

  it('leaves other statuses to the generic fix', () => {
    expect(readTokenError(new Error('invalid_grant'), 'invalid_grant', MCP, ISS, { status: 400 }).fix).toBe(
      readTokenError(new Error('invalid_grant'), 'invalid_grant', MCP, ISS).fix,
    );
  });
});
