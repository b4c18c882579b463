/**
 * An `OAuthClientProvider` that registers like VS Code (the client most people point at a Keycloak-protected
 * MCP server) and keeps everything in memory. The storage is a separate object so a second connection can
 * reuse the first one's registration, exactly as an installed client does on its next start.
 */
import { randomBytes } from 'node:crypto';
import type {
  DpopSession,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { DpopKeyHolder, dpopWanted, type DpopChoice } from './dpop.js';

/**
 * A free loopback port in VS Code's list. Nothing listens there: the headless user reads the code from
 * Keycloak's redirect instead of following it.
 */
export const REDIRECT_URI = 'http://127.0.0.1:33418/';

/**
 * VS Code's dynamic registration body (from its source; see the facts file). `scope` is left out on purpose:
 * the SDK adds the scope it is about to request (401 `scope`, else PRM `scopes_supported`; v2 adds
 * `offline_access`), and the flow adds the PRM's `scopes_supported` to it, which is what VS Code registers
 * with (registration.ts: without it Keycloak refuses a later step-up scope with invalid_scope).
 */
export function vscodeClientMetadata(): OAuthClientMetadata {
  return {
    client_name: 'Visual Studio Code',
    client_uri: 'https://code.visualstudio.com',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    redirect_uris: [
      'https://insiders.vscode.dev/redirect',
      'https://vscode.dev/redirect',
      'http://127.0.0.1/',
      REDIRECT_URI,
    ],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  } as OAuthClientMetadata;
}

/** What a client keeps between runs, plus counters the tests and doctor read. */
export class ClientStore {
  clientInformation?: StoredOAuthClientInformation;
  tokens?: StoredOAuthTokens;
  discovery?: OAuthDiscoveryState;
  /** RFC 7592 credentials of the client this store registered (see cleanup.ts); secret, never reported. */
  management?: { clientId: string; uri: string; token: string };
  /** `saveClientInformation` calls that brought a client_id not seen before: dynamic registrations. */
  registrations = 0;
  saveClientInformationCalls = 0;
  /** The DPoP key its tokens are bound to, made on first use (dpop.ts). */
  readonly dpopKeys = new DpopKeyHolder();

  /** Forget tokens but keep the registration: the next connection must sign in again with the same client. */
  forgetTokens(): void {
    delete this.tokens;
  }
}

/** One sign-in's transient state (verifier, state, the authorization URL the SDK built) over a shared store. */
export class E2eOAuthProvider implements OAuthClientProvider {
  private verifier?: string;
  private readonly expectedState = randomBytes(16).toString('base64url');
  /** The URL the SDK asked us to send the user to; undefined when no sign-in was needed. */
  authorizationUrl?: URL;

  /**
   * `clientMetadataUrl`: the https URL of a Client ID Metadata Document this client publishes. The v2 SDK then uses
   * that URL as its client_id, without registering, when the authorization server advertises
   * `client_id_metadata_document_supported: true` (and refuses a URL that is not https with a path); otherwise it
   * registers as usual. The v1 SDK (1.32) does the same.
   */
  constructor(
    readonly store: ClientStore,
    private readonly metadata: OAuthClientMetadata = vscodeClientMetadata(),
    readonly redirectUri: string = REDIRECT_URI,
    readonly clientMetadataUrl?: string,
    /** DPoP (RFC 9449): when to bind tokens to the store's key (dpop.ts); `auto` follows the PRM. */
    readonly dpopChoice: DpopChoice = 'auto',
  ) {}

  /** Whether the MCP server's 401 offered the DPoP scheme; the flow points it at its wire trace (dpop.ts). */
  challengeOffersDpop: () => boolean = () => false;

  /**
   * The v2 SDK's DPoP hook: a session makes it sign the token request and present a `token_type: DPoP` token
   * with a fresh proof per MCP request; undefined keeps the client a bearer client. Asked again on every
   * request, so `auto` turns on as soon as discovery has read the PRM.
   */
  dpop(): Promise<DpopSession> | undefined {
    return dpopWanted(this.dpopChoice, this.store.discovery, this.challengeOffersDpop())
      ? this.store.dpopKeys.get()
      : undefined;
  }

  get redirectUrl(): string {
    return this.redirectUri;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.metadata;
  }

  state(): string {
    return this.expectedState;
  }

  /** The SDK does not check `state` on the callback (its docs say so): the caller must. */
  stateMatches(returned: string | null): boolean {
    return returned === this.expectedState;
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.store.clientInformation;
  }

  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.store.saveClientInformationCalls += 1;
    // With CIMD the SDK saves the document URL as client_id: no registration took place.
    if (info.client_id !== this.store.clientInformation?.client_id && info.client_id !== this.clientMetadataUrl)
      this.store.registrations += 1;
    this.store.clientInformation = info;
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.store.tokens;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.store.tokens = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE code verifier saved: the SDK never started an authorization');
    return this.verifier;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.store.discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.store.discovery;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'client') delete this.store.clientInformation;
    if (scope === 'all' || scope === 'tokens') delete this.store.tokens;
    if (scope === 'all' || scope === 'discovery') delete this.store.discovery;
    if (scope === 'all' || scope === 'verifier') delete this.verifier;
  }
}
