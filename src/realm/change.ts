/**
 * A plan's unit: one object to create, update or delete. Each kind carries exactly the fields it has,
 * so code that handles a change never guesses: `id` on everything that exists already, `scope` on
 * mappers and default scopes, `providerId` on registration policies. The JSON shape is the plan
 * document's (formatVersion 1); `reason` was added within version 1.
 */
/** The registration policy providers apply manages (desired.ts PROVIDER holds exactly these). */
export type PolicyProvider = 'trusted-hosts' | 'allowed-client-templates' | 'registration-web-origins';

export type ChangeAction = 'create' | 'update' | 'delete';

export interface FieldChange {
  field: string;
  /** `null` for a creation. */
  from: unknown;
  /** `null` for a removal. */
  to: unknown;
}

interface ChangeBase {
  /** Human name: the realm, the scope, "scope › mapper", the policy's name, the username. */
  name: string;
  fields: FieldChange[];
  /** Why, when the action alone does not say it (e.g. "duplicate of …"). */
  reason?: string;
}

/** An object that exists: Keycloak's id of it. */
interface Existing<A extends ChangeAction> {
  action: A;
  id: string;
}

/** The realm: created, or enabled (the admin API addresses a realm by name; its id is shown when known). */
export type RealmChange = ChangeBase & { kind: 'realm' } & ({ action: 'create' } | { action: 'update'; id?: string });

/** A client scope the config names. Keycloak keeps scope names unique, so there are no duplicates to delete. */
export type ClientScopeChange = ChangeBase & { kind: 'client-scope' } & ({ action: 'create' } | Existing<'update'>);

/** The Audience mapper on `scope`; `delete` removes a duplicate of ours. */
export type AudienceMapperChange = ChangeBase & { kind: 'audience-mapper'; scope: string } & (
    { action: 'create' } | Existing<'update' | 'delete'>
  );

/** `scope` among the realm's default default client scopes (a set: only ever added). */
export type DefaultScopeChange = ChangeBase & { kind: 'default-scope'; action: 'create'; scope: string };

/** A step-up `scope` among the realm's default optional client scopes (out of the defaults, when it was there). */
/** `update`: the scope is among the realm's defaults and moves to the optional ones. */
export type OptionalScopeChange = ChangeBase & { kind: 'optional-scope'; action: 'create' | 'update'; scope: string };

/**
 * An anonymous client-registration policy of a provider apply manages. `id` is absent only in the plan
 * for a realm that does not exist yet: the change is then to a policy Keycloak creates with the realm.
 */
export type RegistrationPolicyChange = ChangeBase & { kind: 'registration-policy'; providerId: PolicyProvider } & (
    { action: 'create' } | { action: 'update' | 'delete'; id?: string }
  );

/**
 * The client that makes the MCP URL a resource Keycloak knows (found by clientId = the MCP URL): created,
 * or given the right `resource_url` when one exists already (a client the user made keeps the rest).
 */
export type ResourceClientChange = ChangeBase & { kind: 'resource-client' } & (
    { action: 'create' } | Existing<'update'>
  );

/**
 * A client profile or client policy of ours (CIMD and its PKCE companion, found by name). Keycloak keeps
 * each list as one document, so apply reads the list, puts ours in and writes the list back.
 */
export type ClientPolicyChange = ChangeBase & { kind: 'client-profile' | 'client-policy'; action: 'create' | 'update' };

/** A machine client (found by clientId): created, or repaired, and its credentials file (re)written. */
export type MachineClientChange = ChangeBase & { kind: 'machine-client' } & ({ action: 'create' } | Existing<'update'>);

/** The test user (found by username, which Keycloak keeps unique). */
export type TestUserChange = ChangeBase & { kind: 'test-user' } & ({ action: 'create' } | Existing<'update'>);

export type Change =
  | RealmChange
  | ClientScopeChange
  | AudienceMapperChange
  | DefaultScopeChange
  | OptionalScopeChange
  | ResourceClientChange
  | ClientPolicyChange
  | RegistrationPolicyChange
  | MachineClientChange
  | TestUserChange;
export type ChangeKind = Change['kind'];

/** The words for a change in error messages: "creating client scope "mcp:run"". */
export function describeChange(change: Change): string {
  const verb = { create: 'creating', update: 'updating', delete: 'deleting' }[change.action];
  switch (change.kind) {
    case 'realm':
      return change.action === 'create' ? `creating realm "${change.name}"` : `enabling realm "${change.name}"`;
    case 'client-scope':
      return `${verb} client scope "${change.name}"`;
    case 'audience-mapper':
      return `${verb} audience mapper "${change.name}"`;
    case 'default-scope':
      return `adding client scope "${change.scope}" to the realm's default client scopes`;
    case 'optional-scope':
      return change.action === 'update'
        ? `moving client scope "${change.scope}" from the realm's default to its optional client scopes`
        : `adding client scope "${change.scope}" to the realm's optional client scopes`;
    case 'resource-client':
      return change.action === 'create'
        ? `creating resource client "${change.name}"`
        : `setting resource_url on client "${change.name}"`;
    case 'registration-policy':
      return `${verb} registration policy "${change.name}"`;
    case 'client-profile':
      return `${verb} client profile "${change.name}"`;
    case 'client-policy':
      return `${verb} client policy "${change.name}"`;
    case 'machine-client':
      return `${verb} machine client "${change.name}"`;
    case 'test-user':
      return `${verb} test user "${change.name}"`;
  }
}
