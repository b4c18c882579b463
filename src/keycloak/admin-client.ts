/**
 * The admin client (@keycloak/keycloak-admin-client), loaded on first use. Its modules, with the
 * Kiota and OpenTelemetry stack under them, cost about a fifth of a no-op apply's CPU; the reads
 * `plan` needs go through `adminRead` instead, so a command that changes nothing never loads them.
 */
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { KeycloakStatusError } from './login.js';
import { keycloakCall } from './errors.js';
import { requestKeycloak } from './answer.js';
import { trimBase } from './urls.js';

/**
 * Names asked of any object by the runtime rather than by callers: answering them with a function
 * would make the stand-in look like a promise (`then`) or load the client from `JSON.stringify` or
 * `console.log`.
 */
const notAMethod = (name: PropertyKey) => typeof name === 'symbol' || name === 'then' || name === 'toJSON';

/**
 * A stand-in with the admin client's type: `client.<resource>.<method>(…)` loads the real client
 * (once), then calls it. Every resource method of the admin client returns a promise, which is what
 * makes waiting for the load invisible to callers.
 */
export function lazyAdminClient(baseUrl: string, realmName: string, token: () => Promise<string>): KcAdminClient {
  let loaded: Promise<KcAdminClient> | undefined;
  const load = () =>
    (loaded ??= import('@keycloak/keycloak-admin-client').then(({ default: AdminClient }) => {
      const client = new AdminClient({ baseUrl, realmName });
      client.registerTokenProvider({ getAccessToken: token });
      return client;
    }));
  const resource = (name: string) =>
    new Proxy(
      {},
      {
        get: (_target, method) =>
          notAMethod(method)
            ? undefined
            : (...args: unknown[]) =>
                load().then((client) => {
                  const target = (client as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[
                    name
                  ]!;
                  return target[method as string]!(...args);
                }),
      },
    );
  return new Proxy(
    {},
    { get: (_target, name) => (notAMethod(name) ? undefined : resource(name as string)) },
  ) as KcAdminClient;
}

/**
 * GET on the admin API without the admin client: `path` is relative to `<base>/admin/realms/`
 * (e.g. `r/client-scopes`), or to `<base>/admin/` with `root` 'admin/' (e.g. `serverinfo`); `query` is added as URL parameters. Resolves with the parsed JSON, or
 * undefined when Keycloak answers 404; any other failure is a KeycloakError naming `what`.
 */
export function adminReader(
  baseUrl: string,
  token: () => Promise<string>,
  root: 'admin/realms/' | 'admin/' = 'admin/realms/',
) {
  return async function adminRead<T>(
    path: string,
    what: string,
    query: Record<string, string> = {},
  ): Promise<T | undefined> {
    const url = new URL(`${trimBase(baseUrl)}/${root}${path}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return keycloakCall(
      async () => {
        const response = await requestKeycloak(url, { headers: { authorization: `Bearer ${await token()}` } });
        if (response.status === 404) return undefined;
        const text = response.text();
        let data: unknown = text;
        try {
          data = JSON.parse(text);
        } catch {
          // Kept as text: the error below shows it if it is short and not HTML.
        }
        if (!response.ok || typeof data !== 'object') throw new KeycloakStatusError(response, data);
        return data as T;
      },
      undefined,
      what,
    );
  };
}
