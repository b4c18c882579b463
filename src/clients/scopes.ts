/**
 * The scopes a catalogued client asks for on a realm, and whether it can step up there. Pure, derived from the
 * catalogue's scope strategy and what the realm's discovery documents list.
 */
import type { CatalogueClient, ScopeSource } from './catalogue.js';

export interface ScopeFacts {
  /** The 401 challenge's `scope`, when the MCP server sent one. */
  challengeScopes?: string[];
  /** PRM `scopes_supported` (serve lists the step-up scopes there too). */
  prmScopes: string[];
  /** AS metadata `scopes_supported` (clients add `offline_access` when it is listed). */
  asScopes: string[];
  /** The scopes a tool of the examined server needs beside its base scopes (`toolScopes`). */
  stepUpScopes: string[];
}

export const OFFLINE_ACCESS = 'offline_access';

/** The scopes a strategy yields here, or undefined for `unknown`. */
function scopesFrom(source: ScopeSource, facts: ScopeFacts): string[] | undefined {
  if (source === 'challenge-then-prm') return facts.challengeScopes?.length ? facts.challengeScopes : facts.prmScopes;
  if (source === 'prm') return facts.prmScopes;
  if (source === 'none') return [];
  return undefined;
}

/** Whether the client adds offline_access on this realm. */
export function asksOfflineAccess(client: CatalogueClient, facts: ScopeFacts): boolean {
  if (client.offlineAccess === 'always') return true;
  return client.offlineAccess === 'when-as-lists-it' && facts.asScopes.includes(OFFLINE_ACCESS);
}

/** The scope the client asks for at sign-in, as a line. */
export function signInScopeOf(client: CatalogueClient, facts: ScopeFacts): string {
  const scopes = scopesFrom(client.signInScope, facts);
  if (!scopes) return 'not confirmed';
  const all = asksOfflineAccess(client, facts) ? [...new Set([...scopes, OFFLINE_ACCESS])] : scopes;
  return all.length ? all.join(' ') : "none (Keycloak gives the realm's default scopes)";
}

/** The scope the client registers with (DCR), or undefined for `unknown`; [] means no `scope` in the body. */
export function registrationScopesOf(client: CatalogueClient, facts: ScopeFacts): string[] | undefined {
  const scopes = scopesFrom(client.dcr.scope, facts);
  if (!scopes?.length) return scopes;
  return asksOfflineAccess(client, facts) ? [...new Set([...scopes, OFFLINE_ACCESS])] : scopes;
}

export type StepUp =
  | { kind: 'not-needed' | 'works' | 'unconfirmed'; text: string }
  | { kind: 'cannot'; text: string; issue: { id: string; fixedIn: string; what: string } };

/**
 * Whether the client can step up here. On Keycloak a client that registered with a `scope` may later ask only for
 * those scopes (26.7: invalid_scope; 26.8's keycloak#50807 adds the realm's default scopes, not its optional ones),
 * so a client registering with the 401's scope cannot reach a step-up scope it learns later (e2e.step-up.challenge-scope).
 */
export function stepUpOf(client: CatalogueClient, facts: ScopeFacts, way: string): StepUp {
  if (facts.stepUpScopes.length === 0)
    return { kind: 'not-needed', text: 'not needed (no tool needs a further scope)' };
  const wanted = facts.stepUpScopes.join(' ');
  if (client.stepUp !== 'union-reauthorize')
    return { kind: 'unconfirmed', text: `not confirmed: how it asks for ${wanted} is not documented` };
  if (way !== 'dcr')
    return { kind: 'works', text: `re-authorizes for ${wanted} (its client has the realm's optional scopes)` };
  const registered = registrationScopesOf(client, facts);
  if (!registered) return { kind: 'unconfirmed', text: `not confirmed: its registration scope is not documented` };
  if (registered.length === 0 || facts.stepUpScopes.every((scope) => registered.includes(scope)))
    return {
      kind: 'works',
      text: `re-authorizes for ${wanted} (${registered.length ? `registered with "${registered.join(' ')}"` : 'registered without scope'})`,
    };
  return {
    kind: 'cannot',
    text: `registers with "${registered.join(' ')}", so Keycloak answers invalid_scope to ${wanted}`,
    issue: {
      id: 'keycloak#50807',
      fixedIn: 'not fixed in 26.8.0, which adds the default scopes only',
      what: 'a client registered with a scope may ask only for those scopes',
    },
  };
}
