/** init's file rendering: templates, .env merging that keeps the user's lines, diffs that never show a secret. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../src/init/diff.js';
import { planFiles, type InitAnswers } from '../../src/init/files.js';

const target = (dir: string, configPath = join(dir, 'mcp-keycloak.json')) => ({ dir, configPath });
const SHIPPED_SCHEMA = new URL('../../schema/mcp-keycloak.schema.json', import.meta.url);
import { envValue, fill, mergeEnv, parseEnv } from '../../src/init/render.js';
import type { ConfigFileJson } from '../support/cli-json.js';

const answers: InitAnswers = {
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp-demo',
  resource: 'http://localhost:8000/mcp',
  scopes: ['mcp:run'],
  dcr: 'anonymous',
  trustedHosts: [],
  adminUsername: 'admin',
  testUser: { username: 'alice', password: 'p@ss "word" $x', generated: false },
};

describe('templates', () => {
  it('fills placeholders and refuses to leave one empty', () => {
    expect(fill('a {{x}} b', { x: '1' })).toBe('a 1 b');
    expect(() => fill('{{missing}}', {})).toThrow(/missing/);
  });
});

describe('.env', () => {
  it('quotes values a shell would misread, and reads them back', () => {
    expect(envValue('http://localhost:8000/mcp')).toBe('http://localhost:8000/mcp');
    const line = `X=${envValue(answers.testUser!.password)}`;
    expect(parseEnv(line).get('X')).toBe(answers.testUser!.password);
  });
  it('updates our keys in place and keeps the user lines', () => {
    const merged = mergeEnv(
      '# mine\nFOO=bar\nKEYCLOAK_URL=http://old\n',
      new Map([
        ['KEYCLOAK_URL', 'http://new'],
        ['MCP_KEYCLOAK_REALM', 'r'],
      ]),
    );
    expect(merged).toBe('# mine\nFOO=bar\nKEYCLOAK_URL=http://new\nMCP_KEYCLOAK_REALM=r\n');
  });
});

describe('lineDiff', () => {
  it('shows removed and added lines with context', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nB\nc\n')).toEqual(['  a', '- b', '+ B', '  c']);
  });
});

describe('planFiles', () => {
  it('plans four new files in an empty folder, .env private', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-unit-'));
    const files = await planFiles(target(dir), answers, false);
    expect(files.map((f) => [f.name, f.status, f.mode.toString(8)])).toEqual([
      ['mcp-keycloak.json', 'create', '644'],
      ['mcp-keycloak.schema.json', 'create', '644'],
      ['.vscode/mcp.json', 'create', '644'],
      ['.env', 'create', '600'],
    ]);
  });

  it('names a schema that resolves, from the config file, to a copy of the shipped schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-unit-'));
    // A config file elsewhere (--config): the schema goes next to it, wherever that is.
    const configPath = join(dir, 'config', 'mcp.json');
    const files = await planFiles(target(dir, configPath), answers, false);
    const reference = (JSON.parse(files[0]!.content) as ConfigFileJson).$schema;
    expect(reference).toMatch(/^\.\//); // relative: the same in a checkout, a global install or an npx cache
    const schema = files.find((f) => f.path === resolve(dirname(configPath), reference));
    expect(schema?.content).toBe(await readFile(SHIPPED_SCHEMA, 'utf8'));
    expect(schema?.generated).toBe(true);
  });

  it('writes the web origins it was given into the dcr section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-unit-'));
    const [config] = await planFiles(target(dir), { ...answers, webOrigins: ['http://localhost:6274'] }, false);
    expect((JSON.parse(config!.content) as ConfigFileJson).dcr).toEqual({
      mode: 'anonymous',
      webOrigins: ['http://localhost:6274'],
    });
  });

  it('keeps what the user added to their files, and masks passwords in the diff', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-unit-'));
    await writeFile(
      join(dir, 'mcp-keycloak.json'),
      JSON.stringify({
        realm: 'mcp-demo',
        server: { port: 9000 },
        dcr: { mode: 'anonymous', webOrigins: ['http://localhost:6274'] },
      }),
    );
    await writeFile(join(dir, '.env'), 'MINE=1\nMCP_KEYCLOAK_TEST_USER_PASSWORD=old-secret\n');
    const [config, , , env] = await planFiles(target(dir), answers, false);
    const written = JSON.parse(config!.content) as ConfigFileJson;
    expect(written.server).toEqual({ port: 9000 });
    expect(written.dcr).toEqual({ mode: 'anonymous', webOrigins: ['http://localhost:6274'] });
    expect(env!.content).toMatch(/^MINE=1$/m);
    expect(env!.diff.join('\n')).not.toContain('old-secret');
    expect(env!.diff.join('\n')).not.toContain('word');
    expect(env!.diff).toEqual([
      '  MINE=1',
      '- MCP_KEYCLOAK_TEST_USER_PASSWORD=********',
      '+ MCP_KEYCLOAK_TEST_USER_PASSWORD=******** (new value)',
    ]);
  });
});
