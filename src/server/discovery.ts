/**
 * Start-up checks against the realm's discovery document, so that a wrong URL, a missing realm or a
 * scope that `apply` never created stops `serve` before the first client gets a confusing 401. The read
 * goes through keycloak/http.ts: bounded by --timeout, retried after a reset or a 502/503/504.
 */
import { KeycloakError, UsageError } from '../errors.js';
import { describeFetchFailure } from '../keycloak/errors.js';
import { sendToKeycloak } from '../keycloak/http.js';
import { realmUrls } from '../keycloak/urls.js';
import { command } from '../ui/invocation.js';

export interface RealmEndpoints {
  issuer: string;
  jwksUri: string;
  introspectionEndpoint?: string;
}

/** Reads the realm's issuer and endpoints from Keycloak; throws one worded error when the realm cannot serve `scopes`. */
export async function discoverRealm(keycloakUrl: string, realm: string, scopes: string[]): Promise<RealmEndpoints> {
  const url = realmUrls(keycloakUrl, realm).discovery;
  let response: Response;
  try {
    response = await sendToKeycloak(url, { redirect: 'manual' });
  } catch (error) {
    throw new KeycloakError(
      `Cannot reach Keycloak at ${keycloakUrl} (${describeFetchFailure(error)}): serve validates tokens against it. Check --keycloak-url / KEYCLOAK_URL.`,
      undefined,
      { cause: error },
    );
  }
  if (response.status === 404) {
    throw new UsageError(`Realm "${realm}" does not exist at ${keycloakUrl}: create it with \`${command('apply')}\`, or check --realm.`);
  }
  const doc = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!response.ok || typeof doc?.issuer !== 'string' || typeof doc.jwks_uri !== 'string') {
    throw new KeycloakError(`${keycloakUrl} does not look like Keycloak: ${url} answered ${response.status} without issuer and jwks_uri.`, response.status);
  }
  // Keycloak lists the realm's client scopes here; a missing one means `apply` has not run for it.
  const supported = Array.isArray(doc.scopes_supported) ? (doc.scopes_supported as unknown[]) : undefined;
  const missing = supported ? scopes.filter((scope) => !supported.includes(scope)) : [];
  if (missing.length > 0) {
    throw new UsageError(
      `Realm "${realm}" has no client scope ${missing.map((s) => `"${s}"`).join(', ')}: tokens could never carry it. Run \`${command('apply')}\` with the same --realm/--resource/--scope.`,
    );
  }
  const endpoints: RealmEndpoints = { issuer: doc.issuer, jwksUri: doc.jwks_uri };
  if (typeof doc.introspection_endpoint === 'string') endpoints.introspectionEndpoint = doc.introspection_endpoint;
  return endpoints;
}
