/** Configuration precedence (flags > env > file > defaults) and validation messages, without a network. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

async function withFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-config-'));
  await writeFile(join(dir, 'mcp-keycloak.json'), JSON.stringify(content));
  return dir;
}

describe('loadConfig', () => {
  it('uses the recipe defaults when nothing is given', async () => {
    const { config, file } = await loadConfig({}, {}, await mkdtemp(join(tmpdir(), 'empty-')));
    expect(file).toBeUndefined();
    expect(config).toMatchObject({
      keycloakUrl: 'http://localhost:8080',
      realm: 'mcp-demo',
      resources: [{ url: 'http://localhost:8000/mcp', scopes: ['mcp:run'] }],
      dcr: { mode: 'anonymous', trustedHosts: [] },
      admin: { username: 'admin', realm: 'master' },
    });
  });

  it('reads ./mcp-keycloak.json, then env overrides the file, then flags override env', async () => {
    const dir = await withFile({
      realm: 'from-file',
      keycloakUrl: 'http://file:8080/',
      resources: [{ url: 'http://file/mcp', scopes: ['a'] }],
    });
    const fileOnly = await loadConfig({}, {}, dir);
    expect(fileOnly.config.realm).toBe('from-file');
    expect(fileOnly.config.keycloakUrl).toBe('http://file:8080'); // trailing slash trimmed
    const env = { MCP_KEYCLOAK_REALM: 'from-env', KEYCLOAK_URL: 'http://env:8080' };
    expect((await loadConfig({}, env, dir)).config.realm).toBe('from-env');
    const flagged = await loadConfig({ realm: 'from-flag' }, env, dir);
    expect(flagged.config.realm).toBe('from-flag');
    expect(flagged.config.keycloakUrl).toBe('http://env:8080');
  });

  it('keeps several MCP servers from the file unless --resource/--scope replace them', async () => {
    const dir = await withFile({
      resources: [
        { url: 'http://localhost:8000/mcp', scopes: ['calc:run'] },
        { url: 'http://localhost:9000/mcp', scopes: ['files:read', 'files:write'] },
      ],
    });
    expect((await loadConfig({}, {}, dir)).config.resources).toHaveLength(2);
    const single = await loadConfig({ scope: ['other'] }, {}, dir);
    expect(single.config.resources).toEqual([{ url: 'http://localhost:8000/mcp', scopes: ['other'] }]);
  });

  it('keeps the resource URL byte for byte: a trailing slash is a different audience', async () => {
    const { config } = await loadConfig(
      { resource: 'http://localhost:8000/mcp/' },
      {},
      await mkdtemp(join(tmpdir(), 'e-')),
    );
    expect(config.resources[0]!.url).toBe('http://localhost:8000/mcp/');
  });

  it('rejects a scope shared by two servers, naming the field', async () => {
    const dir = await withFile({
      resources: [
        { url: 'http://a/mcp', scopes: ['x'] },
        { url: 'http://b/mcp', scopes: ['x'] },
      ],
    });
    await expect(loadConfig({}, {}, dir)).rejects.toThrow(
      /resources\[1\]\.scopes\[0\]: scope "x" is already used by http:\/\/a\/mcp/,
    );
  });

  it('requires hosts in trusted-hosts mode and accepts them from env as a list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e-'));
    await expect(loadConfig({ dcr: 'trusted-hosts' }, {}, dir)).rejects.toThrow(
      /dcr\.trustedHosts: dcr mode "trusted-hosts" needs at least one host/,
    );
    const { config } = await loadConfig(
      {},
      { MCP_KEYCLOAK_DCR: 'trusted-hosts', MCP_KEYCLOAK_TRUSTED_HOSTS: 'localhost, 127.0.0.1' },
      dir,
    );
    expect(config.dcr.trustedHosts).toEqual(['localhost', '127.0.0.1']);
  });

  it('names a missing --config file', async () => {
    await expect(loadConfig({ config: 'nope.json' }, {}, await mkdtemp(join(tmpdir(), 'e-')))).rejects.toThrow(
      /Config file nope\.json does not exist/,
    );
  });
});

describe('the CIMD flags and variables', () => {
  const dir = () => mkdtemp(join(tmpdir(), 'mcp-keycloak-cimd-'));

  it('--cimd turns it on with all known clients; --cimd-domain and --cimd-allow-http imply it, also over MCP_KEYCLOAK_CIMD=false', async () => {
    const cwd = await dir();
    expect((await loadConfig({ cimd: true }, {}, cwd)).config.cimd).toEqual({
      enabled: true,
      clients: ['vscode', 'claude-code', 'claude-ai', 'inspector'],
      domains: [],
      allowHttp: false,
    });
    const implied = (
      await loadConfig({ cimdDomain: ['*.example.com'], cimdAllowHttp: true }, { MCP_KEYCLOAK_CIMD: 'false' }, cwd)
    ).config.cimd;
    expect(implied).toMatchObject({ enabled: true, domains: ['*.example.com'], allowHttp: true });
    expect((await loadConfig({}, { MCP_KEYCLOAK_CIMD: 'false' }, cwd)).config.cimd?.enabled).toBe(false);
    expect(
      (await loadConfig({}, { MCP_KEYCLOAK_CIMD_DOMAINS: 'a.example.com,b.example.com' }, cwd)).config.cimd,
    ).toMatchObject({ enabled: true, domains: ['a.example.com', 'b.example.com'] });
    expect((await loadConfig({}, {}, cwd)).config.cimd).toBeUndefined();
  });

  it('reads MCP_KEYCLOAK_CIMD by one rule: true/false, 1/0, yes/no, on/off in any case (review C: =1 was taken, =yes refused)', async () => {
    const cwd = await dir();
    for (const on of ['true', '1', 'yes', 'on', 'TRUE', 'Yes'])
      expect((await loadConfig({}, { MCP_KEYCLOAK_CIMD: on }, cwd)).config.cimd?.enabled, on).toBe(true);
    for (const off of ['false', '0', 'no', 'off', 'False', 'NO'])
      expect((await loadConfig({}, { MCP_KEYCLOAK_CIMD: off }, cwd)).config.cimd?.enabled, off).toBe(false);
    expect((await loadConfig({}, { MCP_KEYCLOAK_CIMD: '' }, cwd)).config.cimd).toBeUndefined();
  });

  it('refuses a MCP_KEYCLOAK_CIMD that is not a boolean, and a domain with a port, in one line each', async () => {
    const cwd = await dir();
    await expect(loadConfig({}, { MCP_KEYCLOAK_CIMD: 'maybe' }, cwd)).rejects.toThrow(
      /^MCP_KEYCLOAK_CIMD=maybe: must be true or false \(1\/0, yes\/no and on\/off are read the same way\)\.$/,
    );
    await expect(loadConfig({ cimdDomain: ['example.com:443'] }, {}, cwd)).rejects.toThrow(
      /cimd\.domains.*without a scheme or port/,
    );
  });
});
