/**
 * Review findings on configuration input, without a network: an error names where the bad value came
 * from (flag, env variable or file), `--tool-scope` reaches plan/apply through loadConfig as it reaches
 * serve, and questionable values (a wildcard over a top-level domain, a tool scope that is the
 * resource's own scope, empty tool-scope lists, a CIMD policy that permits nothing) are refused in one line.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFixCommand } from '../../src/commands/serve.js';
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { CIMD_CLIENTS_WITHOUT_CLIENT_ID_DOMAIN } from '../../src/config/schema.js';
import { cimdDomainProblem } from '../../src/config/rules.js';
import { UsageError } from '../../src/errors.js';
import { desiredRealm } from '../../src/realm/desired.js';
import { KNOWN_CIMD_CLIENTS } from '../../src/realm/cimd.js';

const FILE = 'mcp-keycloak.json';

/** A folder holding ./mcp-keycloak.json with `content` (a valid file unless a test says otherwise). */
async function folder(content: unknown = { realm: 'from-file' }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-sources-'));
  await writeFile(join(dir, FILE), JSON.stringify(content));
  return dir;
}

/** The one-line UsageError loadConfig throws (failing when it does not). */
async function refusal(flags: ConfigFlags, env: Record<string, string>, cwd: string): Promise<string> {
  const error = await loadConfig(flags, env, cwd).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  const message = (error as UsageError).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

describe('an error names where the bad value came from', () => {
  it('a bad --cimd-domain, MCP_KEYCLOAK_CIMD_DOMAINS or --resource is not blamed on the config file beside it', async () => {
    const dir = await folder();
    const flag = await refusal({ cimdDomain: ['https://x.example'] }, {}, dir);
    expect(flag).toBe(
      '--cimd-domain: cimd.domains[0]: must be a host without a scheme or port (Keycloak compares hosts only)',
    );
    const env = await refusal({}, { MCP_KEYCLOAK_CIMD_DOMAINS: 'https://x.example' }, dir);
    expect(env).toBe(
      'MCP_KEYCLOAK_CIMD_DOMAINS: cimd.domains[0]: must be a host without a scheme or port (Keycloak compares hosts only)',
    );
    const resource = await refusal({ resource: 'localhost:8000/mcp' }, {}, dir);
    expect(resource).toBe(
      '--resource: resources[0].url: must be an absolute http:// or https:// URL, e.g. http://localhost:8000/mcp (did you mean http://localhost:8000/mcp?)',
    );
    for (const message of [flag, env, resource]) expect(message).not.toContain(FILE);
  });

  it('a bad value in the file still names the file; problems from several places are grouped by place', async () => {
    const dir = await folder({ realm: 'master', cimd: { domains: ['https://x.example'] } });
    const file = join(dir, FILE);
    expect(await refusal({}, {}, dir)).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: realm: must not be "master".*; cimd\\.domains\\[0\\]: must be a host without`,
      ),
    );
    const mixed = await refusal({ resource: 'localhost:8000/mcp' }, { MCP_KEYCLOAK_SCOPE: 'a"b' }, dir);
    expect(mixed).toContain(`${file}: realm: must not be "master"`);
    expect(mixed).toContain('--resource: resources[0].url: must be an absolute');
    expect(mixed).toContain('MCP_KEYCLOAK_SCOPE: resources[0].scopes[0]: must be a non-empty OAuth scope token');
  });

  it('a contradiction the file does not hold is "Invalid configuration", not the file', async () => {
    const message = await refusal({ dcr: 'trusted-hosts' }, {}, await folder());
    expect(message).toBe(
      'Invalid configuration: dcr.trustedHosts: dcr mode "trusted-hosts" needs at least one host (--trusted-host HOST, repeatable)',
    );
  });
});

describe('--tool-scope for plan and apply (review A)', () => {
  it("maps onto the resource's toolScopes, which apply makes optional client scopes", async () => {
    const { config } = await loadConfig({ toolScope: ['divide_numbers=mcp:admin'] }, {}, await folder());
    expect(config.resources[0]!.toolScopes).toEqual({ divide_numbers: ['mcp:admin'] });
    const scope = desiredRealm(config).scopes.find((s) => s.name === 'mcp:admin');
    expect(scope).toMatchObject({ name: 'mcp:admin', optional: true });
  });

  it('is refused for a config of several MCP servers, which one is meant being a guess', async () => {
    const dir = await folder({
      resources: [
        { url: 'http://a.example/mcp', scopes: ['a'] },
        { url: 'http://b.example/mcp', scopes: ['b'] },
      ],
    });
    expect(await refusal({ toolScope: ['divide_numbers=mcp:admin'] }, {}, dir)).toMatch(
      /^--tool-scope names the tools of one MCP server, and the config lists 2: /,
    );
  });

  it("--dcr anonymous over a trusted-hosts file drops the file's hosts (doctor's fix for a Trusted Hosts rejection)", async () => {
    const dir = await folder({ realm: 'from-file', dcr: { mode: 'trusted-hosts', trustedHosts: ['10.0.0.1'] } });
    const { config } = await loadConfig({ dcr: 'anonymous' }, {}, dir);
    expect(config.dcr).toMatchObject({ mode: 'anonymous', trustedHosts: [] });
    // Hosts given beside it are still refused: the user asked for both.
    expect(await refusal({ dcr: 'anonymous', trustedHost: ['h'] }, {}, dir)).toMatch(
      /trusted hosts only apply with dcr mode "trusted-hosts"/,
    );
  });

  it("serve's fix for a missing scope is the apply with its own --config, target flags and --tool-scope values", () => {
    const fix = applyFixCommand(
      { realm: 'hx-demo', scope: ['mcp:run'], toolScope: ['divide_numbers=mcp:admin', 'divide_numbers=mcp:ops'] },
      '/tmp/my dir/mcp-keycloak.json.orig',
    );
    expect(fix).toMatch(
      / apply --config '\/tmp\/my dir\/mcp-keycloak\.json\.orig' --realm hx-demo --scope mcp:run --tool-scope divide_numbers=mcp:admin --tool-scope divide_numbers=mcp:ops$/,
    );
    expect(applyFixCommand({}, undefined)).toMatch(/ apply$/);
  });
});

describe('questionable input is refused in one line (review C)', () => {
  it('a wildcard over a whole top-level domain, or over an IP address', async () => {
    const dir = await folder();
    expect(await refusal({ cimdDomain: ['*.com'] }, {}, dir)).toBe(
      '--cimd-domain: cimd.domains[0]: must put *. before a domain of your own (e.g. *.example.com): com is a public suffix (publicsuffix.org), so *.com would permit every host anyone registers under it',
    );
    expect(cimdDomainProblem('*.127.0.0.1')).toMatch(/before a domain name, not an IP address/);
    for (const ok of ['*.example.com', '*.example.co.uk', '*.mcp.github.io', 'example.com', 'localhost', '127.0.0.1'])
      expect(cimdDomainProblem(ok), ok).toBeUndefined();
  });

  it('a wildcard over any public suffix, ICANN or private (Public Suffix List), not only a top-level domain', async () => {
    const dir = await folder();
    expect(await refusal({ cimdDomain: ['*.co.uk'] }, {}, dir)).toBe(
      '--cimd-domain: cimd.domains[0]: must put *. before a domain of your own (e.g. *.example.com): co.uk is a public suffix (publicsuffix.org), so *.co.uk would permit every host anyone registers under it',
    );
    expect(await refusal({}, { MCP_KEYCLOAK_CIMD_DOMAINS: '*.GitHub.io' }, dir)).toMatch(
      /^MCP_KEYCLOAK_CIMD_DOMAINS: cimd\.domains\[0\]: .*github\.io is a public suffix .*\*\.github\.io would permit every host/i,
    );
    for (const suffix of ['*.github.io', '*.s3.amazonaws.com', '*.herokuapp.com', '*.internal'])
      expect(cimdDomainProblem(suffix), suffix).toMatch(/is a public suffix/);
    // The exact host of a suffix names that one host, not everything under it.
    expect(cimdDomainProblem('github.io')).toBeUndefined();
  });

  it('CIMD domains are kept in lower case, so another spelling plans the same realm', async () => {
    const dir = await folder();
    const upper = (await loadConfig({ cimdDomain: ['CLIENTS.Example.COM', '*.Other.Example'] }, {}, dir)).config;
    const lower = (await loadConfig({ cimdDomain: ['clients.example.com', '*.other.example'] }, {}, dir)).config;
    expect(upper.cimd?.domains).toEqual(['clients.example.com', '*.other.example']);
    expect(desiredRealm(upper)).toEqual(desiredRealm(lower));
  });

  it("a tool scope that is the resource's own scope, from the flag or the file", async () => {
    const dir = await folder();
    expect(await refusal({ toolScope: ['divide_numbers=mcp:run'] }, {}, dir)).toBe(
      "--tool-scope: resources[0].toolScopes.divide_numbers[0]: mcp:run is the resource's own scope, which every token has; a tool scope names an extra scope",
    );
    const inFile = await folder({
      resources: [
        {
          url: 'http://localhost:8000/mcp',
          scopes: ['mcp:run', 'mcp:more'],
          toolScopes: { add_numbers: ['mcp:admin', 'mcp:more'] },
        },
      ],
    });
    expect(await refusal({}, {}, inFile)).toMatch(
      /: resources\[0\]\.toolScopes\.add_numbers\[1\]: mcp:more is the resource's own scope/,
    );
  });

  it('an empty tool-scope list, and an empty tool name, in words', async () => {
    const empty = await folder({
      resources: [{ url: 'http://localhost:8000/mcp', toolScopes: { divide_numbers: [] } }],
    });
    expect(await refusal({}, {}, empty)).toMatch(
      /: resources\[0\]\.toolScopes\.divide_numbers: must name at least one scope \(a tool that needs no extra scope needs no entry\)$/,
    );
    const noName = await folder({
      resources: [{ url: 'http://localhost:8000/mcp', toolScopes: { '': ['mcp:admin'] } }],
    });
    expect(await refusal({}, {}, noName)).toMatch(
      /: resources\[0\]\.toolScopes\[""\]: must be a tool name, not empty$/,
    );
  });

  it('__proto__, constructor and prototype as a tool name are refused, not dropped or misread', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(await refusal({ toolScope: [`${key}=mcp:admin`] }, {}, await folder())).toBe(
        `--tool-scope ${key}=…: the tool name must not be ${key}: __proto__, constructor and prototype are keys JavaScript objects reserve, so the entry would be dropped or misread; rename it.`,
      );
      // JSON.parse keeps "__proto__" as an own key; zod's record skipped it, so the step-up silently vanished.
      const dir = await folder();
      await writeFile(
        join(dir, 'mcp-keycloak.json'),
        `{"resources": [{"url": "http://localhost:8000/mcp", "toolScopes": {"add_numbers": ["mcp:more"], "${key}": ["mcp:admin"]}}]}`,
      );
      expect(await refusal({}, {}, dir)).toMatch(
        new RegExp(`mcp-keycloak\\.json: resources\\[0\\]\\.toolScopes\\.${key}: must not be ${key}: .* rename it$`),
      );
    }
  });

  it('an own __proto__ key anywhere in the file is refused with its path', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'mcp-keycloak.json'), '{"dcr": {"__proto__": {"mode": "off"}}}');
    expect(await refusal({}, {}, dir)).toMatch(/mcp-keycloak\.json: dcr\.__proto__: must not be __proto__: /);
  });

  it('a CIMD section that permits nothing: no clients and no domains', async () => {
    const message = await refusal({}, {}, await folder({ cimd: { clients: [] } }));
    expect(message).toMatch(
      /: cimd: clients is empty and domains names none, so the CIMD policy would permit no client_id at all: /,
    );
    expect(
      (await loadConfig({}, {}, await folder({ cimd: { clients: [], domains: ['clients.example.com'] } }))).config.cimd
        ?.domains,
    ).toEqual(['clients.example.com']);
    expect(
      (await loadConfig({}, {}, await folder({ cimd: { clients: [], enabled: false } }))).config.cimd?.enabled,
    ).toBe(false);
  });

  it('a CIMD section with Inspector alone and no domains: Inspector brings no client_id domain, so that too permits nothing', async () => {
    const message = await refusal({}, {}, await folder({ cimd: { clients: ['inspector'] } }));
    expect(message).toMatch(
      /: cimd: clients names only inspector, which has no client_id domain of its own .* add the host of that document to domains \(--cimd-domain\)/,
    );
    const withHost = await loadConfig(
      {},
      {},
      await folder({ cimd: { clients: ['inspector'], domains: ['docs.example.com'] } }),
    );
    expect(withHost.config.cimd?.domains).toEqual(['docs.example.com']);
    // The schema's list of such clients is the known-clients table's (src/realm/cimd.ts).
    expect(KNOWN_CIMD_CLIENTS.filter((c) => c.clientIdDomains.length === 0).map((c) => c.key)).toEqual([
      ...CIMD_CLIENTS_WITHOUT_CLIENT_ID_DOMAIN,
    ]);
  });

  it('keycloakFeatures with none among other features', async () => {
    expect(await refusal({}, {}, await folder({ keycloakFeatures: ['none', 'cimd'] }))).toMatch(
      /: keycloakFeatures: none means no features and stands alone/,
    );
    expect((await loadConfig({}, {}, await folder({ keycloakFeatures: ['cimd'] }))).config.keycloakFeatures).toEqual([
      'cimd',
    ]);
  });
});
