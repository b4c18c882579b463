/**
 * The one guard doctor's secrets pass (src/doctor/trust.ts), without Keycloak: what it refuses is refused
 * before anything is sent; what it lets through reaches a loopback server of the test's own (not Keycloak).
 * Also the verdict helpers (src/doctor/verdicts.ts) and how skips read in the summary line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { renderReport, skipReasons, type DoctorReport } from '../../src/doctor/report.js';
import {
  keycloakOnlyFetch,
  keycloakOnlyRequest,
  UntrustedDestinationError,
  untrustedDestination,
} from '../../src/doctor/trust.js';
import type { DoctorInput } from '../../src/doctor/types.js';
import { withoutAdmin } from '../../src/doctor/verdicts.js';
import { blocked, pass, skip } from '../../src/findings.js';
import { Chalk } from 'chalk';

const KEYCLOAK = 'http://127.0.0.1:1'; // nothing is sent there in these tests
const config = configSchema.parse({ keycloakUrl: KEYCLOAK, realm: 'mcp-demo' });
let other: Server;
let otherUrl: string;
const seen: { method: string; url: string }[] = [];

beforeAll(async () => {
  other = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

describe('keycloakOnlyFetch (the --e2e client and the headless sign-in)', () => {
  const mcp = () => `${otherUrl}/mcp`;

  it('refuses a login form, a token request, a registration and a bearer call anywhere but Keycloak, before sending', async () => {
    const guarded = keycloakOnlyFetch(config, mcp());
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const before = seen.length;
    for (const [url, init] of [
      [`${otherUrl}/realms/x/login-actions/authenticate`, { method: 'POST', headers: form, body: 'password=p' }],
      [`${otherUrl}/realms/x/protocol/openid-connect/token`, { method: 'POST', headers: form, body: 'code=c' }],
      [`${otherUrl}/realms/x/clients-registrations/openid-connect`, { method: 'POST', body: '{}' }],
      [
        `${otherUrl}/realms/x/clients-registrations/openid-connect/id`,
        { method: 'DELETE', headers: { authorization: 'Bearer t' } },
      ],
      [`${otherUrl}/other`, { headers: { authorization: 'Bearer t' } }],
      // The MCP URL itself gets JSON-RPC, never a login form (a hostile login page may post its form there).
      [mcp(), { method: 'POST', headers: form, body: 'password=p' }],
    ] as [string, RequestInit][]) {
      await expect(guarded(url, init), url).rejects.toBeInstanceOf(UntrustedDestinationError);
    }
    expect(seen.length).toBe(before);
  });

  it('lets plain reads go anywhere, and JSON-RPC with the access token to exactly the MCP URL', async () => {
    const guarded = keycloakOnlyFetch(config, mcp());
    expect((await guarded(`${otherUrl}/.well-known/oauth-protected-resource/mcp`)).status).toBe(200);
    const call = await guarded(mcp(), {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    });
    expect(call.status).toBe(200);
    await expect(
      guarded(`${otherUrl}/mcp2`, { method: 'POST', headers: { authorization: 'Bearer t' }, body: '{}' }),
    ).rejects.toThrow(
      /refused to send credentials or a write to http:\/\/127\.0\.0\.1:\d+: .*configured Keycloak http:\/\/127\.0\.0\.1:1/,
    );
  });
});

describe('keycloakOnlyFetch on the configured origin', () => {
  it('sends a request with a secret there without following a redirect elsewhere; a plain read follows', async () => {
    // A stand-in configured as "Keycloak" (only the guard is under test): it redirects everything to `other`.
    const standIn = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: `${otherUrl}/elsewhere` }).end();
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
    try {
      const guarded = keycloakOnlyFetch(configSchema.parse({ keycloakUrl: base, realm: 'r' }), `${otherUrl}/mcp`);
      const before = seen.length;
      const token = await guarded(`${base}/realms/r/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'code=c&code_verifier=v',
      });
      expect(token.status).toBe(307);
      expect(seen.length).toBe(before); // the code never reached the other origin
      expect((await guarded(`${base}/realms/r/.well-known/openid-configuration`)).status).toBe(200);
      expect(seen.at(-1)).toEqual({ method: 'GET', url: '/elsewhere' });
    } finally {
      await new Promise<void>((resolve) => standIn.close(() => resolve()));
    }
  });
});

describe('keycloakOnlyRequest (registration probes, their deletes, token.obtain)', () => {
  it('refuses any URL off the Keycloak origin, whatever the method, before sending', async () => {
    const calls: string[] = [];
    const send = keycloakOnlyRequest({
      config,
      request: async (url) => {
        calls.push(url);
        return { url, status: 201 };
      },
    });
    await expect(
      send(`${otherUrl}/realms/x/clients-registrations/openid-connect`, { method: 'POST' }),
    ).rejects.toBeInstanceOf(UntrustedDestinationError);
    // Same host, another port: another origin (RFC 6454).
    await expect(send('http://127.0.0.1:2/realms/x', {})).rejects.toBeInstanceOf(UntrustedDestinationError);
    expect((await send(`${KEYCLOAK}/realms/x/clients-registrations/openid-connect`, { method: 'POST' })).status).toBe(
      201,
    );
    expect(calls).toEqual([`${KEYCLOAK}/realms/x/clients-registrations/openid-connect`]);
  });
});

describe('untrustedDestination', () => {
  const input = { config, expectedIssuer: `${KEYCLOAK}/realms/mcp-demo` };
  it('blames the PRM when it names another origin, Keycloak when its issuer is elsewhere, nobody otherwise', () => {
    expect(untrustedDestination(input, { authorizationServer: `${KEYCLOAK}/realms/mcp-demo` })).toBeUndefined();
    expect(untrustedDestination(input, { authorizationServer: `${otherUrl}/realms/mcp-demo` })).toMatchObject({
      blockedBy: 'prm.authorization_servers',
      why: expect.stringContaining(`${otherUrl}/realms/mcp-demo`),
    });
    expect(
      untrustedDestination({ config, expectedIssuer: 'https://auth.example.com/realms/mcp-demo' }, {}),
    ).toMatchObject({ blockedBy: 'keycloak.origin' });
  });
});

describe('verdicts', () => {
  const base = { config, adminMissing: 'no admin credentials (KEYCLOAK_ADMIN_PASSWORD …)' } as DoctorInput;
  it('an admin check is skipped without credentials, and not run because of keycloak.admin when they failed', () => {
    expect(withoutAdmin(base, 'realm.audience', 'T', 'audit the realm')).toMatchObject({
      status: 'skip',
      fix: expect.stringMatching(/to audit the realm\.$/),
    });
    expect(withoutAdmin(base, 'realm.audience', 'T', 'audit the realm').blockedBy).toBeUndefined();
    const failed = { ...base, adminFailed: 'Keycloak rejected the admin credentials …' } as DoctorInput;
    expect(withoutAdmin(failed, 'realm.audience', 'T', 'audit the realm')).toMatchObject({
      status: 'skip',
      blockedBy: 'keycloak.admin',
    });
  });

  it('the summary line counts skips by reason, blocked ones by the finding that stopped them', () => {
    const checks = [
      pass('a', 'A'),
      skip('realm.x', 'X', 'no admin credentials (KEYCLOAK_ADMIN_PASSWORD or …)'),
      skip('realm.y', 'Y', 'no admin credentials (KEYCLOAK_ADMIN_PASSWORD or …)'),
      blocked('e2e', 'E', 'prm.authorization_servers', 'not run: the PRM names …'),
    ];
    expect(skipReasons(checks)).toBe('2 no admin credentials, 1 not run because of prm.authorization_servers');
    // A long reason is cut at its first clause, or at a word with "…": never mid-sentence at a dangling word.
    const long = [
      skip('cimd.probe', 'C', 'the probe publishes its document on http://127.0.0.1, which this realm does not permit'),
      skip('z', 'Z', 'a reason without any punctuation that goes on and on well past sixty characters'),
    ];
    expect(skipReasons(long)).toBe(
      '1 the probe publishes its document on http://127.0.0.1, 1 a reason without any punctuation that goes on and on well…',
    );
    const report = {
      ok: true,
      target: { resource: 'r', issuer: 'i' },
      summary: { pass: 1, warn: 0, fail: 0, skip: 3 },
      checks,
      durationMs: 1000,
    } as unknown as DoctorReport;
    const text = renderReport(report, new Chalk({ level: 0 })).join('\n');
    expect(text).toContain('⊘ E not run because of prm.authorization_servers');
    expect(text).toContain(
      '1 passed, 0 warning(s), 0 failed, 3 skipped (2 no admin credentials, 1 not run because of prm.authorization_servers) in 1.0 s.',
    );
  });
});
