/** The pure parts of doctor: URL explanations, challenge parsing, discovery URL order, claim comparison, probe bodies, report. */
import { describe, expect, it } from 'vitest';
import { asMetadataCandidates } from '../../src/doctor/checks/as-metadata.js';
import { prmCandidates } from '../../src/doctor/checks/prm.js';
import { audienceFinding } from '../../src/doctor/checks/realm.js';
import { PROBE_CLIENTS } from '../../src/doctor/clients.js';
import { applyCommand, doctorFixCommand } from '../../src/doctor/fixes.js';
import { buildReport, renderReport } from '../../src/doctor/report.js';
import { runChecks } from '../../src/doctor/runner.js';
import type { Check, DoctorInput } from '../../src/doctor/types.js';
import { explainUrlDifference } from '../../src/doctor/url-diff.js';
import { bearerChallenge, parseWwwAuthenticate } from '../../src/oauth/www-authenticate.js';
import { configSchema } from '../../src/config/schema.js';
import type { Change } from '../../src/realm/change.js';
import { compareClaims } from '../../src/doctor/token/claims.js';
import { command } from '../../src/ui/invocation.js';
import { Chalk } from 'chalk';

const MCP = 'http://localhost:8000/mcp';
const ISS = 'http://localhost:8080/realms/mcp-demo';

describe('explainUrlDifference', () => {
  it.each([
    [`${MCP}/`, MCP, /^a trailing slash \(the value has one/],
    [MCP, `${MCP}/`, /^a trailing slash \(the expected URL has one/],
    ['https://localhost:8000/mcp', MCP, /the scheme \(https vs http\)/],
    ['http://127.0.0.1:8000/mcp', MCP, /the host \(127\.0\.0\.1 vs localhost\)/],
    ['http://localhost:8001/mcp', MCP, /the port \(8001 vs 8000\)/],
    ['http://localhost:8000/', MCP, /the path \(\/ vs \/mcp\)/],
    ['http://localhost:8080/realms/other', ISS, /the realm \(other vs mcp-demo\)/],
    ['http://LOCALHOST:8000/mcp', MCP, /spelling/],
  ])('%s vs %s', (actual, expected, pattern) => {
    expect(explainUrlDifference(actual, expected)).toMatch(pattern);
  });
  it('is undefined for identical URLs', () => expect(explainUrlDifference(MCP, MCP)).toBeUndefined());
});

describe('WWW-Authenticate parsing', () => {
  it('reads quoted parameters with commas and escapes', () => {
    const [c] = parseWwwAuthenticate(
      'Bearer realm="a, b", resource_metadata="http://h/.well-known/oauth-protected-resource/mcp", scope="mcp:run other", error_description="say \\"hi\\""',
    );
    expect(c!.scheme).toBe('Bearer');
    expect(c!.params).toEqual({
      realm: 'a, b',
      resource_metadata: 'http://h/.well-known/oauth-protected-resource/mcp',
      scope: 'mcp:run other',
      error_description: 'say "hi"',
    });
  });
  it('finds Bearer among several challenges, case-insensitively', () => {
    expect(bearerChallenge('Basic realm="x", bearer scope=mcp:run')?.params.scope).toBe('mcp:run');
    expect(bearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(bearerChallenge(null)).toBeUndefined();
  });
});

describe('discovery URLs, in the order clients try them', () => {
  it('PRM: header URL, path-inserted, root', () => {
    expect(prmCandidates(MCP, 'http://other/prm')).toEqual([
      'http://other/prm',
      'http://localhost:8000/.well-known/oauth-protected-resource/mcp',
      'http://localhost:8000/.well-known/oauth-protected-resource',
    ]);
    expect(prmCandidates('http://localhost:8000/')).toEqual([
      'http://localhost:8000/.well-known/oauth-protected-resource',
    ]);
  });
  it('AS metadata: RFC 8414 path-inserted, OIDC path-inserted, OIDC appended', () => {
    expect(asMetadataCandidates(ISS).map((c) => c.url)).toEqual([
      'http://localhost:8080/.well-known/oauth-authorization-server/realms/mcp-demo',
      'http://localhost:8080/.well-known/openid-configuration/realms/mcp-demo',
      'http://localhost:8080/realms/mcp-demo/.well-known/openid-configuration',
    ]);
  });
});

describe('compareClaims', () => {
  const expected = { issuer: ISS, resource: MCP, scopes: ['mcp:run'], applyFix: 'mcp-keycloak apply' };
  const now = 1_800_000_000;
  const good = { iss: ISS, aud: MCP, scope: 'mcp:run', exp: now + 300, typ: 'Bearer', azp: 'vscode' };
  const statuses = (claims: Record<string, unknown>) =>
    Object.fromEntries(compareClaims(claims, expected, now).map((f) => [f.id, f.status]));

  it('passes a good token', () => {
    expect(Object.values(statuses(good)).every((s) => s === 'pass')).toBe(true);
  });
  it('explains an audience with a trailing slash in one sentence', () => {
    const aud = compareClaims({ ...good, aud: [`${MCP}/`, 'account'] }, expected, now).find(
      (f) => f.id === 'token.aud',
    )!;
    expect(aud.status).toBe('fail');
    expect(aud.why).toBe(
      `aud is ${MCP}/ but the server is ${MCP}: a trailing slash (the value has one, the expected URL does not).`,
    );
  });
  it('explains an audience without the MCP URL', () => {
    const aud = compareClaims({ ...good, aud: 'account' }, expected, now).find((f) => f.id === 'token.aud')!;
    expect(aud.why).toMatch(/without the mcp:run scope's Audience mapper/);
  });
  it('names the other realm', () => {
    const iss = compareClaims({ ...good, iss: 'http://localhost:8080/realms/master' }, expected, now).find(
      (f) => f.id === 'token.iss',
    )!;
    expect(iss.why).toContain('the token comes from realm "master", not "mcp-demo"');
  });
  it('names a different Keycloak URL for the same realm', () => {
    const iss = compareClaims({ ...good, iss: 'http://127.0.0.1:8080/realms/mcp-demo' }, expected, now).find(
      (f) => f.id === 'token.iss',
    )!;
    expect(iss.why).toMatch(/the host \(127\.0\.0\.1 vs localhost\)/);
  });
  it('flags missing scope, expiry, future nbf and non-access tokens', () => {
    expect(statuses({ ...good, scope: 'profile email' })['token.scope']).toBe('fail');
    expect(statuses({ ...good, exp: now - 120 })['token.exp']).toBe('fail');
    expect(statuses({ ...good, nbf: now + 600 })['token.nbf']).toBe('fail');
    expect(statuses({ ...good, typ: 'ID' })['token.typ']).toBe('fail');
    expect(compareClaims({ ...good, exp: now - 120 }, expected, now).find((f) => f.id === 'token.exp')!.why).toMatch(
      /^The token expired 120 s ago;/,
    );
  });
});

describe('realm audience finding', () => {
  const scope = { name: 'mcp:run', audience: MCP };
  const mapper = (config: Record<string, string>) => [{ name: 'aud', protocolMapper: 'oidc-audience-mapper', config }];
  it('explains a trailing slash in the mapper', () => {
    const f = audienceFinding(
      'realm.audience',
      scope,
      mapper({ 'included.custom.audience': `${MCP}/`, 'access.token.claim': 'true' }),
      [],
    );
    expect(f.status).toBe('fail');
    expect(f.why).toMatch(
      /puts http:\/\/localhost:8000\/mcp\/ into aud but the server is http:\/\/localhost:8000\/mcp: a trailing slash/,
    );
  });
  it('explains included.client.audience winning over the custom audience', () => {
    const f = audienceFinding(
      'realm.audience',
      scope,
      mapper({ 'included.custom.audience': MCP, 'included.client.audience': 'account', 'access.token.claim': 'true' }),
      [],
    );
    expect(f.why).toMatch(/included.client.audience = account/);
  });
  it('explains the access-token claim switched off', () => {
    const f = audienceFinding(
      'realm.audience',
      scope,
      mapper({ 'included.custom.audience': MCP, 'access.token.claim': 'false' }),
      [],
    );
    expect(f.why).toMatch(/"Add to access token" off/);
  });
  it('passes a mapper plan keeps, naming the secondary settings apply would still update', () => {
    const change = { kind: 'audience-mapper', scope: scope.name } as unknown as Change;
    const f = audienceFinding(
      'realm.audience',
      scope,
      mapper({ 'included.custom.audience': MCP, 'access.token.claim': 'true' }),
      [change],
    );
    expect(f.status).toBe('pass');
    expect(f.actual).toBe(`mapper "aud" (apply would also update mcp-audience's introspection.token.claim)`);
  });
});

describe('registration probe bodies', () => {
  const ctx = {
    scopes: ['mcp:run'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'password'],
    webOrigin: 'http://localhost:6274',
  };
  it('VS Code: the body from its source, grant types intersected with the AS', () => {
    const vscode = PROBE_CLIENTS.find((c) => c.id === 'vscode')!;
    expect(vscode.body(ctx)).toEqual({
      client_name: 'Visual Studio Code',
      client_uri: 'https://code.visualstudio.com',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [
        'https://insiders.vscode.dev/redirect',
        'https://vscode.dev/redirect',
        'http://127.0.0.1/',
        'http://127.0.0.1:33418/',
      ],
      scope: 'mcp:run',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
  });
  it('MCP Inspector 2.x registers from its backend: no Origin, a public native client on 127.0.0.1:6274', () => {
    const inspector = PROBE_CLIENTS.find((c) => c.id === 'inspector')!;
    expect(inspector.sentFrom).toBe('user-machine');
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only compared with undefined, never called
    expect(inspector.origin).toBeUndefined();
    expect(inspector.body(ctx)).toEqual({
      redirect_uris: ['http://127.0.0.1:6274/oauth/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'MCP Inspector',
      client_uri: 'https://github.com/modelcontextprotocol/inspector',
      scope: 'mcp:run',
      application_type: 'native',
    });
  });
  it('MCP Inspector 0.x registers from its browser origin', () => {
    const inspector = PROBE_CLIENTS.find((c) => c.id === 'inspector-0x')!;
    expect(inspector.sentFrom).toBe('browser');
    expect(inspector.origin?.(ctx)).toBe('http://localhost:6274');
    expect(inspector.body(ctx).redirect_uris).toEqual([
      'http://localhost:6274/oauth/callback',
      'http://localhost:6274/oauth/callback/debug',
    ]);
  });
  it('covers the clients the issue names', () => {
    expect(PROBE_CLIENTS.map((c) => c.id)).toEqual([
      'vscode',
      'claude-code',
      'claude-ai',
      'cursor',
      'inspector',
      'inspector-0x',
    ]);
  });
});

describe('runner and report', () => {
  const config = configSchema.parse({ realm: 'r1', resources: [{ url: MCP, scopes: ['mcp:run'] }] });
  const input: DoctorInput = {
    config,
    resource: config.resources[0]!,
    secrets: { adminPassword: 'hunter2-secret' },
    expectedIssuer: ISS,
  };

  it('turns a crashing check into a failed finding and keeps going, redacting secrets', async () => {
    const boom: Check = {
      id: 'boom',
      title: 'Boom',
      run: async () => {
        throw new Error('login with hunter2-secret failed');
      },
    };
    const ok: Check = { id: 'ok', title: 'Ok', run: async () => [{ id: 'ok.one', title: 'fine', status: 'pass' }] };
    const { findings } = await runChecks(input, [boom, ok]);
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['boom.error', 'fail'],
      ['ok.one', 'pass'],
    ]);
    expect(findings[0]!.actual).not.toContain('hunter2-secret');
  });

  it('renders failures with their fix, and exit status follows failures only', () => {
    const report = buildReport(
      input,
      [
        {
          id: 'prm.resource',
          title: 'PRM resource equals the MCP URL',
          status: 'fail',
          expected: MCP,
          actual: `${MCP}/`,
          why: 'a trailing slash',
          fix: 'publish it',
        },
        { id: 'challenge.scope', title: 'scope', status: 'warn', why: 'no scope' },
      ],
      {},
      1234,
    );
    expect(report.ok).toBe(false);
    const text = renderReport(report, new Chalk({ level: 0 })).join('\n');
    expect(text).toContain('✖ PRM resource equals the MCP URL');
    expect(text).toContain('⚠ scope');
    expect(text).toMatch(/How to fix\n {2}✖ prm.resource:\n {6}publish it/);
    expect(text).toContain('1 check(s) failed: 0 passed, 1 warning(s), 1 failed, 0 skipped in 1.2 s.');
  });

  it('spells apply commands for the examined target', () => {
    // command('apply'): spelled the way this test process was started (see test/unit/invocation.test.ts).
    expect(applyCommand(input)).toBe(`${command('apply')} --realm r1`);
    expect(
      applyCommand({ ...input, configFile: '/tmp/my config.json' }, ['--web-origin', 'http://localhost:6274']),
    ).toBe(`${command('apply')} --config '/tmp/my config.json' --web-origin http://localhost:6274`);
  });

  it('with a config file, repeats the flags given on top of it; without one, the registration setup too', () => {
    const onFile = { ...input, configFile: '/tmp/c.json', overrides: ['--realm', 'other realm', '--cimd'] };
    expect(applyCommand(onFile)).toBe(`${command('apply')} --config /tmp/c.json --realm 'other realm' --cimd`);
    expect(doctorFixCommand(onFile)).toBe(
      `${command('doctor --fix')} --config /tmp/c.json --realm 'other realm' --cimd`,
    );
    const trusted = configSchema.parse({ realm: 'r1', dcr: { mode: 'trusted-hosts', trustedHosts: ['10.0.0.1'] } });
    const hosts = { ...input, config: trusted };
    expect(doctorFixCommand(hosts)).toBe(
      `${command('doctor --fix')} --realm r1 --dcr trusted-hosts --trusted-host 10.0.0.1`,
    );
    // A fix that changes the mode drops the old mode's hosts, which apply would refuse beside --dcr anonymous.
    expect(applyCommand(hosts, ['--dcr', 'anonymous'])).toBe(`${command('apply')} --realm r1 --dcr anonymous`);
    expect(
      applyCommand(
        { ...hosts, configFile: '/tmp/c.json', overrides: ['--dcr', 'trusted-hosts', '--trusted-host', 'h'] },
        ['--dcr', 'anonymous'],
      ),
    ).toBe(`${command('apply')} --config /tmp/c.json --dcr anonymous`);
  });
});
