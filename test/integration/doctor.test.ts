/**
 * `doctor` against the real Keycloak and the reference MCP server: a healthy setup passes with no false
 * alarm, then one realm-side thing is broken at a time through the admin API; doctor must fail exactly
 * the checks that thing explains (with the right sentence), and `doctor --fix` must repair it.
 * Where Keycloak versions differ (KEYCLOAK_VERSION picks the harness's), each expectation states what
 * that version does: before 26.5.0 there are no web origins to configure, so the setup has none, and
 * the healthy run warns exactly about the known differences of that version (src/keycloak/versions.ts).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { olderThan } from '../../src/keycloak/versions.js';
import type { RunningServer } from '../../src/server/index.js';
import { adminClient, deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';
import { serveRealm } from '../support/tokens.js';

const realm = uniqueRealm('doctor');
const password = `pw-${Math.random().toString(36).slice(2)}`;
const inspector = 'http://localhost:6274';
const version = inject('keycloakVersion');
/**
 * With Keycloak's resource indicators on, a token whose aud names no client with resource_url = the
 * requested resource is refused (invalid_target): a broken audience then stops the sign-in itself.
 */
const resourceIndicators = inject('keycloakFeatures').includes('resource-indicators');
const audienceBroken = resourceIndicators
  ? ['realm.audience', 'token.obtain']
  : ['realm.audience', 'token.aud', 'mcp.tools_list'];
const audienceExplained = (tokenWords: RegExp): Record<string, RegExp> =>
  resourceIndicators
    ? { 'token.obtain': /resource indicators \(RFC 8707\).*invalid_target/ }
    : { 'token.aud': tokenWords };
const older = (fixedIn: string) => olderThan(version, fixedIn);
/** Browser registrations (Inspector 0.x) can be configured only where the registration-web-origins policy exists. */
const webOrigins = !older('26.5.0');
const webOriginArgs = webOrigins ? ['--web-origin', inspector] : [];
/** What the healthy run does not pass on this version, each a known difference (or the check that observes it). */
const versionNotices = [
  ...(older('26.4.0') ? ['warn as.metadata', 'warn keycloak.version.rfc8414-path-inserted-metadata'] : []),
  // Differences that stop no client (26.6.0's, 26.8.0's) are named in keycloak.version, not warned about.
  // Without web origins Inspector 0.x (a browser client) is not part of the setup.
  ...(webOrigins ? [] : ['skip registration.inspector-0x']),
  // Keycloak with --features=cimd advertises CIMD in every realm; this one was applied without --cimd.
  ...(inject('keycloakFeatures').includes('cimd') ? ['warn realm.cimd'] : []),
].sort();
/** Drops Inspector 0.x's registration where the setup has no web origins (it is skipped there, so it cannot fail). */
const inSetup = (ids: string[]) => ids.filter((id) => webOrigins || id !== 'registration.inspector-0x');
let resource: string;
let server: RunningServer;
let target: string[];
const env = { MCP_KEYCLOAK_TEST_USER_PASSWORD: password };

interface Finding {
  id: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  why?: string;
  actual?: string;
  fix?: string;
  fixable?: boolean;
}
interface Report {
  formatVersion: number;
  ok: boolean;
  summary: Record<string, number>;
  checks: Finding[];
  token?: { claims: Record<string, unknown>; header: Record<string, unknown> };
  fix?: { applied: unknown[] };
}

async function doctor(extra: string[] = []): Promise<{ code: number; report: Report; stderr: string; stdout: string }> {
  const result = await runCli(['--json', 'doctor', ...target, '--test-user', 'alice', ...extra], { env });
  return {
    code: result.code,
    report: JSON.parse(result.stdout) as Report,
    stderr: result.stderr,
    stdout: result.stdout,
  };
}

const failed = (report: Report) =>
  report.checks
    .filter((f) => f.status === 'fail')
    .map((f) => f.id)
    .sort();
const finding = (report: Report, id: string) => report.checks.find((f) => f.id === id)!;

async function scope() {
  const client = await adminClient();
  const found = (await client.clientScopes.find({ realm })).find((s) => s.name === 'mcp:run')!;
  return { client, scope: found };
}

async function allowedScopesPolicy() {
  const client = await adminClient();
  const policies = await client.components.find({
    realm,
    type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
  });
  return policies.find((p) => p.subType === 'anonymous' && p.providerId === 'allowed-client-templates')!;
}

/** Breaks something, checks doctor names it, repairs with --fix, checks doctor is green again. */
async function breakAndFix(expectedFailures: string[], explain: Record<string, RegExp>): Promise<void> {
  const broken = await doctor();
  expect(broken.code).toBe(1);
  expect(failed(broken.report)).toEqual(inSetup(expectedFailures).sort());
  for (const [id, pattern] of Object.entries(explain)) expect(finding(broken.report, id).why).toMatch(pattern);
  const realmSide = broken.report.checks.filter((f) => f.status === 'fail' && f.id.startsWith('realm.'));
  for (const f of realmSide) expect(f.fixable, f.id).toBe(true);

  const fixed = await doctor(['--fix', '--yes']);
  expect(fixed.stderr).toBe('');
  expect(fixed.report.fix?.applied.length).toBeGreaterThan(0);
  expect(failed(fixed.report)).toEqual([]);
  expect(fixed.code).toBe(0);
}

beforeAll(async () => {
  ({ server, resource } = await serveRealm(realm, { password, applyArgs: webOriginArgs }));
  target = ['--realm', realm, '--resource', resource, ...webOriginArgs];
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

const notPassed = (report: Report) =>
  report.checks
    .filter((f) => f.status !== 'pass')
    .map((f) => `${f.status} ${f.id}`)
    .sort();

describe(`doctor on a healthy setup (Keycloak ${version})`, () => {
  it('passes every check but the known differences of this version, exit 0, and leaves no client behind', async () => {
    const client = await adminClient();
    const before = (await client.clients.find({ realm })).length;
    const started = Date.now();
    const { code, report, stderr } = await doctor();
    const wall = Date.now() - started;
    expect(stderr).toBe('');
    expect(report.formatVersion).toBe(1);
    expect(notPassed(report)).toEqual(versionNotices);
    expect(finding(report, 'keycloak.version').actual).toMatch(
      new RegExp(`^Keycloak ${version.replace(/\./g, '\\.')}\\b`),
    );
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    // Every probe and the test user's temporary client deleted themselves.
    expect((await client.clients.find({ realm })).length).toBe(before);
    expect(report.token?.claims.aud).toBe(resource);
    process.stdout.write(`[doctor] healthy run with --test-user: ${wall} ms wall time\n`);
  });

  it('never prints the token, the test user password or the admin password', async () => {
    const { stdout } = await doctor();
    expect(stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(stdout).not.toContain(password);
    expect(stdout).not.toContain(keycloak().adminPassword);
  });

  it('prints a readable checklist without --json', async () => {
    const result = await runCli(['doctor', ...target, '--test-user', 'alice'], { env: { ...env, NO_COLOR: '1' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ VS Code can register');
    expect(result.stdout).toContain('✔ Token aud contains the MCP URL');
    expect(result.stdout).toMatch(
      versionNotices.some((n) => n.startsWith('warn '))
        ? /No failures: \d+ passed, \d+ warning/
        : /All checks passed: \d+ passed/,
    );
  });

  it('names each known difference of this version with its consequence for real clients and the fix', async () => {
    const { report } = await doctor();
    if (older('26.4.0')) {
      // RFC 8414 path-inserted metadata: the URL the MCP spec tries first answers 404; OIDC discovery still works.
      expect(finding(report, 'as.metadata').actual).toMatch(
        new RegExp(`/\\.well-known/oauth-authorization-server/realms/${realm} → HTTP 404`),
      );
      expect(finding(report, 'keycloak.version.rfc8414-path-inserted-metadata')).toMatchObject({
        status: 'warn',
        why: expect.stringMatching(/find no authorization server/),
        fix: expect.stringMatching(/upgrade Keycloak to 26\.4\.0 or later, or serve that path from a reverse proxy/),
      });
    } else {
      expect(finding(report, 'as.metadata').status).toBe('pass');
    }
    // keycloak#50807 (fixed in 26.8.0) stops no MCP client: named in the version line, never a warning.
    expect(
      report.checks.find((f) => f.id === 'keycloak.version.registration-scope-shrinks-default-scopes'),
    ).toBeUndefined();
    if (older('26.8.0')) expect(finding(report, 'keycloak.version').actual).toContain('(fixed in 26.8.0)');
  });
});

describe('doctor names one broken thing at a time, and --fix repairs it', () => {
  it('audience with a trailing slash', async () => {
    const { client, scope: s } = await scope();
    const mapper = (await client.clientScopes.listProtocolMappers({ realm, id: s.id! })).find(
      (m) => m.protocolMapper === 'oidc-audience-mapper',
    )!;
    await client.clientScopes.updateProtocolMapper(
      { realm, id: s.id!, mapperId: mapper.id! },
      { ...mapper, config: { ...mapper.config, 'included.custom.audience': `${resource}/` } },
    );
    await breakAndFix(audienceBroken, {
      'realm.audience': /trailing slash/,
      ...audienceExplained(new RegExp(`aud is ${resource}/ but the server is ${resource}: a trailing slash`)),
    });
  });

  it('audience mapper missing', async () => {
    const { client, scope: s } = await scope();
    for (const m of await client.clientScopes.listProtocolMappers({ realm, id: s.id! })) {
      if (m.protocolMapper === 'oidc-audience-mapper')
        await client.clientScopes.delProtocolMapper({ realm, id: s.id!, mapperId: m.id! });
    }
    // With resource indicators on, Keycloak 26.7.3 answers the token request HTTP 500 (a NullPointerException): doctor explains it.
    await breakAndFix(audienceBroken, {
      'realm.audience': /no Audience mapper|Tokens will not contain aud/,
      ...(resourceIndicators
        ? { 'token.obtain': /NullPointerException in ResourceIndicatorsPostProcessor/ }
        : { 'token.aud': /has no aud/ }),
    });
  });

  it('include in token scope off', async () => {
    const { client, scope: s } = await scope();
    await client.clientScopes.update(
      { realm, id: s.id! },
      { ...s, attributes: { ...s.attributes, 'include.in.token.scope': 'false' } },
    );
    await breakAndFix(['realm.scope.include_in_token_scope', 'token.scope', 'mcp.tools_list'], {
      'realm.scope.include_in_token_scope': /insufficient_scope/,
      'token.scope': /include-in-token-scope is off/,
    });
  });

  it('scope not a realm default scope', async () => {
    const { client, scope: s } = await scope();
    await client.clientScopes.delDefaultClientScope({ realm, id: s.id! });
    await breakAndFix(['realm.default_scope'], { 'realm.default_scope': /only get default scopes/ });
  });

  it('scope neither in anonymous Allowed Client Scopes nor a default scope', async () => {
    // While the scope is a realm default, Keycloak admits it without the list; the list matters once it is not.
    const { client, scope: s } = await scope();
    await client.clientScopes.delDefaultClientScope({ realm, id: s.id! });
    const allowed = await allowedScopesPolicy();
    await client.components.update(
      { realm, id: allowed.id! },
      { ...allowed, config: { ...allowed.config, 'allowed-client-scopes': [] } },
    );
    // VS Code and both Inspectors ask for the scope at registration, and so does the test user's temporary client.
    await breakAndFix(
      [
        'realm.allowed_client_scopes',
        'realm.default_scope',
        'registration.vscode',
        'registration.inspector',
        'registration.inspector-0x',
        'token.obtain',
      ],
      {
        'realm.allowed_client_scopes': /neither listed nor a realm default scope/,
        'registration.vscode': /Allowed Client Scopes/,
      },
    );
  });

  it('Allowed Client Scopes with allow-default-scopes off', async () => {
    const client = await adminClient();
    const allowed = await allowedScopesPolicy();
    await client.components.update(
      { realm, id: allowed.id! },
      { ...allowed, config: { ...allowed.config, 'allow-default-scopes': ['false'] } },
    );
    await breakAndFix(
      [
        'realm.allowed_client_scopes',
        'registration.inspector',
        'registration.inspector-0x',
        'registration.vscode',
        'token.obtain',
      ],
      {
        'realm.allowed_client_scopes': /allow-default-scopes is off/,
      },
    );
  });

  it('Max Clients Limit reached: named, and every registration rejected by that policy (not fixable by apply)', async () => {
    const client = await adminClient();
    const policies = await client.components.find({
      realm,
      type: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
    });
    const max = policies.find((p) => p.subType === 'anonymous' && p.providerId === 'max-clients')!;
    const count = (await client.clients.find({ realm })).length;
    await client.components.update(
      { realm, id: max.id! },
      { ...max, config: { ...max.config, 'max-clients': [String(count)] } },
    );
    try {
      const broken = await doctor();
      const clients = inSetup(
        ['vscode', 'claude-code', 'claude-ai', 'cursor', 'inspector', 'inspector-0x'].map((c) => `registration.${c}`),
      );
      expect(failed(broken.report)).toEqual(['realm.max_clients', ...clients, 'token.obtain'].sort());
      expect(finding(broken.report, 'realm.max_clients').actual).toBe(`${count} of ${count} clients`);
      expect(finding(broken.report, 'registration.vscode').actual).toMatch(/Max Clients Limit/);
      expect(finding(broken.report, 'realm.max_clients').fixable).toBeUndefined();
    } finally {
      await client.components.update({ realm, id: max.id! }, max);
    }
    expect((await doctor()).code).toBe(0);
  });

  it('Trusted Hosts policy back', async () => {
    const client = await adminClient();
    const { id } = (await client.realms.findOne({ realm }))!;
    await client.components.create({
      realm,
      name: 'Trusted Hosts',
      providerId: 'trusted-hosts',
      providerType: 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy',
      parentId: id!,
      subType: 'anonymous',
      config: {
        'trusted-hosts': [],
        'host-sending-registration-request-must-match': ['true'],
        'client-uris-must-match': ['true'],
      },
    });
    const clients = inSetup(
      ['vscode', 'claude-code', 'claude-ai', 'cursor', 'inspector', 'inspector-0x'].map((c) => `registration.${c}`),
    );
    await breakAndFix(['realm.trusted_hosts', ...clients, 'token.obtain'], {
      'realm.trusted_hosts': /Host not trusted/,
      'registration.vscode': /Trusted Hosts/,
    });
  });

  it('dcr mode trusted-hosts: the policy is expected; clients it rejects are warnings unless configured (Inspector 0.x)', async () => {
    const mode = ['--dcr', 'trusted-hosts', '--trusted-host', '127.0.0.1'];
    const applied = await runCli(['apply', '--yes', ...target, ...mode]);
    expect(applied.code, applied.stderr).toBe(0);
    try {
      const { code, report } = await doctor(mode);
      expect(finding(report, 'realm.trusted_hosts').status).toBe('pass');
      expect(finding(report, 'realm.trusted_hosts').actual).toMatch(/Trusted Hosts present: \[127\.0\.0\.1\]/);
      // VS Code's vscode.dev redirect URIs are not on the list: rejected, but by the administrator's choice.
      expect(finding(report, 'registration.vscode').status).toBe('warn');
      expect(finding(report, 'registration.vscode').actual).toMatch(/Trusted Hosts/);
      // Inspector 2.x registers from this machine, but its client_uri (github.com) is not a trusted host: the administrator's choice too.
      expect(finding(report, 'registration.inspector').status).toBe('warn');
      expect(finding(report, 'registration.inspector').actual).toMatch(/Trusted Hosts/);
      if (webOrigins) {
        // Inspector 0.x is wanted (--web-origin) but its localhost redirect is not a trusted host: a contradiction, so a failure.
        expect(failed(report)).toEqual(['registration.inspector-0x']);
        expect(finding(report, 'registration.inspector-0x').fix).toMatch(/--trusted-host/);
        expect(code).toBe(1);
      } else {
        // Before 26.5.0 no web origins are configured: Inspector 0.x is not wanted, so nothing contradicts the mode.
        expect(finding(report, 'registration.inspector-0x').status).toBe('skip');
        expect(failed(report)).toEqual([]);
        expect(code).toBe(0);
      }
    } finally {
      const back = await runCli(['apply', '--yes', ...target]);
      expect(back.code, back.stderr).toBe(0);
    }
  });
});
