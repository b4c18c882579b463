/**
 * Lets `doctor --e2e` leave no client behind. Both SDK lines parse the registration response with a schema
 * that drops RFC 7592's `registration_access_token` and `registration_client_uri`, so this fetch wrapper
 * keeps them from the 201 answer itself. They are credentials: kept in memory, used once, never reported.
 */
import type { ClientStore } from './provider.js';

/** Wraps `inner` so that a 201 registration answer leaves its RFC 7592 management credentials in `store`. */
export function captureRegistration(store: ClientStore, inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method === 'POST' && response.status === 201) {
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as Record<string, unknown> | undefined;
      const uri = body?.registration_client_uri;
      const token = body?.registration_access_token;
      if (typeof uri === 'string' && typeof token === 'string' && typeof body?.client_id === 'string') {
        store.management = { clientId: body.client_id, uri, token };
      }
    }
    return response;
  };
}

/**
 * Deletes the client this store registered (RFC 7592 §2.3) and forgets it. Returns what happened in
 * words for a report; never throws.
 */
export async function deleteRegistration(
  store: ClientStore,
  fetchFn: typeof fetch = fetch,
): Promise<{ deleted: boolean; detail: string }> {
  const management = store.management;
  if (!management)
    return {
      deleted: false,
      detail: 'no registration management credentials were returned, so the client stays registered',
    };
  try {
    const response = await fetchFn(management.uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${management.token}` },
    });
    await response.body?.cancel();
    if (response.status !== 204 && response.status !== 200)
      return { deleted: false, detail: `DELETE ${management.uri} answered HTTP ${response.status}` };
  } catch (error) {
    return {
      deleted: false,
      detail: `DELETE ${management.uri} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  delete store.management;
  if (store.clientInformation?.client_id === management.clientId) {
    delete store.clientInformation;
    delete store.tokens;
  }
  return { deleted: true, detail: `client ${management.clientId} deleted through its registration access token` };
}
