/**
 * Server-side mistakes doctor must name: a PRM whose `resource` differs from the URL, a PRM naming another
 * realm, a 401 without `WWW-Authenticate`. The MCP server here is a tiny node:http fake (it only has to
 * answer discovery); Keycloak is the real one. Runs without admin credentials: the realm audit is skipped.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { deleteRealm, keycloak, runCli, uniqueRealm } from '../support/keycloak.js';

const realm = uniqueRealm('doctor-srv');
const otherRealm = uniqueRealm('doctor-srv-other');

interface Behaviour {
  /** `resource` the PRM publishes, relative to the real URL. */
  resource?: (url: string) => string;
  /** Realm the PRM names as authorization server. */
  realm?: string;
  challenge?: boolean;
  /** Path the challenge's resource_metadata names instead of the real one. */
  headerPath?: string;
}

let behaviour: Behaviour = {};
let server: Server;
let url: string;

function startFake(port: number): Promise<Server> {
  const fake = createServer((req, res) => {
    const prmUrl = `http://127.0.0.1:${port}${behaviour.headerPath ?? '/.well-known/oauth-protected-resource/mcp'}`;
    if (req.url === '/mcp') {
      req.resume();
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (behaviour.challenge !== false)
        headers['www-authenticate'] = `Bearer resource_metadata="${prmUrl}", scope="mcp:run"`;
      res.writeHead(401, headers).end('{"error":"unauthorized"}');
    } else if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      const issuer = `${keycloak().url}/realms/${behaviour.realm ?? realm}`;
      const resource = behaviour.resource ? behaviour.resource(url) : url;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ resource, authorization_servers: [issuer], scopes_supported: ['mcp:run'] }));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => fake.listen(port, '127.0.0.1', () => resolve(fake)));
}

interface Report {
  checks: { id: string; status: string; why?: string; fix?: string }[];
}

async function doctor(): Promise<{ code: number; report: Report }> {
  const result = await runCli(['--json', 'doctor', '--realm', realm, '--resource', url], { admin: false });
  expect(result.stderr).toBe('');
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}
const failed = (r: Report) =>
  r.checks
    .filter((f) => f.status === 'fail')
    .map((f) => f.id)
    .sort();
const find = (r: Report, id: string) => r.checks.find((f) => f.id === id)!;

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/mcp`;
  for (const name of [realm, otherRealm]) {
    const applied = await runCli(['apply', '--yes', '--realm', name, '--resource', url]);
    expect(applied.code, applied.stderr).toBe(0);
  }
  server = await startFake(port);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await deleteRealm(realm);
  await deleteRealm(otherRealm);
});

describe('doctor against a misconfigured MCP server', () => {
  it('a correct fake passes discovery and registration; admin and token checks are skipped, not failed', async () => {
    behaviour = {};
    const { code, report } = await doctor();
    expect(failed(report)).toEqual([]);
    expect(code).toBe(0);
    expect(find(report, 'realm.audience').status).toBe('skip');
    expect(find(report, 'realm.audience').fix).toMatch(/KEYCLOAK_ADMIN_PASSWORD/);
    expect(find(report, 'token.aud').status).toBe('skip');
    expect(find(report, 'token.aud').fix).toMatch(/--token -/);
  });

  it('PRM resource with a trailing slash', async () => {
    behaviour = { resource: (u) => `${u}/` };
    const { code, report } = await doctor();
    expect(code).toBe(1);
    expect(failed(report)).toEqual(['prm.resource']);
    expect(find(report, 'prm.resource').why).toMatch(
      new RegExp(`PRM resource is ${url}/ but the MCP URL is ${url}: a trailing slash`),
    );
  });

  it('PRM resource on another host', async () => {
    behaviour = { resource: (u) => u.replace('127.0.0.1', 'localhost') };
    const { report } = await doctor();
    expect(failed(report)).toEqual(['prm.resource']);
    expect(find(report, 'prm.resource').why).toMatch(/the host \(localhost vs 127\.0\.0\.1\)/);
  });

  it('PRM naming another realm', async () => {
    behaviour = { realm: otherRealm };
    const { code, report } = await doctor();
    expect(code).toBe(1);
    expect(failed(report)).toEqual(['prm.authorization_servers']);
    expect(find(report, 'prm.authorization_servers').why).toContain(`PRM names realm "${otherRealm}"`);
    expect(find(report, 'prm.authorization_servers').why).toContain(`this setup uses realm "${realm}"`);
  });

  it('challenge naming a metadata URL that does not answer, while the well-known one does', async () => {
    behaviour = { headerPath: '/.well-known/oauth-protected-resource' };
    const { report } = await doctor();
    expect(failed(report)).toEqual(['prm.found']);
    expect(find(report, 'prm.found').why).toMatch(/do not fall back/);
  });

  it('a wrong --keycloak-url is named as such, not blamed on the server', async () => {
    behaviour = {};
    const port = await freePort();
    const result = await runCli(
      ['--json', 'doctor', '--realm', realm, '--resource', url, '--keycloak-url', `http://127.0.0.1:${port}`],
      { admin: false },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(failed(report)).toEqual(['keycloak.realm']);
    expect(find(report, 'keycloak.realm').fix).toMatch(/--keycloak-url/);
    expect(find(report, 'prm.authorization_servers').status).toBe('warn');
  });

  it('401 without a WWW-Authenticate header', async () => {
    behaviour = { challenge: false };
    const { code, report } = await doctor();
    expect(code).toBe(1);
    expect(failed(report)).toEqual(['challenge.status']);
    expect(find(report, 'challenge.status').why).toMatch(/Without a Bearer challenge clients cannot discover/);
  });
});
