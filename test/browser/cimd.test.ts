/**
 * Browser tier, CIMD: the same sign-in as dcr.test.ts with a client_id that is a Client ID Metadata Document URL,
 * on a realm `apply --cimd` made. Keycloak fetches the document (served over https on 127.0.0.1 with a
 * certificate from the run's loopback CA, as test/e2e/cimd-sdk.test.ts serves it), nothing is registered, and the
 * user signs in and consents in Chromium. Runs only where the harness started Keycloak itself with the cimd feature
 * (the loopback CA exists only then); elsewhere it skips and says why.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { vscodeClientMetadata } from '../../src/e2e/provider.js';
import { freePort } from '../../src/local/process.js';
import { deleteRealm, keycloak, startServe, uniqueRealm } from '../support/keycloak.js';
import { issueLoopbackCert } from '../support/tls.js';
import { applyRealm, TEST_USER } from '../support/tokens.js';
import { describeWithChromium, launchChromium, startCallbackServer, type CallbackServer } from './chromium.js';
import { runBrowserChain, SLOW_KEYCLOAK } from './flow.js';

const ca = inject('loopbackCa');
const cannotRun =
  'unavailable' in ca
    ? ca.unavailable
    : !inject('keycloakFeatures').includes('cimd')
      ? 'Keycloak runs without the experimental cimd feature (KEYCLOAK_FEATURES); CIMD needs --features=cimd'
      : undefined;

/**
 * A document shaped like VS Code's (https://vscode.dev/oauth/client-metadata.json) with its loopback redirect URIs
 * only: Keycloak's CIMD executor checks every URI of the document against the permitted domains ("Invalid Client
 * ID: domain not allowed." for VS Code's https://vscode.dev/redirect on a realm that permits only 127.0.0.1).
 * The authorization request then uses a run-time port on the registered http://127.0.0.1/, as VS Code does.
 */
function documentFor(url: string) {
  return {
    client_id: url,
    client_name: 'Visual Studio Code',
    redirect_uris: vscodeClientMetadata().redirect_uris.filter((uri) => uri.startsWith('http://127.')),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

describeWithChromium('browser: CIMD sign-in (document URL as client_id) in Chromium, then a tool call on serve', () => {
  describe.runIf(cannotRun !== undefined)(`cannot run here: ${cannotRun}`, () => {
    it.skip('needs the Keycloak the harness starts itself (KEYCLOAK_URL unset, no Docker) with --features=cimd', () => {});
  });

  describe.runIf(cannotRun === undefined)('document served over https on loopback', () => {
    const realm = uniqueRealm('browser-cimd');
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    let resource: string;
    let serve: ChildProcess | undefined;
    let browser: Browser;
    let callback: CallbackServer;
    let documentServer: Server | undefined;
    let documentUrl: string;
    const documentRequests: string[] = [];

    beforeAll(async () => {
      [browser, callback] = await Promise.all([launchChromium(), startCallbackServer()]);
      const { cert, key } = issueLoopbackCert(ca as { certPath: string; keyPath: string });
      const port = await freePort();
      documentUrl = `https://127.0.0.1:${port}/oauth/client-metadata.json`;
      documentServer = createServer({ cert, key }, (req, res) => {
        documentRequests.push(`${req.method} ${req.url}`);
        if (req.url !== '/oauth/client-metadata.json') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(documentUrl)));
      });
      await new Promise<void>((resolve) => documentServer!.listen(port, '127.0.0.1', resolve));
      resource = `http://127.0.0.1:${await freePort()}/mcp`;
      await applyRealm(realm, resource, password, ['--cimd', '--cimd-domain', '127.0.0.1', ...SLOW_KEYCLOAK]);
      ({ child: serve } = await startServe(['--realm', realm, '--resource', resource]));
    });

    afterAll(async () => {
      serve?.kill();
      documentServer?.close();
      await Promise.all([browser?.close(), callback?.close()]);
      await deleteRealm(realm);
    });

    it('uses the document URL as client_id (no registration), signs alice in and consents in Chromium, calls add_numbers', async () => {
      const issuer = `${keycloak().url}/realms/${realm}`;
      const chain = await runBrowserChain({
        browser,
        callback,
        serverUrl: resource,
        username: TEST_USER,
        password,
        clientMetadataUrl: documentUrl,
      });

      expect(chain.registrations).toBe(0);
      expect(chain.clientId).toBe(documentUrl);
      const request = chain.authorizationUrl.searchParams;
      expect(request.get('client_id')).toBe(documentUrl);
      expect(request.get('code_challenge_method')).toBe('S256');
      expect(request.get('redirect_uri')).toBe(callback.redirectUri);
      // Keycloak, not the SDK, fetched the document, trusting the run's CA.
      expect(documentRequests.length).toBeGreaterThan(0);

      expect(chain.signIn.loginTitle).toMatch(/sign in/i);
      expect(chain.signIn.consentText).toContain('Visual Studio Code');
      expect(chain.signIn.callback.get('iss')).toBe(issuer);

      expect(chain.claims.azp).toBe(documentUrl);
      expect([chain.claims.aud].flat()).toContain(resource);
      expect(chain.sum).toBe(5);
    }, 180_000);
  });
});
