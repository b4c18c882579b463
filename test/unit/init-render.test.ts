/** init's file rendering: templates, .env merging that keeps the user's lines, diffs that never show a secret. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineDiff } from '../../src/init/diff.js';
import { planFiles, type InitAnswers } from '../../src/init/files.js';
import { envValue, fill, mergeEnv, parseEnv } from '../../src/init/render.js';

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
    const merged = mergeEnv('# mine\nFOO=bar\nKEYCLOAK_URL=http://old\n', new Map([['KEYCLOAK_URL', 'http://new'], ['MCP_KEYCLOAK_REALM', 'r']]));
    expect(merged).toBe('# mine\nFOO=bar\nKEYCLOAK_URL=http://new\nMCP_KEYCLOAK_REALM=r\n');
  });
});

describe('lineDiff', () => {
  it('shows removed and added lines with context', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nB\nc\n')).toEqual(['  a', '- b', '+ B', '  c']);
  });
});

describe('planFiles', () => {
  it('plans three new files in an empty folder, .env private', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-unit-'));
    const files = await planFiles(dir, answers, '1.2.3', false);
    expect(files.map((f) => [f.name, f.status, f.mode.toString(8)])).toEqual([
      ['mcp-keycloak.json', 'create', '644'],
      ['.vscode/mcp.json', 'create', '644'],
      ['.env', 'create', '600'],
    ]);
    expect(JSON.parse(files[0]!.content).$schema).toBe('https://unpkg.com/mcp-keycloak@1.2.3/schema/mcp-keycloak.schema.json');
  });

  it('keeps what the user added to their files, and masks passwords in the diff', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-keycloak-unit-'));
    await writeFile(join(dir, 'mcp-keycloak.json'), JSON.stringify({ realm: 'mcp-demo', server: { port: 9000 }, dcr: { mode: 'anonymous', webOrigins: ['http://localhost:6274'] } }));
    await writeFile(join(dir, '.env'), 'MINE=1\nMCP_KEYCLOAK_TEST_USER_PASSWORD=old-secret\n');
    const [config, , env] = await planFiles(dir, answers, '1.2.3', false);
    const written = JSON.parse(config!.content);
    expect(written.server).toEqual({ port: 9000 });
    expect(written.dcr).toEqual({ mode: 'anonymous', webOrigins: ['http://localhost:6274'] });
    expect(env!.content).toMatch(/^MINE=1$/m);
    expect(env!.diff.join('\n')).not.toContain('old-secret');
    expect(env!.diff.join('\n')).not.toContain('word');
    expect(env!.diff).toEqual(['  MINE=1', '- MCP_KEYCLOAK_TEST_USER_PASSWORD=********', '+ MCP_KEYCLOAK_TEST_USER_PASSWORD=******** (new value)']);
  });
});
