/** The live realm as plan.ts compares it (read by live.ts; isolation.ts and the planners read it too). */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import type { ClientPolicy, ClientProfile } from './cimd.js';
import type { LiveMachineClient } from './machine-clients.js';

export interface LiveScope extends ClientScopeRepresentation {
  id: string;
  name: string;
  mappers: ProtocolMapperRepresentation[];
}

export interface LiveRealm {
  exists: boolean;
  id?: string;
  enabled?: boolean;
  /** Client scopes by name: those the desired state names, and other MCP servers' (our Audience mapper on them). */
  scopes: Map<string, LiveScope>;
  /** Names of the realm's default default client scopes. */
  defaultScopes: Set<string>;
  /** Names of the realm's default optional client scopes: read only for step-up scopes or a shared realm. */
  optionalScopes: Set<string>;
  /** The realm's anonymous client-registration policies. */
  anonymousPolicies: ComponentRepresentation[];
  /** Clients whose clientId is a desired resource URL, by that URL (see DesiredResourceClient). */
  resourceClients: Map<string, ClientRepresentation>;
  testUser?: { user: UserRepresentation; passwordWorks?: boolean };
  /** The realm's client profiles and policies (their own, not the global ones): read when ours are desired (anonymous registration or CIMD). */
  clientProfiles?: ClientProfile[];
  clientPolicies?: ClientPolicy[];
  /** Machine clients by clientId, with their credentials files: read only when the config names some. */
  machineClients?: Map<string, LiveMachineClient>;
}
