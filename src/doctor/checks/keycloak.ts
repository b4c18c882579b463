/**
 * Keycloak as this setup names it (--keycloak-url + --realm): does the realm's discovery document answer,
 * and with which issuer? Every later comparison (PRM, token `iss`) is against that issuer, so when it
 * cannot be read, this finding says why before the others report mismatches.
 */
import { fail, pass } from '../../findings.js';
import { applyCommand } from '../fixes.js';
import { meantRealm, suggestionFix } from '../keycloak-hints.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';

export const keycloakCheck: Check = {
  id: 'keycloak',
  title: 'Reading the realm from Keycloak',
  async run(input, state) {
    const title = `Realm ${input.config.realm} answers at ${input.config.keycloakUrl}`;
    if (!input.keycloakProblem) return [pass('keycloak.realm', title, { actual: `issuer ${input.expectedIssuer}` })];
    return [
      fail('keycloak.realm', title, {
        expected: `${input.expectedIssuer}/.well-known/openid-configuration`,
        actual: input.keycloakProblem,
        why: 'Issuer and keys are read from here; the comparisons below use the computed issuer instead and may point at this problem rather than at the server.',
        fix: await fixFor(input, state),
      }),
    ];
  },
};

/**
 * Another server at the URL is fixed by the URL; nothing at the URL by starting Keycloak; a missing realm by
 * the realm the user meant (a typo of an existing one, or the one the MCP server names), else by apply.
 */
async function fixFor(input: DoctorInput, state: DoctorState): Promise<string> {
  switch (input.keycloakProblemKind) {
    case 'not-keycloak':
      return `Correct --keycloak-url / KEYCLOAK_URL: ${input.config.keycloakUrl} is another server; it must be Keycloak's base URL (e.g. http://127.0.0.1:8080, or …/auth for a legacy Keycloak).`;
    case 'unreachable': {
      const fix = input.keycloakProblemFix ?? 'Check --keycloak-url / KEYCLOAK_URL.';
      return `${fix.charAt(0).toUpperCase()}${fix.slice(1)}`;
    }
    case 'realm-missing': {
      const suggestion = await meantRealm(input, state);
      if (suggestion) return suggestionFix(input, suggestion, applyCommand(input));
      return `Create the realm with \`${applyCommand(input)}\`, or check --realm.`;
    }
    default:
      return `Check --keycloak-url / KEYCLOAK_URL and --realm (\`${applyCommand(input)}\` creates the realm).`;
  }
}
