/**
 * The pure half of `apply --cimd`: the desired profiles and policies for a config, the plan against
 * live lists (multi-valued config compared as sets), and the refusal for a server without the feature.
 */
import { describe, expect, it } from 'vitest';
import { CIMD_CLIENT_KEYS, configSchema } from '../../src/config/schema.js';
import { cimdRefusal, grantExecutorsOf } from '../../src/realm/server-features.js';
import { planCimd } from '../../src/realm/cimd-plan.js';
import {
  anonymousObjects,
  cimdObjects,
  clientPolicyObjects,
  desiredAnonymous,
  desiredCimd,
  GRANT_EXECUTORS,
  KNOWN_CIMD_CLIENTS,
  newerExecutorOptions,
} from '../../src/realm/cimd.js';

const cimdOf = (cimd: unknown) => desiredCimd(configSchema.parse({ cimd }).cimd)!;

describe('the desired CIMD setup', () => {
  it('knows the domains of every client the config can name', () => {
    expect(KNOWN_CIMD_CLIENTS.map((c) => c.key)).toEqual([...CIMD_CLIENT_KEYS]);
  });

  it('is absent without a cimd section, or with enabled: false', () => {
    expect(desiredCimd(configSchema.parse({}).cimd)).toBeUndefined();
    expect(desiredCimd(configSchema.parse({ cimd: { enabled: false } }).cimd)).toBeUndefined();
  });

  it('admits the known clients’ client_id domains, and permits the hosts their documents name besides', () => {
    const all = cimdOf({});
    expect(all.clientIdDomains).toEqual(['claude.ai', 'vscode.dev']);
    expect(all.permittedDomains).toEqual([
      '127.0.0.1',
      'claude.ai',
      'code.visualstudio.com',
      'localhost',
      'vscode.dev',
    ]);
    expect(all.allowHttp).toBe(false);
    const vscode = cimdOf({ clients: ['vscode'], domains: ['*.example.com'] });
    expect(vscode.clientIdDomains).toEqual(['*.example.com', 'vscode.dev']);
    expect(vscode.permittedDomains).toEqual(['*.example.com', '127.0.0.1', 'code.visualstudio.com', 'vscode.dev']);
  });

  it('refuses domains Keycloak could not match: ports, schemes, inner wildcards, unknown clients', () => {
    for (const domain of ['example.com:443', 'https://example.com', 'a.*.example.com', '*']) {
      expect(configSchema.safeParse({ cimd: { domains: [domain] } }).success, domain).toBe(false);
    }
    expect(configSchema.safeParse({ cimd: { clients: ['chatgpt'] } }).success).toBe(false);
    expect(configSchema.safeParse({ cimd: { domains: ['::1', '127.0.0.1', '*.vscode.dev'] } }).success).toBe(true);
  });

  it('accepts http client_id URLs only when asked (local test realms)', () => {
    const { policies, profiles } = cimdObjects(cimdOf({ allowHttp: true }));
    expect(policies[0]!.conditions[0]!.configuration['client-id-uri-scheme']).toEqual(['https', 'http']);
    expect(profiles[0]!.executors[0]!.configuration['cimd-allow-http-scheme']).toBe(true);
    expect(cimdObjects(cimdOf({})).policies[0]!.conditions[0]!.configuration['client-id-uri-scheme']).toEqual([
      'https',
    ]);
  });
});

describe('step-up scopes in the config', () => {
  it('may be shared by tools of one server, never with another server (a scope carries one audience)', () => {
    const one = {
      url: 'http://localhost:8000/mcp',
      scopes: ['mcp:run'],
      toolScopes: { divide_numbers: ['mcp:admin'], add_numbers: ['mcp:admin'] },
    };
    expect(configSchema.safeParse({ resources: [one] }).success).toBe(true);
    const other = {
      url: 'http://localhost:9000/mcp',
      scopes: ['b:run'],
      toolScopes: { divide_numbers: ['mcp:admin'] },
    };
    const shared = configSchema.safeParse({ resources: [one, other] });
    expect(shared.success).toBe(false);
    expect(shared.error?.issues[0]?.message).toMatch(
      /scope "mcp:admin" is already used by http:\/\/localhost:8000\/mcp/,
    );
    const base = { url: 'http://localhost:9000/mcp', scopes: ['b:run'], toolScopes: { divide_numbers: ['mcp:run'] } };
    expect(configSchema.safeParse({ resources: [one, base] }).success).toBe(false);
  });
});

describe('the CIMD plan', () => {
  const desired = cimdOf({});
  const anonymous = { grantExecutors: GRANT_EXECUTORS, dpop: false };
  const { profiles, policies } = clientPolicyObjects(desired, anonymous);

  it('creates the two profiles, then the two policies that name them, in a realm with none', () => {
    expect(planCimd(desired, anonymous).map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create client-profile mcp-keycloak-cimd',
      'create client-profile mcp-keycloak-pkce',
      'create client-policy mcp-keycloak-cimd',
      'create client-policy mcp-keycloak-pkce',
    ]);
  });

  it('finds nothing to do when the lists hold ours, in any order of values, with booleans as Keycloak may store them', () => {
    const shuffled = structuredClone(profiles);
    const config = shuffled[0]!.executors[0]!.configuration;
    config['cimd-allow-permitted-domains'] = [...(config['cimd-allow-permitted-domains'] as string[])].reverse();
    config['cimd-allow-http-scheme'] = 'false';
    const theirs = { name: 'theirs', executors: [] };
    expect(planCimd(desired, anonymous, [theirs, ...shuffled], [...policies].reverse())).toEqual([]);
  });

  it('keeps anonymously created clients on the code flow: PKCE, then implicit and password grants turned off', () => {
    expect(profiles[1]!.executors).toEqual([
      { executor: 'pkce-enforcer', configuration: { 'auto-configure': true } },
      { executor: 'reject-implicit-grant', configuration: { 'auto-configure': true } },
      { executor: 'reject-ropc-grant', configuration: { 'auto-configure': true } },
    ]);
    // A realm applied before: its PKCE profile has the PKCE executor alone, and gets the two others.
    const before = structuredClone(profiles);
    before[1]!.executors = before[1]!.executors.slice(0, 1);
    expect(planCimd(desired, anonymous, before, policies)).toEqual([
      {
        action: 'update',
        kind: 'client-profile',
        name: 'mcp-keycloak-pkce',
        fields: [
          {
            field: 'executors',
            from: ['pkce-enforcer'],
            to: ['pkce-enforcer', 'reject-implicit-grant', 'reject-ropc-grant'],
          },
        ],
      },
    ]);
  });

  it('updates only the fields that differ', () => {
    const edited = structuredClone(policies);
    edited[0]!.conditions[0]!.configuration['client-id-uri-allow-permitted-domains'] = ['vscode.dev'];
    edited[1]!.enabled = false;
    expect(planCimd(desired, anonymous, profiles, edited)).toEqual([
      {
        action: 'update',
        kind: 'client-policy',
        name: 'mcp-keycloak-cimd',
        fields: [
          {
            field: 'client-id-uri.client-id-uri-allow-permitted-domains',
            from: ['vscode.dev'],
            to: ['claude.ai', 'vscode.dev'],
          },
        ],
      },
      {
        action: 'update',
        kind: 'client-policy',
        name: 'mcp-keycloak-pkce',
        fields: [{ field: 'enabled', from: false, to: true }],
      },
    ]);
  });
});

describe('a Keycloak that cannot hold CIMD', () => {
  const provider = (id: string, names: string[]) => ({ id, properties: names.map((name) => ({ name })) });
  const info = (features: Array<{ name: string; enabled: boolean }>, executors: ReturnType<typeof provider>[]) =>
    ({
      systemInfo: { version: '26.7.3' },
      features,
      componentTypes: {
        'org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider': executors,
        'org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider': [
          provider('client-id-uri', ['client-id-uri-scheme', 'client-id-uri-allow-permitted-domains']),
          provider('client-updater-context', ['update-client-source']),
        ],
      },
    }) as never;
  const cimdExecutor = provider('client-id-metadata-document', [
    'cimd-allow-http-scheme',
    'cimd-allow-permitted-domains',
    'cimd-restrict-same-domain',
    'only-allow-confidential-client',
  ]);
  const pkce = provider('pkce-enforcer', ['auto-configure']);

  it('names the feature flag, and the restart command for a Keycloak that keycloak start runs', () => {
    const off = info([{ name: 'CIMD', enabled: false }], [pkce]);
    expect(cimdRefusal(off, 'http://kc')).toMatch(
      /runs without: start it with --features=cimd .*Nothing was changed\.$/,
    );
    expect(
      cimdRefusal(off, 'http://kc', 'mcp-keycloak keycloak stop && mcp-keycloak keycloak start --features cimd'),
    ).toContain(
      'restart it with the feature: mcp-keycloak keycloak stop && mcp-keycloak keycloak start --features cimd.',
    );
  });

  it('refuses a provider that lacks a property apply would write, and passes a server that has them all', () => {
    const renamed = provider('client-id-metadata-document', [
      'cimd-allow-http-scheme',
      'cimd-trusted-domains',
      'cimd-restrict-same-domain',
      'only-allow-confidential-client',
    ]);
    expect(cimdRefusal(info([{ name: 'CIMD', enabled: true }], [renamed, pkce]), 'http://kc')).toMatch(
      /no "cimd-allow-permitted-domains" on its "client-id-metadata-document"/,
    );
    expect(cimdRefusal(info([{ name: 'CIMD', enabled: true }], [cimdExecutor, pkce]), 'http://kc')).toBeUndefined();
  });

  it('writes only the grant executors the server declares with auto-configure (no refusal for a missing one)', () => {
    const implicit = provider('reject-implicit-grant', ['auto-configure']);
    const ropc = provider('reject-ropc-grant', ['auto-configure']);
    const on = [{ name: 'CIMD', enabled: true }];
    expect(grantExecutorsOf(info(on, [cimdExecutor, pkce, implicit, ropc]))).toEqual([
      'reject-implicit-grant',
      'reject-ropc-grant',
    ]);
    const older = info(on, [cimdExecutor, pkce, provider('reject-ropc-grant', []), implicit]);
    expect(grantExecutorsOf(older)).toEqual(['reject-implicit-grant']);
    expect(cimdRefusal(older, 'http://kc')).toBeUndefined();
    const narrowed = { grantExecutors: grantExecutorsOf(older), dpop: false };
    expect(anonymousObjects(narrowed).profiles[0]!.executors.map((e) => e.executor)).toEqual([
      'pkce-enforcer',
      'reject-implicit-grant',
    ]);
  });
});

describe('the anonymous-clients profile without CIMD', () => {
  it('is desired whenever anonymous registration is on, even without CIMD, and never with dcr off and no CIMD', () => {
    expect(desiredAnonymous(true, false, false)).toEqual({ grantExecutors: GRANT_EXECUTORS, dpop: false });
    expect(desiredAnonymous(false, true, false)).toBeDefined();
    expect(desiredAnonymous(false, false, true)).toBeUndefined();
  });

  it('plans the PKCE profile and policy alone for a DCR realm, and nothing of CIMD', () => {
    const anonymous = { grantExecutors: GRANT_EXECUTORS, dpop: false };
    expect(planCimd(undefined, anonymous).map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create client-profile mcp-keycloak-pkce',
      'create client-policy mcp-keycloak-pkce',
    ]);
    expect(cimdObjects(cimdOf({})).profiles.map((p) => p.name)).toEqual(['mcp-keycloak-cimd']);
  });

  it('adds dpop-bind-enforcer with auto-configure when DPoP is required, and plans the change on a realm made without', () => {
    const withDpop = anonymousObjects({ grantExecutors: GRANT_EXECUTORS, dpop: true });
    expect(withDpop.profiles[0]!.executors.at(-1)).toEqual({
      executor: 'dpop-bind-enforcer',
      configuration: { 'auto-configure': true },
    });
    const without = anonymousObjects({ grantExecutors: GRANT_EXECUTORS, dpop: false });
    const [change] = planCimd(
      undefined,
      { grantExecutors: GRANT_EXECUTORS, dpop: true },
      without.profiles,
      without.policies,
    );
    expect(change).toMatchObject({ action: 'update', kind: 'client-profile', name: 'mcp-keycloak-pkce' });
  });
});

describe("Keycloak 26.8's newer CIMD executor options (not run here: 26.8 is not on the mirror)", () => {
  const declared26_8 = new Set([
    'cimd-allow-http-scheme',
    'cimd-allow-permitted-domains',
    'accept-public-client-with-confidential-client-only-grant',
    'cimd-resource-indicator-allow-list',
  ]);

  it('are written only where serverinfo declares them (26.7.3 declares neither)', () => {
    expect(newerExecutorOptions(new Set(['cimd-allow-http-scheme']), ['http://a/mcp'])).toEqual({});
    expect(newerExecutorOptions(undefined, ['http://a/mcp'])).toEqual({});
    expect(newerExecutorOptions(declared26_8, ['http://b/mcp', 'http://a/mcp'])).toEqual({
      'accept-public-client-with-confidential-client-only-grant': true,
      'cimd-resource-indicator-allow-list': ['http://a/mcp', 'http://b/mcp'],
    });
  });

  it("go into the CIMD executor's configuration beside the options every version has", () => {
    const desired = { ...cimdOf({}), serverOptions: newerExecutorOptions(declared26_8, ['http://a/mcp']) };
    const configuration = cimdObjects(desired).profiles[0]!.executors[0]!.configuration;
    expect(configuration['accept-public-client-with-confidential-client-only-grant']).toBe(true);
    expect(configuration['cimd-resource-indicator-allow-list']).toEqual(['http://a/mcp']);
    expect(configuration['cimd-allow-http-scheme']).toBe(false);
    expect(Object.keys(cimdObjects(cimdOf({})).profiles[0]!.executors[0]!.configuration)).not.toContain(
      'cimd-resource-indicator-allow-list',
    );
  });
});
