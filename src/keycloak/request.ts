/** Direct requests to Keycloak (discovery, token endpoint, introspection) with the admin calls' rules and wording. */
import { keycloakCall } from './errors.js';
import { sendToKeycloak, type SendOptions } from './http.js';

/**
 * Sends one request (timeout, retries of idempotent reads, counting: see http.ts) and resolves with
 * the answer, whatever its status. When Keycloak does not answer or the connection fails, throws a
 * KeycloakError naming `what` (e.g. `reading the discovery document of realm "r"`) and the request.
 * Code that must not throw (doctor's findings) calls `sendToKeycloak` and `describeFetchFailure`.
 */
export function keycloakRequest(what: string, url: string | URL, init: RequestInit = {}, options: SendOptions = {}): Promise<Response> {
  return keycloakCall(() => sendToKeycloak(url, init, options), undefined, what);
}
