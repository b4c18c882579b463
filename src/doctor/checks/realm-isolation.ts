/**
 * The realm audit's view of "one token per server" (src/realm/isolation.ts): `realm.one_token_per_server`, and
 * where a base scope must sit when the realm holds several MCP servers (`realm.default_scope` keeps its id).
 */
import { fail, pass, type Finding } from '../../findings.js';
import type { DesiredRealm } from '../../realm/desired.js';
import { leakingDefaultScopes, mcpServersOf } from '../../realm/isolation.js';
import type { LiveRealm } from '../../realm/live.js';

const TITLE = 'A token for one MCP server is refused by every other server of the realm';

/** Fails when, in a realm of two or more MCP servers, a server's scope is a realm default scope. */
export function oneTokenPerServerFinding(desired: DesiredRealm, live: LiveRealm): Finding {
  const servers = mcpServersOf(desired, live);
  if (servers.length < 2)
    return pass('realm.one_token_per_server', TITLE, {
      actual: `one MCP server in the realm (${servers.join(', ')}): its scope may be a default scope`,
    });
  const leaks = leakingDefaultScopes(desired, live);
  if (leaks.length === 0)
    return pass('realm.one_token_per_server', TITLE, {
      actual: `${servers.length} MCP servers (${servers.join(', ')}); none of their scopes is a realm default scope`,
    });
  return fail('realm.one_token_per_server', TITLE, {
    expected: `in a realm of ${servers.length} MCP servers, every server's scope among the optional client scopes`,
    actual: `realm default scopes ${leaks.map((l) => `${l.scope} (aud ${l.audience})`).join(', ')}`,
    why: `Every client that registers without scope (and, from Keycloak 26.8, with one) gets these scopes in every token, so a token for one server names ${leaks.length === 1 ? 'this one' : 'these'} too and is accepted there; resource indicators narrow aud only for clients that send resource.`,
  });
}

/** A base scope in a shared realm: optional, not a default (id `realm.default_scope`, kept for compatibility). */
export function isolatedPlacement(id: string, scope: string, live: LiveRealm): Finding {
  const title = `${scope} is an optional client scope (the realm holds several MCP servers)`;
  if (live.defaultScopes.has(scope))
    return fail(id, title, {
      expected: 'among the realm optional client scopes',
      actual: 'a realm default scope',
      why: `As a default it is in every token of the realm, so every other MCP server's tokens name this server too; optional, a token names it only when its client asks for ${scope}.`,
    });
  if (!live.optionalScopes.has(scope))
    return fail(id, title, {
      expected: 'among the realm optional client scopes',
      actual: 'neither a default nor an optional scope',
      why: `Clients that register without scope cannot ask for ${scope}: Keycloak refuses it with invalid_scope.`,
    });
  return pass(id, title);
}
