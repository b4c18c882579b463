/**
 * Property-based tests of the pure parsers that own the configuration: whatever flags, env and file
 * hold, loading ends in a Config or in a one-line UsageError (never another exception, never a hang),
 * and the resource-URL rule is one rule: config loading and serve accept exactly the same strings.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV, loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { httpUrlProblem, MAX_URL_LENGTH, resourceUrlProblem } from '../../src/config/rules.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { UsageError } from '../../src/errors.js';
import { checkConsistency } from '../../src/server/index.js';

/** Strings a hostile user would try: anything at all, plus the edge cases random generation rarely hits. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '*',
    '1e3',
    '0x50',
    '-1',
    '65536',
    '\uFEFF',
    'http://localhost:8000/mcp?tenant=1',
    'http://bücher.example/mcp',
    'x'.repeat(5000),
  ),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);

const flagsArb: fc.Arbitrary<ConfigFlags> = fc.record(
  {
    keycloakUrl: nasty,
    realm: nasty,
    resource: nasty,
    scope: fc.array(nasty, { maxLength: 3 }),
    dcr: fc.oneof(fc.constantFrom('anonymous', 'trusted-hosts', 'off'), nasty),
    trustedHost: fc.array(nasty, { maxLength: 3 }),
    webOrigin: fc.array(nasty, { maxLength: 3 }),
    testUser: nasty,
    host: nasty,
    port: fc.oneof(nasty, fc.integer().map(String)),
  },
  { requiredKeys: [] },
);

const envArb = fc.dictionary(fc.constantFrom(...Object.values(ENV).filter((name) => name !== ENV.config)), nasty, {
  maxKeys: 6,
});

/** A file's object: known keys with arbitrary JSON, or arbitrary JSON altogether. */
const fileArb = fc.oneof(
  fc.record(
    {
      keycloakUrl: fc.jsonValue({ maxDepth: 1 }),
      realm: fc.jsonValue({ maxDepth: 1 }),
      resources: fc.oneof(
        fc.array(
          fc.record({ url: fc.oneof(nasty, fc.jsonValue({ maxDepth: 1 })), scopes: fc.array(nasty, { maxLength: 2 }) }),
          { maxLength: 3 },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      dcr: fc.oneof(
        fc.record({ mode: nasty, trustedHosts: fc.array(nasty), webOrigins: fc.array(nasty) }, { requiredKeys: [] }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      server: fc.jsonValue({ maxDepth: 2 }),
      testUser: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

/** What every caller may rely on once loadConfig returns. */
function expectSound(config: Config): void {
  expect(configSchema.safeParse(config).success).toBe(true);
  for (const resource of config.resources) expect(resourceUrlProblem(resource.url)).toBeUndefined();
  expect(httpUrlProblem(config.keycloakUrl)).toBeUndefined();
}

function expectOneLineUsageError(error: unknown): void {
  if (!(error instanceof UsageError)) throw error; // any other exception is the bug this test looks for
  expect(error.message).not.toMatch(/[\r\n]/);
  expect(error.message.length).toBeLessThan(2500);
}

describe('loadConfig on arbitrary input', () => {
  it('flags and env: a Config or a one-line UsageError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-prop-'));
    await fc.assert(
      fc.asyncProperty(flagsArb, envArb, async (flags, env) => {
        try {
          expectSound((await loadConfig(flags, env, dir)).config);
        } catch (error) {
          expectOneLineUsageError(error);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('file, env and flags together, the file written as JSON (sometimes with a BOM) or as arbitrary text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-prop-file-'));
    const file = join(dir, 'mcp-keycloak.json');
    const textArb = fc.oneof(
      fileArb.map((value) => JSON.stringify(value) ?? 'null'),
      fileArb.map((value) => `\uFEFF${JSON.stringify(value) ?? 'null'}`),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(textArb, flagsArb, envArb, async (text, flags, env) => {
        await writeFile(file, text);
        try {
          expectSound((await loadConfig(flags, env, dir)).config);
        } catch (error) {
          expectOneLineUsageError(error);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the resource-URL rule', () => {
  it('config loading and serve accept exactly the same strings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-prop-url-'));
    await fc.assert(
      fc.asyncProperty(nasty, async (url) => {
        const loaded = await loadConfig({ resource: url }, {}, dir).then(
          () => true,
          (error: unknown) => {
            expectOneLineUsageError(error);
            return false;
          },
        );
        let served = true;
        try {
          checkConsistency({ resource: url, host: '0.0.0.0', port: 8000, scopes: ['mcp:run'] });
        } catch (error) {
          expectOneLineUsageError(error);
          served = false;
        }
        expect(served).toBe(loaded);
        expect(loaded).toBe(resourceUrlProblem(url) === undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('whatever it accepts is an http(s) URL without query, fragment or credentials, that parses to a host', () => {
    fc.assert(
      fc.property(nasty, (value) => {
        if (resourceUrlProblem(value) !== undefined) return;
        const url = new URL(value);
        expect(['http:', 'https:']).toContain(url.protocol);
        expect(url.hostname).not.toBe('');
        expect(value).not.toMatch(/[?#\s\\]/);
        expect(url.username + url.password).toBe('');
        expect(value.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every plain http(s) URL, and refuses it once a query or fragment is added', () => {
    const plain = fc.webUrl({ validSchemes: ['http', 'https'], withQueryParameters: false, withFragments: false });
    fc.assert(
      fc.property(plain, fc.constantFrom('?', '?a=1', '#', '#x'), (url, suffix) => {
        // fc.webUrl may produce user-info (user:pass@host) and non-ASCII-free paths; credentials are refused on purpose.
        const hasCredentials = new URL(url).username !== '';
        expect(resourceUrlProblem(url) === undefined).toBe(!hasCredentials && url.length <= MAX_URL_LENGTH);
        expect(resourceUrlProblem(`${url}${suffix}`)).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });
});
