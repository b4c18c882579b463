/**
 * One sign-in as an MCP desktop client lives it, with the official SDK v2 client (`@modelcontextprotocol/client`,
 * through src/e2e/sdk.ts) and a real browser for the user: connect with nothing but the MCP URL, get the 401,
 * let the SDK discover, register (or use its CIMD URL) and build the authorization request with PKCE, sign in in
 * Chromium, redeem the code the loopback callback caught, connect again with the token and call a tool.
 */
import { decodeJwt, type JWTPayload } from 'jose';
import type { Browser } from 'playwright-core';
import { ClientStore, E2eOAuthProvider, vscodeClientMetadata } from '../../src/e2e/provider.js';
import { registerWithPrmScopes, type RegistrationScope } from '../../src/e2e/registration.js';
import { loadSdk } from '../../src/e2e/sdk.js';
import { signInWithBrowser, type BrowserSignIn, type CallbackServer } from './chromium.js';

/**
 * apply's flags for these files: the first realm a freshly started Keycloak creates on a loaded 2-core machine took
 * longer than apply's default 10 s per request (seen when the tier ran alone on a Keycloak the harness started).
 */
export const SLOW_KEYCLOAK = ['--timeout', '60'];

export interface BrowserChainOptions {
  browser: Browser;
  callback: CallbackServer;
  /** The MCP endpoint `serve` answers. */
  serverUrl: string;
  username: string;
  password: string;
  /** The client's CIMD URL: the SDK uses it as client_id when Keycloak advertises CIMD, and registers nothing. */
  clientMetadataUrl?: string;
}

export interface BrowserChain {
  authorizationUrl: URL;
  signIn: BrowserSignIn;
  /** The client_id the SDK used: Keycloak's from the registration, or the CIMD URL. */
  clientId: string;
  /** Dynamic registrations the SDK made (0 with CIMD). */
  registrations: number;
  registrationScope: RegistrationScope;
  claims: JWTPayload;
  protocolVersion?: string;
  tools: string[];
  /** add_numbers(2, 3) on `serve`, with the token from the browser sign-in. */
  sum?: number;
}

export async function runBrowserChain(options: BrowserChainOptions): Promise<BrowserChain> {
  const store = new ClientStore();
  // VS Code's registration body (redirect URIs http://127.0.0.1/ and …:33418/), a loopback callback on a run-time port.
  const provider = new E2eOAuthProvider(
    store,
    vscodeClientMetadata(),
    options.callback.redirectUri,
    options.clientMetadataUrl,
  );
  const registrationScope: RegistrationScope = { added: [] };
  // VS Code registers with the PRM's scopes_supported (src/e2e/registration.ts): the same body here.
  const fetchFn = registerWithPrmScopes(store, registrationScope, fetch);
  const sdk = await loadSdk('v2');
  const serverUrl = new URL(options.serverUrl);

  const first = await sdk.connect(serverUrl, provider, fetchFn);
  if (first.kind !== 'authorize') throw new Error('serve accepted a connection without a token');
  const authorizationUrl = provider.authorizationUrl!;
  const signIn = await signInWithBrowser(options.browser, {
    authorizationUrl,
    callback: options.callback,
    username: options.username,
    password: options.password,
  });
  // The SDK leaves `state` to the caller (its docs say so); a desktop client compares it before redeeming.
  if (!provider.stateMatches(signIn.callback.get('state'))) throw new Error('the callback carried another state');
  await first.finishAuth(signIn.callback);

  const second = await sdk.connect(serverUrl, provider, fetchFn);
  if (second.kind !== 'connected') throw new Error('serve refused the token from the browser sign-in');
  try {
    const tools = await second.session.listTools();
    const sum = (await second.session.callTool('add_numbers', { a: 2, b: 3 })).value;
    return {
      authorizationUrl,
      signIn,
      clientId: store.clientInformation!.client_id,
      registrations: store.registrations,
      registrationScope,
      claims: decodeJwt(store.tokens!.access_token),
      ...(second.session.protocolVersion ? { protocolVersion: second.session.protocolVersion } : {}),
      tools,
      ...(sum !== undefined ? { sum } : {}),
    };
  } finally {
    await second.session.close();
  }
}
