/**
 * The admin API's access token. We log in ourselves rather than through the admin client's `auth()`,
 * so that reading a realm does not need the admin client's modules at all (see admin-client.ts).
 * Every admin request asks `token()` first, so an expired token is refreshed, or the login redone,
 * as `auth()` would have done.
 */
import { KeycloakError } from '../errors.js';
import { credentialsRefused, failureMessage } from './errors.js';
import { requestKeycloak, type KeycloakAnswer } from './answer.js';
import { realmUrls } from './urls.js';

export type AdminCredentials =
  | { grant: 'password'; username: string; password: string }
  | { grant: 'client_credentials'; clientId: string; clientSecret: string };

/** A failed answer from a direct call, shaped like the admin client's NetworkError so errors.ts reads both. */
export class KeycloakStatusError extends Error {
  constructor(
    readonly response: Response | KeycloakAnswer,
    readonly responseData: unknown,
  ) {
    super(`Keycloak answered ${response.status}`);
    this.name = 'KeycloakStatusError';
  }
}

/** Tokens are renewed this long before they expire, so a request never leaves with a dying one. */
const MARGIN_MS = 5000;

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before going into Basic credentials. */
function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export class AdminToken {
  private access = '';
  private expiresAt = 0;
  private refresh: string | undefined;
  private refreshExpiresAt = 0;
  private renewing: Promise<void> | undefined;
  private readonly tokenUrl: string;

  constructor(
    baseUrl: string,
    realm: string,
    private readonly credentials: AdminCredentials,
  ) {
    this.tokenUrl = realmUrls(baseUrl, realm).token;
  }

  /** Logs in; rejects with the transport's errors or a KeycloakStatusError (wrong credentials, not Keycloak). */
  login(): Promise<void> {
    const { credentials } = this;
    if (credentials.grant === 'password') {
      return this.request({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: credentials.username,
        password: credentials.password,
      });
    }
    return this.request({ grant_type: 'client_credentials' });
  }

  /** A valid access token: the current one, else refreshed, else from a new login. */
  async token(): Promise<string> {
    if (Date.now() < this.expiresAt - MARGIN_MS) return this.access;
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    await this.renewing;
    return this.access;
  }

  private async renew(): Promise<void> {
    if (this.refresh && Date.now() < this.refreshExpiresAt - MARGIN_MS) {
      const refreshed = await this.request({
        grant_type: 'refresh_token',
        refresh_token: this.refresh,
        ...this.clientField(),
      }).then(
        () => true,
        () => false,
      );
      if (refreshed) return;
    }
    await this.login().catch((error: unknown) => {
      const what = 'logging in to the admin API again (the session expired)';
      // Refused now though they worked at the start: changed or disabled while this command ran.
      const message = credentialsRefused(error)
        ? `Keycloak refused the admin credentials when ${what}: they were changed or disabled while this command ran. Check ${this.credentials.grant === 'password' ? 'KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD' : 'KEYCLOAK_ADMIN_CLIENT_ID and KEYCLOAK_ADMIN_CLIENT_SECRET'}, then run the command again.`
        : failureMessage(error, what);
      throw new KeycloakError(message, undefined, { cause: error });
    });
  }

  private clientField(): Record<string, string> {
    return this.credentials.grant === 'password' ? { client_id: 'admin-cli' } : {};
  }

  private async request(form: Record<string, string>): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.credentials.grant === 'client_credentials')
      headers.authorization = basicAuth(this.credentials.clientId, this.credentials.clientSecret);
    const response = await requestKeycloak(this.tokenUrl, { method: 'POST', headers, body: new URLSearchParams(form) });
    const text = response.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: some other server's page; the caller's probe says what it is.
    }
    const body = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    if (!response.ok || typeof body.access_token !== 'string') throw new KeycloakStatusError(response, data);
    const now = Date.now();
    this.access = body.access_token;
    this.expiresAt = now + (typeof body.expires_in === 'number' ? body.expires_in * 1000 : 60_000);
    this.refresh = typeof body.refresh_token === 'string' ? body.refresh_token : undefined;
    this.refreshExpiresAt = now + (typeof body.refresh_expires_in === 'number' ? body.refresh_expires_in * 1000 : 0);
  }
}
