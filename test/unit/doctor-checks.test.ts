/**
 * Doctor's HTTP checks without a network: each check gets canned HTTP answers through `DoctorInput.request`
 * (the seam the real `request` fills in production), so the verdicts, the order of the URLs tried and the
 * facts handed to later checks are tested on their own. This feeds the checks' logic, not Keycloak's API:
 * the integration tests (test/integration/doctor*.test.ts) run the same checks against a real server.
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { asMetadataCheck, cimdFinding } from '../../src/doctor/checks/as-metadata.js';
import { challengeCheck } from '../../src/doctor/checks/challenge.js';
import { keycloakCheck } from '../../src/doctor/checks/keycloak.js';
import { prmCheck } from '../../src/doctor/checks/prm.js';
import { issFinding } from '../../src/doctor/checks/registration.js';
import type { AdminSession } from '../../src/keycloak/session.js';
import { command } from '../../src/ui/invocation.js';
import type { HttpRequest, HttpResult } from '../../src/doctor/http.js';
import type { DoctorInput, DoctorState } from '../../src/doctor/types.js';
import type { Finding } from '../../src/findings.js';

const MCP = 'http://localhost:8000/mcp';
const ISS = 'http://localhost:8080/realms/mcp-demo';
const PRM_URL = 'http://localhost:8000/.well-known/oauth-protected-resource/mcp';
const RFC8414 = 'http://localhost:8080/.well-known/oauth-authorization-server/realms/mcp-demo';
const OIDC_INSERTED = 'http://localhost:8080/.well-known/openid-configuration/realms/mcp-demo';
const OIDC_APPENDED = `${ISS}/.well-known/openid-configuration`;

type Answer = Omit<HttpResult, 'url'>;

/** An HTTP server in a table: each URL's answer (404 for any other), and the requests made, in order. */
function canned(answers: Record<string, Answer>): { request: HttpRequest; calls: { url: string; method: string }[] } {
  const calls: { url: string; method: string }[] = [];
  const request: HttpRequest = async (url, init) => {
    calls.push({ url, method: init?.method ?? 'GET' });
    return { url, ...(answers[url] ?? { status: 404, text: '' }) };
  };
  return { request, calls };
}

function json(document: Record<string, unknown>): Answer {
  return {
    status: 200,
    headers: new Headers({ 'content-type': 'application/json' }),
    json: document,
    text: JSON.stringify(document),
  };
}

function unauthorized(challenge: string): Answer {
  return { status: 401, headers: new Headers({ 'www-authenticate': challenge }), text: '' };
}

function inputWith(request: HttpRequest): DoctorInput {
  const config = configSchema.parse({
    keycloakUrl: 'http://localhost:8080',
    realm: 'mcp-demo',
    resources: [{ url: MCP, scopes: ['mcp:tools'] }],
  });
  return { config, resource: config.resources[0]!, secrets: {}, expectedIssuer: ISS, request };
}

function byId(findings: Finding[]): Record<string, Finding> {
  return Object.fromEntries(findings.map((f) => [f.id, f]));
}

describe('challenge check', () => {
  it('passes a 401 with resource_metadata and scope, and hands both to the later checks', async () => {
    const { request, calls } = canned({
      [MCP]: unauthorized(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`),
    });
    const state: DoctorState = {};
    const findings = await challengeCheck.run(inputWith(request), state);
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['challenge.status', 'pass'],
      ['challenge.resource_metadata', 'pass'],
      ['challenge.scope', 'pass'],
    ]);
    expect(calls).toEqual([{ url: MCP, method: 'POST' }]);
    expect(state.challenge).toEqual({ status: 401, resourceMetadata: PRM_URL, scope: 'mcp:tools' });
  });

  it('fails an endpoint that answers without a token: it is not protected', async () => {
    const { request } = canned({ [MCP]: json({ jsonrpc: '2.0', id: 1, result: {} }) });
    const [finding, ...rest] = await challengeCheck.run(inputWith(request), {});
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ id: 'challenge.status', status: 'fail', actual: 'HTTP 200' });
    expect(finding!.why).toMatch(/not protected/);
  });

  it('fails an unreachable server with the network error and how to start one', async () => {
    const request: HttpRequest = async (url) => ({ url, error: 'connection refused' });
    const [finding] = await challengeCheck.run(inputWith(request), {});
    expect(finding).toMatchObject({ id: 'challenge.status', status: 'fail', actual: 'connection refused' });
    expect(finding!.fix).toContain(command(`serve --resource ${MCP}`));
  });

  it('fails a 401 without resource_metadata and warns about a missing scope', async () => {
    const { request } = canned({ [MCP]: unauthorized('Bearer realm="mcp"') });
    const state: DoctorState = {};
    const findings = byId(await challengeCheck.run(inputWith(request), state));
    expect(findings['challenge.status']!.status).toBe('pass');
    expect(findings['challenge.resource_metadata']!.status).toBe('fail');
    expect(findings['challenge.scope']).toMatchObject({
      status: 'warn',
      actual: 'no scope parameter',
      expected: 'scope="mcp:tools"',
    });
    expect(state.challenge).toEqual({ status: 401 });
  });

  it('fails a 401 whose challenge is not Bearer', async () => {
    const { request } = canned({ [MCP]: unauthorized('Basic realm="x"') });
    const [finding] = await challengeCheck.run(inputWith(request), {});
    expect(finding).toMatchObject({ status: 'fail', actual: 'WWW-Authenticate: Basic realm="x"' });
  });
});

describe('Protected Resource Metadata check', () => {
  const good = { resource: MCP, authorization_servers: [ISS], scopes_supported: ['mcp:tools'] };

  it('reads the document the challenge names and passes a matching one', async () => {
    const elsewhere = 'http://localhost:8000/prm.json';
    const { request, calls } = canned({ [elsewhere]: json(good) });
    const state: DoctorState = { challenge: { status: 401, resourceMetadata: elsewhere } };
    const findings = await prmCheck.run(inputWith(request), state);
    expect(findings.every((f) => f.status === 'pass')).toBe(true);
    expect(calls.map((c) => c.url)).toEqual([elsewhere]);
    expect(state.prm).toEqual({ url: elsewhere, document: good });
    expect(state.authorizationServer).toBe(ISS);
  });

  it('tries path-inserted, then root well-known URLs when there is no challenge URL', async () => {
    const root = 'http://localhost:8000/.well-known/oauth-protected-resource';
    const { request, calls } = canned({ [root]: json(good) });
    const findings = byId(await prmCheck.run(inputWith(request), {}));
    expect(calls.map((c) => c.url)).toEqual([PRM_URL, root]);
    expect(findings['prm.found']).toMatchObject({ status: 'pass', actual: `${root} (after ${PRM_URL} → HTTP 404)` });
  });

  it('explains a resource with a trailing slash in one sentence', async () => {
    const { request } = canned({ [PRM_URL]: json({ ...good, resource: `${MCP}/` }) });
    const finding = byId(await prmCheck.run(inputWith(request), {}))['prm.resource']!;
    expect(finding).toMatchObject({ status: 'fail', expected: MCP, actual: `${MCP}/` });
    expect(finding.why).toMatch(/a trailing slash/);
  });

  it('names the other realm when authorization_servers points there', async () => {
    const { request } = canned({
      [PRM_URL]: json({ ...good, authorization_servers: ['http://localhost:8080/realms/other'] }),
    });
    const state: DoctorState = {};
    const finding = byId(await prmCheck.run(inputWith(request), state))['prm.authorization_servers']!;
    expect(finding.status).toBe('fail');
    expect(finding.why).toContain('PRM names realm "other"');
    expect(state.authorizationServer).toBe('http://localhost:8080/realms/other');
  });

  it('fails the challenge URL that does not answer even when a well-known URL does', async () => {
    const broken = 'http://localhost:8000/missing-prm';
    const { request } = canned({ [PRM_URL]: json(good) });
    const finding = byId(
      await prmCheck.run(inputWith(request), { challenge: { status: 401, resourceMetadata: broken } }),
    )['prm.found']!;
    expect(finding).toMatchObject({ status: 'fail', actual: `${broken} → HTTP 404; found only at ${PRM_URL}` });
  });

  it('fails when no URL serves it, skips the rest and falls back to the expected issuer', async () => {
    const { request } = canned({});
    const state: DoctorState = {};
    const findings = await prmCheck.run(inputWith(request), state);
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['prm.found', 'fail'],
      ['prm.resource', 'skip'],
      ['prm.authorization_servers', 'skip'],
      ['prm.scopes_supported', 'skip'],
    ]);
    expect(state.authorizationServer).toBe(ISS);
  });
});

describe('authorization server metadata check', () => {
  const metadata = {
    issuer: ISS,
    registration_endpoint: `${ISS}/clients-registrations/openid-connect`,
    code_challenge_methods_supported: ['plain', 'S256'],
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: [
      'private_key_jwt',
      'client_secret_basic',
      'client_secret_post',
      'tls_client_auth',
      'client_secret_jwt',
    ],
  };

  it('passes Keycloak-like metadata at all three discovery URLs and keeps the first for later checks', async () => {
    const { request, calls } = canned({
      [RFC8414]: json(metadata),
      [OIDC_INSERTED]: json(metadata),
      [OIDC_APPENDED]: json(metadata),
    });
    const state: DoctorState = { authorizationServer: ISS };
    const findings = await asMetadataCheck.run(inputWith(request), state);
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['as.metadata', 'pass'],
      ['as.issuer', 'pass'],
      ['as.registration_endpoint', 'pass'],
      ['as.pkce', 'pass'],
      ['as.iss_parameter', 'pass'],
      ['as.cimd', 'pass'],
    ]);
    expect(calls.map((c) => c.url).sort()).toEqual([OIDC_APPENDED, OIDC_INSERTED, RFC8414].sort());
    expect(state.asMetadata?.url).toBe(RFC8414);
  });

  it('warns when only OpenID discovery answers (no RFC 8414 metadata)', async () => {
    const { request } = canned({ [OIDC_APPENDED]: json(metadata) });
    const findings = byId(await asMetadataCheck.run(inputWith(request), {}));
    expect(findings['as.metadata']!.status).toBe('warn');
    expect(findings['as.metadata']!.actual).toContain(`${RFC8414} → HTTP 404`);
    expect(findings['as.issuer']!.status).toBe('pass');
  });

  it('fails an issuer that differs from the PRM entry, and metadata without PKCE S256 or registration', async () => {
    const other = { issuer: 'http://127.0.0.1:8080/realms/mcp-demo', code_challenge_methods_supported: ['plain'] };
    const { request } = canned({ [RFC8414]: json(other) });
    const findings = byId(await asMetadataCheck.run(inputWith(request), {}));
    expect(findings['as.issuer']!.status).toBe('fail');
    expect(findings['as.issuer']!.why).toMatch(/the host \(127\.0\.0\.1 vs localhost\)/);
    expect(findings['as.registration_endpoint']).toMatchObject({ status: 'fail', actual: 'missing' });
    expect(findings['as.pkce']).toMatchObject({ status: 'fail', actual: 'plain' });
  });

  it('fails and skips the rest when no discovery URL answers with JSON', async () => {
    const { request } = canned({ [RFC8414]: { status: 200, text: '<html>', error: 'not JSON (text/html)' } });
    const findings = await asMetadataCheck.run(inputWith(request), {});
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['as.metadata', 'fail'],
      ['as.issuer', 'skip'],
      ['as.registration_endpoint', 'skip'],
      ['as.pkce', 'skip'],
      ['as.iss_parameter', 'skip'],
      ['as.cimd', 'skip'],
    ]);
    expect(findings[0]!.actual).toContain(`${RFC8414} → HTTP 200 but not JSON (text/html)`);
  });

  it('warns when the metadata does not promise iss in authorization responses (RFC 9207), with the fix', async () => {
    for (const value of [undefined, false]) {
      const { request } = canned({
        [RFC8414]: json({ ...metadata, authorization_response_iss_parameter_supported: value }),
      });
      const finding = byId(await asMetadataCheck.run(inputWith(request), {}))['as.iss_parameter']!;
      expect(finding).toMatchObject({
        status: 'warn',
        expected: 'authorization_response_iss_parameter_supported: true',
      });
      expect(finding.actual).toBe(
        value === undefined ? 'not advertised' : 'authorization_response_iss_parameter_supported: false',
      );
      expect(finding.why).toMatch(/RFC 9207 cannot tell .* mix-up/);
      expect(finding.fix).toMatch(/upgrade/);
    }
  });

  it('CIMD is information, never a warning: available only with the flag and "none" together', async () => {
    const cimd = async (extra: Record<string, unknown>) => {
      const { request } = canned({ [RFC8414]: json({ ...metadata, ...extra }) });
      return byId(await asMetadataCheck.run(inputWith(request), {}))['as.cimd']!;
    };
    const none = [...metadata.token_endpoint_auth_methods_supported, 'none'];
    // A healthy DCR-only Keycloak (no --features=cimd): passes, and says how to turn CIMD on.
    const off = await cimd({});
    expect(off.status).toBe('pass');
    expect(off.actual).toMatch(
      /^not available .*clients register with DCR, as this setup expects; to offer CIMD, start Keycloak with --features=cimd \(26\.6\+\)$/,
    );
    expect(off.fix).toBe('To offer CIMD, start Keycloak with --features=cimd (26.6+).');
    const on = await cimd({ client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: none });
    expect(on.status).toBe('pass');
    expect(on.actual).toMatch(/^available: /);
    const half = await cimd({ client_id_metadata_document_supported: true });
    expect(half.status).toBe('pass');
    expect(half.actual).toMatch(
      /"none" is not among token_endpoint_auth_methods_supported: clients that need both \(Claude Code\) register with DCR/,
    );
    expect((await cimd({ token_endpoint_auth_methods_supported: none })).actual).toMatch(/^not available/);
  });

  it('a configuration that sets up CIMD is warned when Keycloak does not offer it', () => {
    const off = cimdFinding({}, true);
    expect(off).toMatchObject({
      id: 'as.cimd',
      status: 'warn',
      actual: 'not available (no client_id_metadata_document_supported)',
      fix: 'Start Keycloak with --features=cimd (26.6+).',
    });
    expect(cimdFinding({ client_id_metadata_document_supported: true }, true).status).toBe('warn');
    expect(
      cimdFinding(
        { client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['none'] },
        true,
      ).status,
    ).toBe('pass');
  });
});

describe('keycloak check', () => {
  it('fails with the discovery problem and the apply command for this very target', async () => {
    const input = {
      ...inputWith(async (url) => ({ url })),
      keycloakProblem: 'Cannot reach Keycloak at http://localhost:8080 (connection refused).',
    };
    const [finding] = await keycloakCheck.run(input, {});
    expect(finding).toMatchObject({ id: 'keycloak.realm', status: 'fail', actual: input.keycloakProblem });
    expect(finding!.fix).toContain(`\`${command('apply')} --scope mcp:tools\` creates the realm`);
  });

  it('another server at the URL: the fix is the URL, never apply', async () => {
    const input = {
      ...inputWith(async (url) => ({ url })),
      keycloakProblem: 'http://localhost:8080 does not look like Keycloak: …',
      keycloakProblemKind: 'not-keycloak' as const,
    };
    const [finding] = await keycloakCheck.run(input, {});
    expect(finding!.fix).toMatch(/^Correct --keycloak-url \/ KEYCLOAK_URL: http:\/\/localhost:8080 is another server;/);
    expect(finding!.fix).not.toContain('apply');
  });

  it('a missing realm: the fix is apply, or --realm', async () => {
    const input = {
      ...inputWith(async (url) => ({ url })),
      keycloakProblem: 'Keycloak at http://localhost:8080 has no realm "r" …',
      keycloakProblemKind: 'realm-missing' as const,
    };
    const [finding] = await keycloakCheck.run(input, {});
    expect(finding!.fix).toBe(`Create the realm with \`${command('apply')} --scope mcp:tools\`, or check --realm.`);
  });
});

describe('registration.iss: clients whose authorization responses carry no iss', () => {
  /** An admin session whose client list is `clients`, served in the pages the check asks for. */
  function adminWith(clients: { clientId: string; attributes?: Record<string, unknown> }[]): {
    admin: AdminSession;
    pages: { first?: number; max?: number }[];
  } {
    const pages: { first?: number; max?: number }[] = [];
    const find = async ({ first = 0, max = 100 }: { first?: number; max?: number }) => {
      pages.push({ first, max });
      return clients.slice(first, first + max);
    };
    return { admin: { client: { clients: { find } } } as unknown as AdminSession, pages };
  }
  const input = (admin?: AdminSession): DoctorInput => ({
    ...inputWith(async (url) => ({ url })),
    ...(admin ? { admin } : { adminMissing: 'no admin credentials' }),
  });

  it('passes when no client has exclude.issuer.from.auth.response on, reading every page', async () => {
    const clients = Array.from({ length: 450 }, (_, i) => ({
      clientId: `c${i}`,
      attributes: i === 7 ? { 'exclude.issuer.from.auth.response': 'false' } : {},
    }));
    const { admin, pages } = adminWith(clients);
    const finding = await issFinding(input(admin), {}, { authorization_response_iss_parameter_supported: true });
    expect(finding).toMatchObject({
      id: 'registration.iss',
      status: 'pass',
      actual: 'no client has exclude.issuer.from.auth.response on, 450 clients read',
    });
    expect(pages).toEqual([
      { first: 0, max: 200 },
      { first: 200, max: 200 },
      { first: 400, max: 200 },
    ]);
  });

  it('warns naming the clients, and why RFC 9207 clients fail when Keycloak advertises iss', async () => {
    const { admin } = adminWith([
      { clientId: 'account' },
      { clientId: 'legacy-app', attributes: { 'exclude.issuer.from.auth.response': 'true' } },
    ]);
    const finding = await issFinding(input(admin), {}, { authorization_response_iss_parameter_supported: true });
    expect(finding).toMatchObject({
      status: 'warn',
      actual: '1 client(s) with exclude.issuer.from.auth.response = true: "legacy-app"',
    });
    expect(finding.why).toMatch(/the MCP SDK v2\) refuse the response as a possible mix-up attack/);
    expect(finding.fix).toMatch(/Exclude Issuer From Authentication Response/);
  });

  it('reuses the clients the realm audit read (one listing per doctor run)', async () => {
    const { admin, pages } = adminWith([{ clientId: 'account' }]);
    const state = {
      realmClients: {
        clients: [{ clientId: 'legacy-app', attributes: { 'exclude.issuer.from.auth.response': 'true' } }],
        complete: true,
      },
    };
    expect(await issFinding(input(admin), state, undefined)).toMatchObject({
      status: 'warn',
      actual: '1 client(s) with exclude.issuer.from.auth.response = true: "legacy-app"',
    });
    expect(pages).toEqual([]);
  });

  it('is skipped without admin credentials, and fails when they were given but the clients cannot be read', async () => {
    expect((await issFinding(input(), {}, undefined)).status).toBe('skip');
    const broken = {
      client: {
        clients: {
          find: async () => {
            throw new Error('HTTP 403');
          },
        },
      },
    } as unknown as AdminSession;
    // Green means tried (src/doctor/verdicts.ts): credentials were given, the admin API did not answer.
    expect(await issFinding(input(broken), {}, undefined)).toMatchObject({
      status: 'fail',
      actual: "the realm's clients could not be read: HTTP 403",
    });
  });
});
