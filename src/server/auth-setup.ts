/**
 * How the reference server checks tokens, built once at start-up (keys, introspection client) and
 * again, from the same keys, when `update` changes the scopes a token must carry. Also what the realm
 * lacks for new settings, said instead of thrown: a running server that follows its config file keeps
 * serving (a step-up rule applies at once, which is the safe direction) and names the apply to run.
 */
import { CliError, KeycloakError, UsageError } from '../errors.js';
import { describeFetchFailure } from '../keycloak/errors.js';
import { discoverRealm, type RealmEndpoints } from './discovery.js';
import { checkIntrospectionClient, createIntrospectionVerifier } from './introspect.js';
import type { AuthMode, ReferenceServerOptions, ScopeSettings } from './options.js';
import { createJwtVerifier, remoteKeys, type TokenVerifier } from './verify.js';

export type RealmKeys = ReturnType<typeof remoteKeys>;

/** Refuses an introspection client that Keycloak does not accept, before the first request. */
export async function checkIntrospection(options: ReferenceServerOptions, realm: RealmEndpoints): Promise<void> {
  if (!options.introspection)
    throw new UsageError('Introspection needs a confidential client: set MCP_KEYCLOAK_INTROSPECTION_CLIENT_SECRET.');
  if (!realm.introspectionEndpoint)
    throw new CliError(`Realm "${options.realm}" advertises no introspection_endpoint.`);
  const { clientId, clientSecret } = options.introspection;
  const problem = await checkIntrospectionClient(realm.introspectionEndpoint, clientId, clientSecret).catch(
    (error: unknown) =>
      `Cannot reach the introspection endpoint ${realm.introspectionEndpoint} (${describeFetchFailure(error)}): check Keycloak's hostname settings.`,
  );
  if (problem) throw new UsageError(problem);
}

/**
 * The realm's signing keys, fetched now: the first caller should not wait for them, and an unreachable
 * jwks_uri (e.g. Keycloak's hostname set to a name this host cannot resolve) must stop start-up.
 */
export async function fetchKeys(jwksUri: string): Promise<RealmKeys> {
  const keys = remoteKeys(jwksUri);
  await keys.reload().catch((error: unknown) => {
    throw new KeycloakError(
      `Cannot fetch the realm signing keys from ${jwksUri} (${(error as Error).message}). Check Keycloak's hostname settings.`,
      undefined,
      { cause: error },
    );
  });
  return keys;
}

/** The token check for `options.scopes`: local JWT validation, then (introspection mode) Keycloak's answer. */
export function verifierFor(
  auth: AuthMode,
  keys: RealmKeys,
  realm: RealmEndpoints,
  options: ReferenceServerOptions,
): TokenVerifier {
  const expected = { issuer: realm.issuer, audience: options.resource, scopes: options.scopes };
  const jwt = createJwtVerifier({ ...expected, keys });
  if (auth !== 'introspection') return jwt;
  // Keycloak's tokens are signed JWTs even in introspection mode: checking the signature first
  // means forged or junk tokens never reach Keycloak, so they cannot be used to load it.
  return createIntrospectionVerifier({
    ...expected,
    endpoint: realm.introspectionEndpoint!,
    ...options.introspection!,
    precheck: jwt,
  });
}

/** What the realm lacks for `settings` (the start-up check's sentence, with its apply), or undefined. */
export async function realmLacks(
  options: ReferenceServerOptions,
  settings: ScopeSettings,
): Promise<string | undefined> {
  try {
    await discoverRealm(options.keycloakUrl, options.realm, settings.scopes, settings.toolScopes, options.applyCommand);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
