/**
 * The machine-client rule of the verification core, without a socket: which tokens count as a service account's
 * (the markers Keycloak 26.7.3 puts in a client_credentials token, as seen against the real server), and that the
 * authenticator lets such a token through only for a client the configuration names. Plus the plan of one
 * machine client: created when missing, nothing when it and its credentials file match, the file rewritten when
 * its key is not the registered one.
 */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/server/authenticate.js';
import { isServiceAccountToken, type VerifiedToken } from '../../src/server/verify.js';
import { planMachineClient, machineClientRepresentation } from '../../src/realm/machine-clients.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const USER_TOKEN = { jti: 'onrtac:5c7c', azp: 'vscode', preferred_username: 'alice', sid: 's' };
const ANONYMOUS_CC = {
  jti: 'trrtcc:3b79',
  azp: 'f8fe5fd2',
  client_id: 'f8fe5fd2',
  preferred_username: 'service-account-f8fe5fd2',
};

describe('isServiceAccountToken', () => {
  it('finds a client_credentials token by any one marker, and not a user token', () => {
    expect(isServiceAccountToken(ANONYMOUS_CC)).toBe(true);
    // Each marker alone, as if mappers of the types anonymous registration allows had overwritten the others.
    expect(isServiceAccountToken({ jti: 'onrtcc:1', azp: 'x', preferred_username: 'bob' })).toBe(true);
    expect(isServiceAccountToken({ jti: 'u', azp: 'x', preferred_username: 'service-account-x' })).toBe(true);
    expect(isServiceAccountToken({ jti: 'u', azp: 'x', client_id: 'x' })).toBe(true);
    expect(isServiceAccountToken(USER_TOKEN)).toBe(false);
  });

  it('does not count the client_id Keycloak puts in every introspection answer', () => {
    expect(isServiceAccountToken({ ...USER_TOKEN, client_id: 'vscode', username: 'alice' }, true)).toBe(false);
    expect(isServiceAccountToken({ azp: 'x', client_id: 'x', username: 'service-account-x' }, true)).toBe(true);
  });
});

describe('the authenticator and service-account tokens', () => {
  const check = (verified: VerifiedToken, machineClients?: string[]) =>
    createAuthenticator({
      verifier: { verify: async () => verified },
      resource: 'http://127.0.0.1:9/mcp',
      resourceMetadata: 'http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp',
      scopes: ['mcp:run'],
      ...(machineClients ? { machineClients } : {}),
    })({ method: 'POST', headers: { authorization: 'Bearer a.b.c' } });
  const machine: VerifiedToken = { clientId: 'ci-agent', scopes: ['mcp:run'], serviceAccount: true };

  it('refuses a service-account token by default and from a client not listed, with invalid_token', async () => {
    for (const outcome of [await check(machine), await check(machine, ['other'])]) {
      expect('refusal' in outcome && outcome.refusal.status).toBe(401);
      expect('refusal' in outcome && outcome.refusal.body.error).toBe('invalid_token');
    }
  });

  it('accepts it from a listed machine client, and user tokens as before', async () => {
    expect('verified' in (await check(machine, ['ci-agent']))).toBe(true);
    expect('verified' in (await check({ clientId: 'vscode', scopes: ['mcp:run'], sub: 'u' }))).toBe(true);
  });
});

describe('planMachineClient', () => {
  const desired = {
    clientId: 'ci-agent',
    auth: 'private_key_jwt' as const,
    resource: 'http://127.0.0.1:9/mcp',
    credentialsFile: '/tmp/x.json',
  };
  const client = { id: 'id-1', ...machineClientRepresentation(desired) };
  const file = {
    clientId: 'ci-agent',
    auth: 'private_key_jwt' as const,
    tokenEndpoint: 't',
    resource: desired.resource,
  };

  it('creates a missing client; nothing when client and file match; a new file when its key is not registered', () => {
    expect(planMachineClient(desired, undefined)?.action).toBe('create');
    const matching = { client, registeredKeys: ['k1'], credentials: { ...file, privateKey: { kid: 'k1' } } };
    expect(planMachineClient(desired, matching)).toBeUndefined();
    const stale = { ...matching, credentials: { ...file, privateKey: { kid: 'k2' } } };
    expect(planMachineClient(desired, stale)?.fields.map((f) => f.field)).toEqual(['credentials file']);
  });
});

describe('config machineClients', () => {
  it("--machine-client adds entries to the file's, replacing one of the same clientId; a bad method is one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-keycloak-machine-unit-'));
    const machineClients = [{ clientId: 'keep' }, { clientId: 'swap', auth: 'private_key_jwt' }];
    writeFileSync(join(dir, 'mcp-keycloak.json'), JSON.stringify({ machineClients }));
    const { config } = await loadConfig({ machineClient: ['swap:client_secret_basic', 'new'] }, {}, dir);
    expect(config.machineClients?.map((m) => `${m.clientId}:${m.auth}`)).toEqual([
      'keep:private_key_jwt',
      'swap:client_secret_basic',
      'new:private_key_jwt',
    ]);
    await expect(loadConfig({ machineClient: ['x:client_secret_post'] }, {}, dir)).rejects.toThrow(
      /--machine-client: machineClients\[\d\]\.auth/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('defaults auth to private_key_jwt and refuses a resource the config does not list', () => {
    const parsed = configSchema.parse({ machineClients: [{ clientId: 'ci-agent' }] });
    expect(parsed.machineClients?.[0]?.auth).toBe('private_key_jwt');
    const wrong = configSchema.safeParse({ machineClients: [{ clientId: 'a', resource: 'http://other:1/mcp' }] });
    expect(wrong.success).toBe(false);
  });
});
