/**
 * An authenticated admin session against one Keycloak. Connecting is one request, the login; only
 * when it fails does a probe find out why (not reachable, not Keycloak, a legacy /auth base), so each
 * mistake still gets its own sentence without costing every command a discovery read.
 */
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Config } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import { SECRET_ENV } from '../config/secrets.js';
import { KeycloakError, UsageError } from '../errors.js';
import { credentialsRefused, failureMessage, statusOf } from './errors.js';
import { adminReader, lazyAdminClient } from './admin-client.js';
import { AdminToken, type AdminCredentials } from './login.js';
import { describeNotKeycloak, requestKeycloak, type KeycloakAnswer } from './answer.js';
import { meterRequests, NoAnswerError, type RequestCounts } from './http.js';
import { realmUrls, trimBase } from './urls.js';

export interface AdminSession {
  /** The admin client; its modules load on the first call (see admin-client.ts). */
  client: KcAdminClient;
  baseUrl: string;
  /** Requests sent to this Keycloak since the session began. */
  requests: () => RequestCounts;
  /**
   * GET `<base>/admin/realms/<path>` without loading the admin client: the parsed JSON, or undefined
   * for 404. For the hot reads (plan); anything else may use `client`.
   */
  read: <T>(path: string, what: string, query?: Record<string, string>) => Promise<T | undefined>;
  /** The same below `<base>/admin/` (e.g. `serverinfo`): what a plan needs to know about the server, without the admin client. */
  readAdmin: <T>(path: string, what: string, query?: Record<string, string>) => Promise<T | undefined>;
}

/** The issuer of a discovery document, when the answer is one. */
function discoveredIssuer(response: KeycloakAnswer): string | undefined {
  if (!response.ok) return undefined;
  const issuer = safeJson(response.text())?.issuer;
  return typeof issuer === 'string' ? issuer : undefined;
}

/**
 * Checks that `baseUrl` is a reachable Keycloak by reading the discovery document of `realm`. A base
 * URL missing the `/auth` of a legacy Keycloak is named as such only when `/auth` really serves a
 * discovery document: a server that answers every path (a proxy's landing page, the wrong port) is
 * "not Keycloak", with what it answered.
 */
export async function probeKeycloak(baseUrl: string, realm = 'master'): Promise<{ issuer: string }> {
  const base = trimBase(baseUrl);
  const { discovery } = realmUrls(base, realm);
  const path = discovery.slice(base.length);
  let response: KeycloakAnswer;
  try {
    response = await requestKeycloak(discovery);
  } catch (error) {
    if (error instanceof NoAnswerError)
      throw new KeycloakError(failureMessage(error, `reading the discovery document of realm "${realm}"`), undefined, {
        cause: error,
      });
    throw await (await import('./unreachable.js')).unreachableError(base, error);
  }
  const issuer = discoveredIssuer(response);
  if (issuer) return { issuer };
  // Keycloak's own answer for a realm it does not have; anything else at 404 is some other server.
  if (response.status === 404 && safeJson(response.text())?.error === 'Realm does not exist') {
    throw new RealmMissingError(
      `Keycloak at ${base} has no realm "${realm}" (GET ${path} answered 404 "Realm does not exist").`,
      404,
    );
  }
  if (!base.endsWith('/auth')) {
    const legacy = await requestKeycloak(realmUrls(`${base}/auth`, realm).discovery).catch(() => undefined);
    if (legacy && discoveredIssuer(legacy))
      throw new UsageError(`${base} is a legacy Keycloak served under /auth: use --keycloak-url ${base}/auth.`);
  }
  throw new NotKeycloakError(
    `${base} does not look like Keycloak: ${describeNotKeycloak(path, response)}. Check --keycloak-url / KEYCLOAK_URL.`,
    response.status,
  );
}

/** What answers at the URL is not Keycloak: the fix is the URL, not the realm. */
export class NotKeycloakError extends KeycloakError {
  constructor(message: string, status: number) {
    super(message, status);
    this.name = 'NotKeycloakError';
  }
}

/** Keycloak answers, but has no realm of that name. */
export class RealmMissingError extends KeycloakError {
  constructor(message: string, status: number) {
    super(message, status);
    this.name = 'RealmMissingError';
  }
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Keycloak refused the admin credentials themselves (as opposed to being unreachable or not Keycloak). */
export class CredentialsRejectedError extends KeycloakError {
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, status, options);
    this.name = 'CredentialsRejectedError';
  }
}

/**
 * Runs the login. Keycloak's OAuth error (a JSON `error` with 400/401) becomes a CredentialsRejectedError
 * saying `rejected`; no answer is said as such; anything else asks the probe what is at the URL.
 */
async function login(token: AdminToken, baseUrl: string, realm: string, what: string, rejected: string): Promise<void> {
  try {
    await token.login();
  } catch (error) {
    if (error instanceof NoAnswerError)
      throw new KeycloakError(failureMessage(error, what), undefined, { cause: error });
    const status = statusOf(error);
    if (credentialsRefused(error)) throw new CredentialsRejectedError(rejected, status!, { cause: error });
    // Not Keycloak, not reachable, or a base URL without its /auth: the probe names which.
    await probeKeycloak(baseUrl, realm);
    throw new KeycloakError(failureMessage(error, what), status, { cause: error });
  }
}

export interface ConnectOptions {
  /**
   * Work that needs no admin token, started once requests to this Keycloak are counted and before
   * the login goes out, so that the two overlap (e.g. the test user's password check: see
   * realm/live.ts `checkPasswordEarly`). Keycloak hashes a password for each; one after the other,
   * they were the longest wait of a no-op apply.
   */
  alongsideLogin?: (baseUrl: string) => void;
  /** Where the admin user's name came from, for the rejected-login message (default KEYCLOAK_ADMIN_USERNAME). */
  adminUserFrom?: string;
}

/** Logs in to the admin API with a user's password or a service-account client: one request. */
export async function connectAdmin(
  config: Config,
  secrets: Secrets,
  options: ConnectOptions = {},
): Promise<AdminSession> {
  const baseUrl = trimBase(config.keycloakUrl);
  const requests = meterRequests(baseUrl);
  const { admin } = config;
  let credentials: AdminCredentials;
  let who: string;
  let rejected: string;
  if (admin.clientId) {
    if (!secrets.adminClientSecret) {
      throw new UsageError(
        `${SECRET_ENV.adminClientSecret} is not set: it is the secret of the admin client "${admin.clientId}".`,
      );
    }
    credentials = { grant: 'client_credentials', clientId: admin.clientId, clientSecret: secrets.adminClientSecret };
    who = `admin client "${admin.clientId}"`;
    rejected = `Keycloak rejected the admin client "${admin.clientId}" in realm "${admin.realm}": check KEYCLOAK_ADMIN_CLIENT_ID and ${SECRET_ENV.adminClientSecret}.`;
  } else {
    if (!secrets.adminPassword) {
      throw new UsageError(
        `${SECRET_ENV.adminPassword} is not set: export the password of Keycloak admin "${admin.username}" (or use KEYCLOAK_ADMIN_CLIENT_ID/SECRET).`,
      );
    }
    credentials = { grant: 'password', username: admin.username, password: secrets.adminPassword };
    who = `admin "${admin.username}"`;
    rejected = `Keycloak rejected the admin credentials for user "${admin.username}" in realm "${admin.realm}": check ${options.adminUserFrom ?? 'KEYCLOAK_ADMIN_USERNAME'} and ${SECRET_ENV.adminPassword}.`;
  }
  const token = new AdminToken(baseUrl, admin.realm, credentials);
  options.alongsideLogin?.(baseUrl);
  await login(token, baseUrl, admin.realm, `logging in as ${who} in realm "${admin.realm}"`, rejected);
  const accessToken = () => token.token();
  return {
    client: lazyAdminClient(baseUrl, admin.realm, accessToken),
    baseUrl,
    requests,
    read: adminReader(baseUrl, accessToken),
    readAdmin: adminReader(baseUrl, accessToken, 'admin/'),
  };
}
