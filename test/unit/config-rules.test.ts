/**
 * The validation rules of issue #12 (hostile input), one case per defect, through `loadConfig` as
 * every command calls it: each refusal is a UsageError of one line that names the field, and the
 * defaults still apply where only part of a setting is given.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  httpUrlProblem,
  parseDecimal,
  resourceUrlProblem,
  trustedHostProblem,
  webOriginProblem,
} from '../../src/config/rules.js';
import { UsageError } from '../../src/errors.js';
import { checkConsistency } from '../../src/server/index.js';

const empty = () => mkdtemp(join(tmpdir(), 'mcp-keycloak-rules-'));

/** Loads with flags and env only, and returns the UsageError's message (failing when there is none). */
async function refusal(flags: Parameters<typeof loadConfig>[0], env: Record<string, string> = {}): Promise<string> {
  const error = await loadConfig(flags, env, await empty()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  const message = (error as UsageError).message;
  expect(message.split('\n')).toHaveLength(1);
  expect(message.length).toBeLessThan(600);
  return message;
}

describe('--scope alone (defect 3)', () => {
  it('keeps the default resource URL, from a flag and from env', async () => {
    const dir = await empty();
    expect((await loadConfig({ scope: ['mcp:tools'] }, {}, dir)).config.resources).toEqual([
      { url: 'http://localhost:8000/mcp', scopes: ['mcp:tools'] },
    ]);
    expect((await loadConfig({}, { MCP_KEYCLOAK_SCOPE: 'mcp:tools' }, dir)).config.resources).toEqual([
      { url: 'http://localhost:8000/mcp', scopes: ['mcp:tools'] },
    ]);
  });
});

describe('URLs (defects 4 and 5)', () => {
  it('refuses a query string or a fragment in the Keycloak base URL', async () => {
    // Its own reason: the resource URL's ("MCP clients drop it") says nothing about a Keycloak URL.
    expect(await refusal({ keycloakUrl: 'http://localhost:8080/?x=1' })).toMatch(
      /^--keycloak-url: keycloakUrl: must not have a query string \(\?…\): it is the base that paths such as \/realms\/… and \/admin\/… are added to, e\.g\. http:\/\/127\.0\.0\.1:8080/,
    );
    expect(await refusal({ keycloakUrl: 'http://localhost:8080/?x=1' })).not.toMatch(/MCP clients/);
    expect(await refusal({ keycloakUrl: 'http://localhost:8080/?' })).toMatch(
      /keycloakUrl: must not have a query string/,
    );
    expect(await refusal({ keycloakUrl: 'http://localhost:8080/#top' })).toMatch(
      /keycloakUrl: must not have a #fragment/,
    );
  });

  it('refuses a resource URL with a query string at loading, as serve does at start-up: one rule', async () => {
    const url = 'http://localhost:8000/mcp?tenant=1';
    expect(await refusal({ resource: url })).toMatch(
      /resources\[0\]\.url: must not have a query string \(\?…\): MCP clients drop it, so tokens would never match/,
    );
    expect(() => checkConsistency({ resource: url, host: '127.0.0.1', port: 8000, scopes: ['s'] })).toThrow(
      /must not have a query string/,
    );
    for (const bad of [
      'http://localhost:8000/mcp#x',
      'ftp://localhost/mcp',
      'http://u:p@localhost/mcp',
      'http:localhost/mcp',
      'http://local\\host/mcp',
    ]) {
      expect(resourceUrlProblem(bad), bad).toBeDefined();
      expect(() => checkConsistency({ resource: bad, host: '127.0.0.1', port: 80, scopes: ['s'] }), bad).toThrow(
        UsageError,
      );
    }
  });

  it('refuses a 200 KB resource URL without quoting it back', async () => {
    const message = await refusal({ resource: `http://localhost:8000/${'a'.repeat(200_000)}` });
    expect(message).toMatch(/resources\[0\]\.url: is 200022 characters long; at most 2048 are accepted/);
  });

  it('refuses non-ASCII hosts and names the punycode form to use instead', async () => {
    expect(await refusal({ resource: 'http://bücher.example/mcp' })).toMatch(
      /must be plain ASCII .*http:\/\/xn--bcher-kva\.example\/mcp/,
    );
    expect(httpUrlProblem('http://localhost:8000/mcp\u200b')).toMatch(/plain ASCII/);
    expect(httpUrlProblem('http://local\thost:8000/mcp')).toMatch(/spaces or control characters/);
    expect(httpUrlProblem('http://xn--bcher-kva.example/mcp')).toBeUndefined();
  });

  it('accepts the ordinary forms, byte for byte', async () => {
    for (const url of [
      'http://localhost:8000/mcp',
      'https://mcp.example.com/',
      'http://127.0.0.1:9000/mcp/',
      'http://[::1]:8000/mcp',
      'https://sso.example.com/auth',
    ]) {
      expect(httpUrlProblem(url), url).toBeUndefined();
    }
  });
});

describe('scopes, trusted hosts, web origins (defect 5)', () => {
  it('refuses a 200 KB scope', async () => {
    expect(await refusal({ scope: ['a'.repeat(200_000)] })).toMatch(
      /resources\[0\]\.scopes\[0\]: must be at most 255 characters/,
    );
  });

  it('refuses blank, wildcard, URL and non-ASCII trusted hosts', async () => {
    const trusted = (host: string) => refusal({ dcr: 'trusted-hosts', trustedHost: [host] });
    expect(await trusted(' ')).toMatch(/dcr\.trustedHosts\[0\]: must be a hostname or IP address, not blank/);
    expect(await trusted('*')).toMatch(/wildcards are not supported/);
    expect(await trusted('*.example.com')).toMatch(/wildcards are not supported/);
    expect(await trusted('http://localhost')).toMatch(/not a URL/);
    expect(await trusted('bücher.example')).toMatch(/plain ASCII .*xn--bcher-kva\.example/);
    expect(await trusted('under_score.example')).toMatch(/must be a hostname/);
    for (const ok of ['localhost', '127.0.0.1', '::1', 'host.docker.internal', 'xn--bcher-kva.example'])
      expect(trustedHostProblem(ok), ok).toBeUndefined();
  });

  it('refuses web origins with a path, a trailing slash, a default port or a query', async () => {
    expect(await refusal({ webOrigin: ['http://localhost:6274/app'] })).toMatch(
      /dcr\.webOrigins\[0\]: must be an origin, .*: http:\/\/localhost:6274$/,
    );
    expect(webOriginProblem('http://localhost:6274/')).toMatch(/http:\/\/localhost:6274$/);
    expect(webOriginProblem('https://inspector.example:443')).toMatch(/https:\/\/inspector\.example$/);
    expect(webOriginProblem('http://localhost:6274?x')).toMatch(/query string/);
    expect(webOriginProblem('http://localhost:6274')).toBeUndefined();
  });
});

describe('conflicting settings (defect 11)', () => {
  it('refuses trusted hosts outside trusted-hosts mode', async () => {
    expect(await refusal({ dcr: 'anonymous', trustedHost: ['localhost'] })).toMatch(
      /dcr\.trustedHosts: trusted hosts only apply with dcr mode "trusted-hosts" \(mode is "anonymous"\)/,
    );
    expect(await refusal({ dcr: 'off', trustedHost: ['localhost'] })).toMatch(/mode is "off"/);
  });

  it('refuses web origins with dcr off, accepts them with the other modes', async () => {
    expect(await refusal({ dcr: 'off', webOrigin: ['http://localhost:6274'] })).toMatch(
      /dcr\.webOrigins: dcr mode "off" leaves registration policies alone/,
    );
    const { config } = await loadConfig({ dcr: 'anonymous', webOrigin: ['http://localhost:6274'] }, {}, await empty());
    expect(config.dcr.webOrigins).toEqual(['http://localhost:6274']);
  });
});

describe('numbers (defect 11)', () => {
  it('takes only decimal ports from 1 to 65535, from a flag or env', async () => {
    expect(await refusal({}, { MCP_KEYCLOAK_PORT: '1e3' })).toMatch(
      /^MCP_KEYCLOAK_PORT must be a port number from 1 to 65535 in decimal digits \(got "1e3"\)\.$/,
    );
    for (const bad of ['0x50', ' 80', '80.0', '0', '65536', '-1', ''])
      expect(await refusal({ port: bad }), bad).toMatch(/--port must be a port number/);
    expect((await loadConfig({}, { MCP_KEYCLOAK_PORT: '9000' }, await empty())).config.server.port).toBe(9000);
    expect((await loadConfig({}, { MCP_KEYCLOAK_PORT: '' }, await empty())).config.server.port).toBeUndefined();
    expect(parseDecimal('08080', 1, 65535)).toBe(8080);
  });
});

describe('config files (defects 8 and 11)', () => {
  it('accepts a UTF-8 byte order mark', async () => {
    const dir = await empty();
    await writeFile(join(dir, 'mcp-keycloak.json'), `\uFEFF${JSON.stringify({ realm: 'with-bom' })}`);
    expect((await loadConfig({}, {}, dir)).config.realm).toBe('with-bom');
  });

  it('refuses a directory as --config with one line', async () => {
    const dir = await empty();
    await mkdir(join(dir, 'conf'));
    const error = await loadConfig({ config: 'conf' }, {}, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^Config file .*conf is a directory: pass the JSON file itself/);
  });

  it('keeps error lines short and single for files full of junk keys', async () => {
    const dir = await empty();
    const junk = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`bad\nkey-${i}`, i]));
    await writeFile(join(dir, 'mcp-keycloak.json'), JSON.stringify(junk));
    const error = (await loadConfig({}, {}, dir).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toMatch(/unknown field\(s\) "bad\?key-0", .*, …/);
  });
});
