/**
 * Which clients Dynamic Client Registration made, and when they were last used: the facts behind
 * `clients list` and `clients prune`.
 *
 * Keycloak keeps no "created by DCR" flag and no "last used" time on a client, so both are inferred:
 * - DCR-made: the OIDC registration endpoint refuses a client-chosen `client_id` ("Client Identifier
 *   included", OIDCClientRegistrationProvider.createOIDC) and gives the client a generated UUID that is
 *   also its internal id. Clients made in the admin console or API get an `id` different from the
 *   `clientId` they are given. So: protocol openid-connect, clientId === id, UUID-shaped, not a realm client.
 * - Last use, newest first: an online or offline session's lastAccess; the newest event for the client
 *   when the realm saves events; otherwise the first time `clients prune` saw it (FIRST_SEEN attribute,
 *   written by prune), which bounds "unused since" from below once sessions have expired.
 */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';

export const FIRST_SEEN = 'mcp-keycloak.first-seen';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_MS = 86_400_000;

/** True for a client that Dynamic Client Registration made: OIDC, clientId a UUID equal to its id, not a realm client (see above). */
export function isDcrClient(client: ClientRepresentation): boolean {
  return (
    client.protocol === 'openid-connect' &&
    typeof client.clientId === 'string' &&
    client.clientId === client.id &&
    UUID.test(client.clientId) &&
    client.attributes?.realm_client !== 'true'
  );
}

export interface ClientUsage {
  id: string;
  clientId: string;
  name?: string;
  /** Online + offline sessions right now. */
  sessions: number;
  /** Newest evidence of use (ms since epoch) and where it comes from. */
  lastUsed?: number;
  lastUsedFrom?: 'session' | 'event';
  /** When prune first saw the client (ms), if it has. */
  firstSeen?: number;
}

export interface PruneVerdict extends ClientUsage {
  prune: boolean;
  reason: string;
}

/**
 * The rule (pure): a DCR client is pruned when nothing shows use within `days` days: no session now,
 * no event in the window (when events are saved), and it has been known for at least `days` days
 * (first seen by prune, or its registration event). A client prune has never seen is marked, not deleted,
 * unless days is 0.
 */
export function judge(usage: ClientUsage, days: number, now: number, eventsSaved: boolean): PruneVerdict {
  const window = days * DAY_MS;
  const ago = (t: number) => `${Math.floor((now - t) / DAY_MS)} day(s) ago`;
  if (usage.sessions > 0) return { ...usage, prune: false, reason: `${usage.sessions} active session(s)` };
  if (usage.lastUsed !== undefined && now - usage.lastUsed < window) {
    return { ...usage, prune: false, reason: `used ${ago(usage.lastUsed)} (${usage.lastUsedFrom})` };
  }
  if (days > 0) {
    const known = usage.firstSeen;
    if (known === undefined && usage.lastUsed === undefined) {
      return {
        ...usage,
        prune: false,
        reason: 'not seen by prune before: prune marks it, and deletes it once unused for the window',
      };
    }
    const since = Math.min(...[known, usage.lastUsed].filter((t): t is number => t !== undefined));
    if (now - since < window) return { ...usage, prune: false, reason: `known for less than ${days} day(s)` };
  }
  const basis = eventsSaved ? 'no session, no event' : 'no session (the realm saves no events)';
  return { ...usage, prune: true, reason: `${basis} in ${days} day(s)` };
}

export interface Inventory {
  eventsSaved: boolean;
  clients: ClientUsage[];
}

/** Reads the realm's DCR-made clients with their sessions and (when saved) newest event. */
export async function readDcrClients(session: AdminSession, realm: string): Promise<Inventory> {
  const { client } = session;
  const [all, eventsConfig] = await Promise.all([
    keycloakCall(() => client.clients.find({ realm }), undefined, `Listing clients of realm "${realm}"`),
    keycloakCall(() => client.realms.getConfigEvents({ realm }), undefined, 'Reading the realm event settings'),
  ]);
  const eventsSaved = Boolean(eventsConfig?.eventsEnabled);
  const clients = await Promise.all(
    all.filter(isDcrClient).map(async (rep): Promise<ClientUsage> => {
      const id = rep.id!;
      const [online, offline, events] = await Promise.all([
        keycloakCall(() => client.clients.listSessions({ realm, id }), undefined, 'Listing client sessions'),
        keycloakCall(() => client.clients.listOfflineSessions({ realm, id }), undefined, 'Listing offline sessions'),
        eventsSaved
          ? keycloakCall(
              () => client.realms.findEvents({ realm, client: rep.clientId!, max: 1 }),
              undefined,
              'Reading events',
            )
          : [],
      ]);
      const sessions = [...online, ...offline];
      const usage: ClientUsage = { id, clientId: rep.clientId!, sessions: sessions.length };
      if (rep.name) usage.name = rep.name;
      const sessionTimes = sessions.map((s) => s.lastAccess ?? s.start ?? 0).filter((t) => t > 0);
      const eventTime = events[0]?.time;
      if (sessionTimes.length) {
        usage.lastUsed = Math.max(...sessionTimes);
        usage.lastUsedFrom = 'session';
      } else if (eventTime) {
        usage.lastUsed = eventTime;
        usage.lastUsedFrom = 'event';
      }
      const firstSeen = Number(rep.attributes?.[FIRST_SEEN]);
      if (Number.isFinite(firstSeen) && firstSeen > 0) usage.firstSeen = firstSeen;
      return usage;
    }),
  );
  return { eventsSaved, clients };
}

/** Records "first seen now" on a client (a plain attribute; it changes nothing in how the client works). */
export async function markFirstSeen(session: AdminSession, realm: string, id: string, now: number): Promise<void> {
  const { client } = session;
  const current = await keycloakCall(() => client.clients.findOne({ realm, id }), undefined, 'Reading a client');
  if (!current) return;
  await keycloakCall(
    () =>
      client.clients.update(
        { realm, id },
        { ...current, attributes: { ...current.attributes, [FIRST_SEEN]: String(now) } },
      ),
    undefined,
    'Marking a client as seen',
  );
}
