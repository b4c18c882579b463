/**
 * Start-up checks against the realm's discovery document, so that a wrong URL, a missing realm or a
 * scope that `apply` never created stops `serve` before the first client gets a confusing 401. The read
 * goes through keycloak/http.ts: bounded by --timeout, retried after a reset or a 502/503/504.
 */
import { KeycloakError, UsageError } from '../errors.js';
import { describeFetchFailure } from '../keycloak/errors.js';
import { describeNotKeycloak } from '../keycloak/answer.js';
import { sendToKeycloak } from '../keycloak/http.js';
import { realmUrls } from '../keycloak/urls.js';
import { command } from '../ui/invocation.js';
import { stepUpScopes, type ToolScopes } from './step-up.js';

export interface RealmEndpoints {
  issuer: string;
  jwksUri: string;
  introspectionEndpoint?: string;
}

/**
 * Reads the realm's issuer and endpoints from Keycloak; throws one worded error when the realm cannot serve `scopes`
 * or a tool's step-up scopes. `applyCommand` is the fix those errors print: the apply that creates what is missing.
 */
export async function discoverRealm(
  keycloakUrl: string,
  realm: string,
  scopes: string[],
  toolScopes: ToolScopes = {},
  applyCommand?: string,
): Promise<RealmEndpoints> {
  // Without the caller's own command (the programmatic API), the bare one and what it must be given.
  const apply = applyCommand
    ? `\`${applyCommand}\``
    : `\`${command('apply')}\` with the same realm, resource and scopes`;
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
    throw new UsageError(
      `Realm "${realm}" does not exist at ${keycloakUrl}: create it with ${apply}, or check --realm.`,
    );
  }
  const text = await response.text().catch(() => '');
  const doc = parseObject(text);
  if (!response.ok || typeof doc?.issuer !== 'string' || typeof doc.jwks_uri !== 'string') {
    // Described as plan and doctor describe it: what answered, not just what was missing.
    const answer = {
      status: response.status,
      ok: response.ok,
      header: (name: string) => response.headers.get(name) ?? undefined,
      text: () => text,
    };
    throw new KeycloakError(
      `${keycloakUrl} does not look like Keycloak: ${describeNotKeycloak(new URL(url).pathname, answer)}. Check --keycloak-url / KEYCLOAK_URL.`,
      response.status,
    );
  }
  // Keycloak lists the realm's client scopes here; a missing one means `apply` has not run for it.
  const supported = Array.isArray(doc.scopes_supported) ? (doc.scopes_supported as unknown[]) : undefined;
  const missing = supported ? scopes.filter((scope) => !supported.includes(scope)) : [];
  if (missing.length > 0) {
    throw new UsageError(
      `Realm "${realm}" has no client scope ${missing.map((s) => `"${s}"`).join(', ')}: tokens could never carry it. Run ${apply}.`,
    );
  }
  const missingStepUp = supported ? stepUpScopes(toolScopes).filter((scope) => !supported.includes(scope)) : [];
  if (missingStepUp.length > 0) {
    const scope = missingStepUp[0]!;
    const tools = Object.keys(toolScopes).filter((tool) => toolScopes[tool]!.includes(scope));
    throw new UsageError(
      `Realm "${realm}" has no client scope "${scope}", which toolScopes requires for ${tools.join(', ')}: tokens could never carry it. Run ${apply} (it creates it as an optional client scope with the Audience mapper), or drop it from toolScopes / --tool-scope.`,
    );
  }
  const endpoints: RealmEndpoints = { issuer: doc.issuer, jwksUri: doc.jwks_uri };
  if (typeof doc.introspection_endpoint === 'string') endpoints.introspectionEndpoint = doc.introspection_endpoint;
  return endpoints;
}

/** A JSON object, or undefined for anything else (HTML, an array, garbage). */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
