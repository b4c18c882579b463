/**
 * An authenticated admin session against one Keycloak. Connecting checks, in order, that the URL
 * answers, that it is Keycloak, and that the credentials work, so each mistake gets its own sentence.
 */
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Config } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import { SECRET_ENV } from '../config/secrets.js';
import { KeycloakError, UsageError } from '../errors.js';
import { meterRequests, type RequestCounts } from './meter.js';
import { describeFetchFailure, keycloakCall } from './errors.js';

export interface AdminSession {
  client: KcAdminClient;
  baseUrl: string;
  /** Requests sent to this Keycloak since the session began. */
  requests: () => RequestCounts;
}

/** Checks that `baseUrl` is a reachable Keycloak by reading the discovery document of `realm`. */
export async function probeKeycloak(baseUrl: string, realm = 'master'): Promise<{ issuer: string }> {
  const url = `${baseUrl}/realms/${realm}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'manual' });
  } catch (error) {
    throw new KeycloakError(
      `Cannot reach Keycloak at ${baseUrl} (${describeFetchFailure(error)}). Is it running? Check --keycloak-url / KEYCLOAK_URL, or start one with \`mcp-keycloak keycloak start\`.`,
    );
  }
  const body = await response.text();
  const issuer = safeJson(body)?.issuer;
  if (response.ok && typeof issuer === 'string') return { issuer };
  if (!baseUrl.endsWith('/auth')) {
    const legacy = await fetch(`${baseUrl}/auth/realms/${realm}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    if (legacy?.ok) throw new UsageError(`${baseUrl} is a legacy Keycloak served under /auth: use --keycloak-url ${baseUrl}/auth.`);
  }
  const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
  throw new KeycloakError(
    `${baseUrl} does not look like Keycloak: GET /realms/${realm}/.well-known/openid-configuration answered ${response.status} (${type}). Check --keycloak-url / KEYCLOAK_URL.`,
    response.status,
  );
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Logs in to the admin API with a user's password or a service-account client. */
/** Keycloak refused the admin credentials themselves (as opposed to being unreachable or not Keycloak). */
export class CredentialsRejectedError extends KeycloakError {
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, status, options);
    this.name = 'CredentialsRejectedError';
  }
}

/** Runs a login; a 400/401 from the token endpoint becomes a CredentialsRejectedError saying `message`. */
async function login(call: () => Promise<void>, message: string): Promise<void> {
  try {
    await keycloakCall(call);
  } catch (error) {
    const status = error instanceof KeycloakError ? error.status : undefined;
    if (status === 401 || status === 400) throw new CredentialsRejectedError(message, status, { cause: error });
    throw error;
  }
}

export async function connectAdmin(config: Config, secrets: Secrets): Promise<AdminSession> {
  const baseUrl = config.keycloakUrl;
  const requests = meterRequests(baseUrl);
  await probeKeycloak(baseUrl, config.admin.realm);
  const client = new KcAdminClient({ baseUrl, realmName: config.admin.realm });
  const { admin } = config;
  if (admin.clientId) {
    if (!secrets.adminClientSecret) {
      throw new UsageError(`${SECRET_ENV.adminClientSecret} is not set: it is the secret of the admin client "${admin.clientId}".`);
    }
    await login(
      () => client.auth({ grantType: 'client_credentials', clientId: admin.clientId!, clientSecret: secrets.adminClientSecret! }),
      `Keycloak rejected the admin client "${admin.clientId}" in realm "${admin.realm}": check KEYCLOAK_ADMIN_CLIENT_ID and ${SECRET_ENV.adminClientSecret}.`,
    );
  } else {
    if (!secrets.adminPassword) {
      throw new UsageError(
        `${SECRET_ENV.adminPassword} is not set: export the password of Keycloak admin "${admin.username}" (or use KEYCLOAK_ADMIN_CLIENT_ID/SECRET).`,
      );
    }
    await login(
      () => client.auth({ grantType: 'password', clientId: 'admin-cli', username: admin.username, password: secrets.adminPassword! }),
      `Keycloak rejected the admin credentials for user "${admin.username}" in realm "${admin.realm}": check KEYCLOAK_ADMIN_USERNAME and ${SECRET_ENV.adminPassword}.`,
    );
  }
  return { client, baseUrl, requests };
}
