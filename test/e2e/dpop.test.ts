/**
 * The e2e flow as a DPoP client (RFC 9449) against the real Keycloak: a realm applied with `--require-dpop`
 * (Keycloak binds every anonymously registered client's tokens to a key) and `serve` requiring DPoP-bound tokens.
 * The flow turns DPoP on by itself because the PRM says `dpop_bound_access_tokens_required` (or, with
 * `--dpop allowed`, because the 401 offers the DPoP scheme): the SDK v2 signs the
 * token request, Keycloak answers `token_type: DPoP` with `cnf.jkt` = the client's key, and every MCP request
 * carries `Authorization: DPoP` with a fresh proof (also through a server nonce). Without DPoP the chain stops
 * at the token step, saying why.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientStore, deleteRegistration, runE2e } from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import { startReferenceServer, type DpopSettings, type RunningServer } from '../../src/server/index.js';
import { deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { applyRealm } from '../support/tokens.js';

const realm = uniqueRealm('e2e-dpop');
const password = randomBytes(12).toString('base64url');
let port: number;
let resource: string;
let server: RunningServer | undefined;
const stores: ClientStore[] = [];

async function serve(dpop: DpopSettings): Promise<void> {
  await server?.close();
  server = await startReferenceServer({
    keycloakUrl: keycloak().url,
    realm,
    resource,
    scopes: ['mcp:run'],
    host: '127.0.0.1',
    port,
    dpop,
  });
}

/** Runs the chain with a fresh store, recording every MCP request's Authorization scheme and DPoP header. */
async function run(dpop?: boolean) {
  const store = new ClientStore();
  stores.push(store);
  const seen: Array<{ scheme: string; proof: boolean }> = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.url === resource && request.method === 'POST')
      seen.push({
        scheme: (request.headers.get('authorization') ?? '').split(' ')[0]!,
        proof: request.headers.has('dpop'),
      });
    return fetch(input, init);
  };
  const report = await runE2e({
    serverUrl: resource,
    username: 'alice',
    password,
    store,
    fetch: recording,
    ...(dpop === undefined ? {} : { dpop }),
  });
  return { report, seen, store };
}

beforeAll(async () => {
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  await applyRealm(realm, resource, password, ['--require-dpop']);
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => deleteRegistration(store)));
});

afterAll(async () => {
  await server?.close();
  await deleteRealm(realm);
});

describe('the e2e flow against a realm with --require-dpop and serve --dpop required', () => {
  it('turns DPoP on from the PRM, gets a bound token and calls the tools with Authorization: DPoP', async () => {
    await serve({ mode: 'required' });
    const { report, seen, store } = await run();
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.actual}`)).toEqual([]);
    expect(report.dpop).toBe(true);
    expect(report.calculatorResult).toBe(59.25);
    expect(store.tokens?.token_type).toBe('DPoP');
    const token = report.checks.find((c) => c.id === 'e2e.token')!;
    expect(token.actual).toContain(
      `bound to the client's DPoP key (cnf.jkt ${(await store.dpopKeys.get()).thumbprint})`,
    );
    const authenticated = seen.filter((s) => s.scheme !== '');
    expect(authenticated.length).toBeGreaterThanOrEqual(3); // connect, tools/list, two tools/call
    expect(authenticated.every((s) => s.scheme === 'DPoP' && s.proof)).toBe(true);
  });

  it('turns DPoP on from the 401 offering the DPoP scheme when the server only allows it (serve --dpop allowed)', async () => {
    await serve({ mode: 'allowed' });
    const { report, seen } = await run();
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.actual}`)).toEqual([]);
    expect(report.dpop).toBe(true);
    expect(seen.filter((s) => s.scheme !== '').every((s) => s.scheme === 'DPoP' && s.proof)).toBe(true);
  });

  it('answers a server nonce challenge (use_dpop_nonce) and still calls the tools', async () => {
    await serve({ mode: 'required', nonce: true });
    const { report } = await run();
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.actual}`)).toEqual([]);
    expect(report.calculatorResult).toBe(59.25);
  });

  it('without DPoP the chain stops at the token step: Keycloak refuses a token request without a proof', async () => {
    await serve({ mode: 'required' });
    const { report } = await run(false);
    expect(report.ok).toBe(false);
    expect(report.dpop).toBe(false);
    const token = report.checks.find((c) => c.id === 'e2e.token')!;
    expect(token.status).toBe('fail');
    expect(token.actual).toBe('DPoP proof is missing');
    expect(token.fix).toMatch(/requires DPoP-bound tokens .*--require-dpop.*RFC 9449/);
    expect(report.checks.find((c) => c.id === 'e2e.connect')?.status).toBe('skip');
  });
});
