/**
 * Browser tier, DCR: a client that registers the way VS Code does signs the test user in through Debian's Chromium
 * on a realm `apply` made, and calls a tool on `serve` (the built CLI) with the token. It proves what the headless
 * HTTP user cannot: Keycloak's login and consent pages work in the browser users have (their scripts, cookies and
 * form posts), and the redirect reaches a loopback callback on a port chosen at run time, as VS Code's does.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { deleteRealm, keycloak, startServe, uniqueRealm } from '../support/keycloak.js';
import { applyRealm, TEST_USER } from '../support/tokens.js';
import { describeWithChromium, launchChromium, startCallbackServer, type CallbackServer } from './chromium.js';
import { runBrowserChain, SLOW_KEYCLOAK } from './flow.js';

describeWithChromium('browser: DCR sign-in (VS Code registration) in Chromium, then a tool call on serve', () => {
  const realm = uniqueRealm('browser-dcr');
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  let resource: string;
  let serve: ChildProcess | undefined;
  let browser: Browser;
  let callback: CallbackServer;

  beforeAll(async () => {
    resource = `http://127.0.0.1:${await freePort()}/mcp`;
    await applyRealm(realm, resource, password, SLOW_KEYCLOAK);
    [{ child: serve }, browser, callback] = await Promise.all([
      startServe(['--realm', realm, '--resource', resource]),
      launchChromium(),
      startCallbackServer(),
    ]);
  });

  afterAll(async () => {
    serve?.kill();
    await Promise.all([browser?.close(), callback?.close()]);
    await deleteRealm(realm);
  });

  it('registers, signs alice in on Keycloak’s pages in Chromium, consents, catches the code on loopback, calls add_numbers', async () => {
    const issuer = `${keycloak().url}/realms/${realm}`;
    const chain = await runBrowserChain({ browser, callback, serverUrl: resource, username: TEST_USER, password });

    // The SDK registered once (DCR) and sent an authorization request with PKCE S256 and the loopback redirect.
    expect(chain.registrations).toBe(1);
    const request = chain.authorizationUrl.searchParams;
    expect(chain.authorizationUrl.href.startsWith(`${issuer}/protocol/openid-connect/auth?`)).toBe(true);
    expect(request.get('client_id')).toBe(chain.clientId);
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(request.get('redirect_uri')).toBe(callback.redirectUri);
    expect(request.get('scope')?.split(' ')).toContain('mcp:run');

    // Chromium went through Keycloak's login page and its consent page, which names the client that registered.
    expect(chain.signIn.loginTitle).toMatch(/sign in/i);
    expect(chain.signIn.consentText).toContain('Visual Studio Code');
    expect(chain.signIn.finalUrl.startsWith(callback.redirectUri)).toBe(true);
    expect(chain.signIn.callback.get('code')).toBeTruthy();
    expect(chain.signIn.callback.get('iss')).toBe(issuer);

    // The code was redeemed for a token for this server, which serve accepted for a tool call.
    expect(chain.claims.azp).toBe(chain.clientId);
    expect([chain.claims.aud].flat()).toContain(resource);
    expect(String(chain.claims.scope).split(' ')).toContain('mcp:run');
    expect(chain.tools).toContain('add_numbers');
    expect(chain.sum).toBe(5);
  }, 180_000);

  it('a wrong password keeps Chromium on the login page with Keycloak’s message, and no code reaches the callback', async () => {
    const before = callback.requests();
    await expect(
      runBrowserChain({ browser, callback, serverUrl: resource, username: TEST_USER, password: `${password}-wrong` }),
    ).rejects.toThrow(/Keycloak did not redirect after the login form: Invalid username or password/);
    expect(callback.requests()).toBe(before);
  }, 180_000);
});
