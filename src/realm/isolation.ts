/**
 * One token per server: where an MCP server's scopes sit in a realm, so that a token issued for one server is
 * refused by every other server of the same realm (the MCP spec: a token is usable only at the server it was
 * issued for). Pure; `plan` and doctor's realm check both use it. docs/decisions.md ("One token per server").
 *
 * Each server's scope carries an Audience mapper with that server's URL, so a token names a server exactly when
 * it carries one of its scopes. A realm *default* scope is in every token of every client that registered
 * without `scope` (Claude Code, Cursor, claude.ai), and from Keycloak 26.8 (keycloak#50807) of every client that
 * registered with one too. With one server that is what makes such clients work. With two, every such token
 * names both servers, and each accepts the other's tokens; resource indicators narrow `aud` only for clients
 * that send `resource`. So in a realm that holds two or more MCP servers every server's scopes are *optional*
 * client scopes: a token names a server only when its client asked for that server's scope (the 401's `scope`
 * or the PRM's `scopes_supported`, which is what MCP clients ask for). A realm with one server stays as it was.
 */
import { AUDIENCE_MAPPER_TYPE } from './audience.js';
import { AUDIENCE_MAPPER_NAME, type DesiredRealm, type DesiredScope } from './desired.js';
import type { LiveRealm, LiveScope } from './live-types.js';
import type { OptionalScopeChange } from './change.js';

/** The URL our Audience mapper on `scope` puts into `aud`, if the scope carries ours. */
export function ourAudienceOf(scope: Pick<LiveScope, 'mappers'>): string | undefined {
  const mapper = scope.mappers.find(
    (m) => m.name === AUDIENCE_MAPPER_NAME && m.protocolMapper === AUDIENCE_MAPPER_TYPE,
  );
  const audience: unknown = mapper?.config?.['included.custom.audience'];
  return typeof audience === 'string' && audience !== '' ? audience : undefined;
}

/** Live scopes that carry our Audience mapper but are not the config's: other MCP servers', with their URL. */
function otherServersScopes(desired: DesiredRealm, live: LiveRealm): { scope: string; audience: string }[] {
  const own = new Set(desired.scopes.map((scope) => scope.name));
  return [...live.scopes.values()]
    .filter((scope) => !own.has(scope.name))
    .map((scope) => ({ scope: scope.name, audience: ourAudienceOf(scope) }))
    .filter((s): s is { scope: string; audience: string } => s.audience !== undefined);
}

/**
 * The MCP servers the realm holds: the config's, and any other whose scope carries our Audience mapper. (The
 * config's own scopes count by the config's URL: a drifted mapper on one of them is a repair, not a server.)
 */
export function mcpServersOf(desired: DesiredRealm, live: LiveRealm): string[] {
  const urls = new Set(desired.resourceClients.map((client) => client.url));
  for (const other of otherServersScopes(desired, live)) urls.add(other.audience);
  return [...urls].sort();
}

/** Whether every server's scopes must be optional: the realm holds two or more MCP servers. */
export function isSharedRealm(desired: DesiredRealm, live: LiveRealm): boolean {
  return mcpServersOf(desired, live).length >= 2;
}

/** The desired scopes as this realm needs them: in a shared realm, base scopes become optional (`isolated`). */
export function placeScopes(desired: DesiredRealm, live: LiveRealm): DesiredScope[] {
  if (!isSharedRealm(desired, live)) return desired.scopes;
  return desired.scopes.map((scope) => (scope.optional ? scope : { ...scope, isolated: true }));
}

/** Realm default scopes that name an MCP server in a shared realm: each puts its server into every such token. */
export function leakingDefaultScopes(desired: DesiredRealm, live: LiveRealm): { scope: string; audience: string }[] {
  if (!isSharedRealm(desired, live)) return [];
  const own = desired.scopes.map((scope) => ({ scope: scope.name, audience: scope.audience }));
  return [...own, ...otherServersScopes(desired, live)]
    .filter((s) => live.defaultScopes.has(s.scope))
    .sort((a, b) => a.scope.localeCompare(b.scope));
}

/** The text of the move for a base scope in a shared realm (plan and doctor say the same). */
export function isolationReason(servers: number): string {
  return `the realm holds ${servers} MCP servers: each server's scope is optional, so a token names only the server its client asked for`;
}

/**
 * Moves for scopes of other MCP servers (not in this config) that are realm defaults: the config's own scopes are
 * moved by `planScope`. Applying another server's config later finds them optional and writes nothing.
 */
export function planOtherServersScopes(desired: DesiredRealm, live: LiveRealm): OptionalScopeChange[] {
  const own = new Set(desired.scopes.map((scope) => scope.name));
  const servers = mcpServersOf(desired, live).length;
  return leakingDefaultScopes(desired, live)
    .filter((leak) => !own.has(leak.scope))
    .map((leak) => ({
      action: 'update',
      kind: 'optional-scope',
      name: leak.scope,
      scope: leak.scope,
      fields: [
        { field: 'realm default client scopes', from: leak.scope, to: `(removed: ${isolationReason(servers)})` },
        { field: 'realm optional client scopes', from: null, to: leak.scope },
      ],
      reason: `another MCP server's scope (aud ${leak.audience})`,
    }));
}
