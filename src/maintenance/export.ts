/**
 * The realm's MCP-relevant configuration as a realm representation that `kc.sh import` and
 * `POST /admin/realms` accept. Sorted and stripped of ids, so two exports of equal realms are equal
 * byte for byte (reviewable in Git).
 *
 * Every client scope is included, not only ours: when a realm file carries `clientScopes`, Keycloak's
 * import creates exactly those and skips its built-in ones (profile, email, basic, …).
 */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import {
  CREATED_BY_ATTRIBUTE,
  POLICY_TYPE,
  RESOURCE_URL_ATTRIBUTE,
  resourceClientRepresentation,
} from '../realm/desired.js';
import { CIMD_NAMES, type ClientPolicy, type ClientProfile } from '../realm/cimd.js';
import { MACHINE_CLIENT_ATTRIBUTE, machineClientExport } from '../realm/machine-clients.js';

/** Our client profiles and policies (by name); the realm's others are the user's and stay out of the export. */
const OURS: ReadonlySet<string> = new Set(Object.values(CIMD_NAMES));

export interface RealmExport {
  realm: string;
  enabled: boolean;
  clientScopes: ClientScopeRepresentation[];
  defaultDefaultClientScopes: string[];
  defaultOptionalClientScopes: string[];
  components: Record<string, ComponentRepresentation[]>;
  /** The resource and machine clients apply made, with the fields apply sets (no secret, no timestamps: Keycloak makes new ones on import). */
  clients: ClientRepresentation[];
  /** Our client profiles and policies (anonymous clients: PKCE, code flow only, DPoP; CIMD), as realm import takes them. */
  clientProfiles: { profiles: ClientProfile[] };
  clientPolicies: { policies: ClientPolicy[] };
}

/** The part of a resource client that apply decides, read from the live one (so a hand edit shows). */
function resourceClientExport(client: ClientRepresentation): ClientRepresentation {
  const keys = Object.keys(resourceClientRepresentation('')) as (keyof ClientRepresentation)[];
  const out = Object.fromEntries(
    keys.filter((key) => key !== 'attributes' && client[key] !== undefined).map((key) => [key, client[key]]),
  ) as ClientRepresentation;
  const resourceUrl: unknown = client.attributes?.[RESOURCE_URL_ATTRIBUTE];
  out.attributes = {
    [RESOURCE_URL_ATTRIBUTE]: resourceUrl,
    [CREATED_BY_ATTRIBUTE]: 'true',
  };
  return out;
}

const byName = <T extends { name?: string }>(a: T, b: T) => (a.name ?? '').localeCompare(b.name ?? '');

function sortedRecord<T>(record: Record<string, T> | undefined, map: (value: T) => T = (v) => v): Record<string, T> {
  return Object.fromEntries(
    Object.keys(record ?? {})
      .sort()
      .map((key) => [key, map(record![key]!)]),
  );
}

/** Reads the realm's MCP-relevant parts (settings, client scopes, default scopes, registration policies) in a stable order. */
export async function exportRealm(session: AdminSession, realm: string, clientIds: string[]): Promise<RealmExport> {
  const { client } = session;
  const call = <T>(fn: () => Promise<T>, what: string) => keycloakCall(fn, undefined, what);
  const [rep, scopes, defaults, optionals, policies, clients, profileList, policyList] = await Promise.all([
    call(() => client.realms.findOne({ realm }), `Reading realm "${realm}"`),
    call(() => client.clientScopes.find({ realm }), 'Listing client scopes'),
    call(() => client.clientScopes.listDefaultClientScopes({ realm } as never), 'Listing default client scopes'),
    call(
      () => client.clientScopes.listDefaultOptionalClientScopes({ realm } as never),
      'Listing optional client scopes',
    ),
    call(() => client.components.find({ realm, type: POLICY_TYPE }), 'Listing client registration policies'),
    // Our clients by exact clientId (one request each), not the realm's every DCR client.
    Promise.all(
      clientIds.map((clientId) =>
        call(() => client.clients.find({ realm, clientId }), `Looking up the client "${clientId}"`),
      ),
    ).then((lists) => lists.flat()),
    session.read<{ profiles?: ClientProfile[] }>(
      `${encodeURIComponent(realm)}/client-policies/profiles`,
      'Listing client profiles',
    ),
    session.read<{ policies?: ClientPolicy[] }>(
      `${encodeURIComponent(realm)}/client-policies/policies`,
      'Listing client policies',
    ),
  ]);
  const clientScopes = scopes
    .map(({ id: _id, ...scope }) => {
      const out: ClientScopeRepresentation = { ...scope, attributes: sortedRecord(scope.attributes) };
      if (scope.protocolMappers) {
        out.protocolMappers = scope.protocolMappers
          .map(({ id: _mapperId, ...mapper }) => ({ ...mapper, config: sortedRecord(mapper.config) }))
          .sort(byName);
      }
      return out;
    })
    .sort(byName);
  const components = policies
    .map(({ id: _id, parentId: _parent, providerType: _type, ...component }) => ({
      ...component,
      config: sortedRecord(component.config as Record<string, string[]>, (values) => [...values].sort()),
    }))
    .sort((a, b) => `${a.subType}/${a.name}`.localeCompare(`${b.subType}/${b.name}`));
  return {
    realm,
    enabled: rep?.enabled ?? true,
    clientScopes,
    defaultDefaultClientScopes: defaults.map((s) => s.name!).sort(),
    defaultOptionalClientScopes: optionals.map((s) => s.name!).sort(),
    components: { [POLICY_TYPE]: components },
    clients: clients
      .filter((c) => c.attributes?.[CREATED_BY_ATTRIBUTE] === 'true')
      .map((c) => (c.attributes?.[MACHINE_CLIENT_ATTRIBUTE] ? machineClientExport(c) : resourceClientExport(c)))
      .sort((a, b) => (a.clientId ?? '').localeCompare(b.clientId ?? '')),
    clientProfiles: { profiles: (profileList?.profiles ?? []).filter((p) => OURS.has(p.name)).sort(byName) },
    clientPolicies: { policies: (policyList?.policies ?? []).filter((p) => OURS.has(p.name)).sort(byName) },
  };
}
