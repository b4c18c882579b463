/**
 * The admin session against the real Keycloak: connecting is one request (the login), the admin
 * client then works with the token we obtained, and an expired token is refreshed, or the login
 * redone once the refresh token has expired too. Time moves by a fake clock on our side only.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { connectAdmin } from '../../src/keycloak/session.js';
import { keycloak } from '../support/keycloak.js';

afterEach(() => vi.useRealTimers());

/** Records the bearer token of every admin-client request (a wrapper over the session's own). */
function captureTokens(): { seen: string[]; restore: () => void } {
  const seen: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const auth = new Headers(init?.headers).get('authorization');
    if (auth?.startsWith('Bearer ')) seen.push(auth.slice('Bearer '.length));
    return original(input, init);
  };
  return { seen, restore: () => (globalThis.fetch = original) };
}

it('logs in with one request, then refreshes an expired token and logs in again when the refresh token has expired', async () => {
  const { url, adminUsername, adminPassword } = keycloak();
  const config = configSchema.parse({ keycloakUrl: url, admin: { username: adminUsername } });
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  const session = await connectAdmin(config, { adminPassword });
  expect(session.requests()).toEqual({ reads: 0, writes: 0, other: 1 });

  const tokens = captureTokens();
  try {
    await session.client.realms.findOne({ realm: 'master' });
    expect(session.requests()).toEqual({ reads: 1, writes: 0, other: 1 });

    // Past the access token's lifespan (master: 60 s by default): one refresh, then the call.
    vi.setSystemTime(Date.now() + 10 * 60_000);
    expect((await session.client.realms.findOne({ realm: 'master' }))?.realm).toBe('master');
    expect(session.requests()).toEqual({ reads: 2, writes: 0, other: 2 });

    // Past the refresh token's too (SSO idle: 30 min): a new login, then the call.
    vi.setSystemTime(Date.now() + 24 * 60 * 60_000);
    expect((await session.client.realms.findOne({ realm: 'master' }))?.realm).toBe('master');
    expect(session.requests()).toEqual({ reads: 3, writes: 0, other: 3 });
  } finally {
    tokens.restore();
  }
  expect(new Set(tokens.seen).size).toBe(3);
});
