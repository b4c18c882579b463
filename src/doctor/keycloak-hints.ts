/**
 * Hints that point at the first real cause when Keycloak or the realm is not there. The realm the user probably meant when theirs does not exist at Keycloak (`--realm mcp-dmeo`): with
 * admin credentials the closest name of the realm list; without them the realm the MCP server's PRM names
 * on this same Keycloak (what the running server actually uses). Only a hint: the name is shown, never
 * sent anywhere, and escaped like every remote value.
 */
import { printable } from '../config/rules.js';
import { closestName, realmNames } from '../keycloak/realm-names.js';
import { trimBase } from '../keycloak/urls.js';
import { command } from '../ui/invocation.js';
import { asStrings } from './http.js';
import type { DoctorInput, DoctorState } from './types.js';
import { realmOf } from './url-diff.js';

export interface RealmSuggestion {
  realm: string;
  /** Where the name comes from, in words. */
  from: string;
}

/** The realm the user likely meant, or undefined when nothing points at one. */
export async function meantRealm(input: DoctorInput, state: DoctorState): Promise<RealmSuggestion | undefined> {
  const { realm } = input.config;
  if (input.admin) {
    const meant = closestName(realm, await realmNames(input.admin));
    if (meant) return { realm: meant, from: 'the closest realm name at this Keycloak' };
  }
  const base = trimBase(input.config.keycloakUrl);
  for (const server of asStrings(state.prm?.document.authorization_servers) ?? []) {
    const named = server.startsWith(`${base}/realms/`) ? realmOf(server) : undefined;
    if (named && named !== realm && /^[\w.-]+$/.test(named))
      return { realm: named, from: `the realm the MCP server's metadata names (${printable(server, 200)})` };
  }
  return undefined;
}

/** "Did you mean realm X (from …)? Run `doctor --realm X`; to create "typo" instead: …" */
export function suggestionFix(input: DoctorInput, suggestion: RealmSuggestion, create: string): string {
  return `Did you mean realm "${suggestion.realm}" (${suggestion.from})? Run \`${command(`doctor --realm ${suggestion.realm}`)}\` (and correct --realm / the config file). To create realm "${input.config.realm}" instead: \`${create}\`.`;
}

/**
 * The fix of a check that needs the admin API when nothing answers at the Keycloak URL: credentials are not
 * the cause then (a stopped local Keycloak keeps its password in the state file), so "set the password" would
 * send the user after the wrong thing.
 */
export const KEYCLOAK_FIRST = 'Make Keycloak answer first (keycloak.realm says how), then run doctor again.';
