/**
 * Dynamic client registration against Keycloak's real anonymous endpoint, and the clean-up that
 * follows every probe: the client deletes itself with its registration access token (RFC 7592), so
 * doctor leaves nothing behind. The registration access token and any client secret stay in memory.
 */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type { AdminSession } from '../keycloak/session.js';
import { request, type HttpRequest } from './http.js';

export interface Registered {
  clientId: string;
  /** Secret material: never printed. */
  registrationAccessToken: string;
  registrationClientUri: string;
  /** The `scope` Keycloak answered with (the client's optional scopes). */
  scope?: string;
}

export type RegistrationOutcome =
  { ok: true; client: Registered } | { ok: false; status?: number; policy?: string; reason: string };

/** Keycloak's 403: `Policy 'Trusted Hosts' rejected request to client-registration service. Details: Host not trusted.` */
const POLICY = /Policy '([^']+)' rejected request to client-registration service\.?\s*(?:Details:\s*(.*))?/;

/** Sends one RFC 7591 registration (with `origin` as a browser would) and says who was accepted, or which policy refused and why. */
export async function registerClient(
  endpoint: string,
  body: Record<string, unknown>,
  origin?: string,
  send: HttpRequest = request,
): Promise<RegistrationOutcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (origin) headers.origin = origin;
  const result = await send(endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
  if (result.status === undefined) return { ok: false, reason: result.error ?? 'no answer' };
  const json = result.json ?? {};
  if (
    result.status === 201 &&
    typeof json.client_id === 'string' &&
    typeof json.registration_access_token === 'string'
  ) {
    const client: Registered = {
      clientId: json.client_id,
      registrationAccessToken: json.registration_access_token,
      registrationClientUri:
        typeof json.registration_client_uri === 'string'
          ? json.registration_client_uri
          : `${endpoint}/${json.client_id}`,
    };
    if (typeof json.scope === 'string') client.scope = json.scope;
    return { ok: true, client };
  }
  const description = typeof json.error_description === 'string' ? json.error_description : undefined;
  const error = typeof json.error === 'string' ? json.error : undefined;
  const policy = description ? POLICY.exec(description) : null;
  if (policy)
    return {
      ok: false,
      status: result.status,
      policy: policy[1]!,
      reason: (policy[2] ?? '').trim().replace(/\.$/, '') || description!,
    };
  if (error === 'Invalid origin') {
    return {
      ok: false,
      status: result.status,
      policy: 'Allowed Registration Web Origins',
      reason: `origin ${origin ?? '(none)'} is not allowed ("Invalid origin")`,
    };
  }
  return {
    ok: false,
    status: result.status,
    reason: [error, description].filter(Boolean).join(': ') || `HTTP ${result.status}`,
  };
}

/**
 * Deletes a registered client with its own registration access token; falls back to the admin API.
 * Returns undefined on success, else a sentence naming the client left behind.
 */
export async function deleteClient(
  client: Registered,
  realm: string,
  admin?: AdminSession,
  send: HttpRequest = request,
): Promise<string | undefined> {
  const result = await send(client.registrationClientUri, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${client.registrationAccessToken}` },
  });
  if (result.status === 204 || result.status === 200) return undefined;
  if (admin) {
    try {
      const [found] = await admin.client.clients.find({ realm, clientId: client.clientId });
      if (found?.id) await admin.client.clients.del({ realm, id: found.id });
      return undefined;
    } catch {
      // fall through to the sentence below
    }
  }
  return `could not delete probe client ${client.clientId} (${result.status === undefined ? result.error : `HTTP ${result.status}`}); delete it in the admin console`;
}

/** The client attribute that drops `iss` from that client's authorization responses (Keycloak; default "false"). */
export const EXCLUDE_ISS_ATTRIBUTE = 'exclude.issuer.from.auth.response';

/** Clients listed per admin request, and the most read: a realm with more is reported as partly read. */
const CLIENT_PAGE = 200;
const CLIENT_READ_LIMIT = 5000;

/** The realm's clients as the admin API lists them (full representations); `complete` is false when there were more than were read. */
export interface RealmClients {
  clients: ClientRepresentation[];
  complete: boolean;
}

/** Reads the realm's clients page by page, once per doctor run (the realm audit counts them, registration.iss reads their attributes). */
export async function readRealmClients(admin: AdminSession, realm: string): Promise<RealmClients> {
  const clients: ClientRepresentation[] = [];
  for (let first = 0; first < CLIENT_READ_LIMIT; first += CLIENT_PAGE) {
    const page = await admin.client.clients.find({ realm, first, max: CLIENT_PAGE });
    clients.push(...page);
    if (page.length < CLIENT_PAGE) return { clients, complete: true };
  }
  return { clients, complete: false };
}

/** The clientIds of the clients whose authorization responses carry no `iss` (the attribute above is "true"). */
export function clientsWithoutIss(realmClients: RealmClients): string[] {
  return realmClients.clients
    .filter((client) => String(client.attributes?.[EXCLUDE_ISS_ATTRIBUTE]).toLowerCase() === 'true')
    .map((client) => client.clientId ?? client.id ?? '(no clientId)');
}
