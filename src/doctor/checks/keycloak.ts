/**
 * Keycloak as this setup names it (--keycloak-url + --realm): does the realm's discovery document answer,
 * and with which issuer? Every later comparison (PRM, token `iss`) is against that issuer, so when it
 * cannot be read, this finding says why before the others report mismatches.
 */
import { fail, pass } from '../../findings.js';
import { applyCommand } from '../fixes.js';
import type { Check, DoctorInput } from '../types.js';

export const keycloakCheck: Check = {
  id: 'keycloak',
  title: 'Reading the realm from Keycloak',
  async run(input) {
    const title = `Realm ${input.config.realm} answers at ${input.config.keycloakUrl}`;
    if (!input.keycloakProblem) return [pass('keycloak.realm', title, { actual: `issuer ${input.expectedIssuer}` })];
    return [
      fail('keycloak.realm', title, {
        expected: `${input.expectedIssuer}/.well-known/openid-configuration`,
        actual: input.keycloakProblem,
        why: 'Issuer and keys are read from here; the comparisons below use the computed issuer instead and may point at this problem rather than at the server.',
        fix: fixFor(input),
      }),
    ];
  },
};

/** Another server at the URL is fixed by the URL; a missing realm by apply (or --realm); otherwise either. */
function fixFor(input: DoctorInput): string {
  switch (input.keycloakProblemKind) {
    case 'not-keycloak':
      return `Correct --keycloak-url / KEYCLOAK_URL: ${input.config.keycloakUrl} is another server; it must be Keycloak's base URL (e.g. http://127.0.0.1:8080, or …/auth for a legacy Keycloak).`;
    case 'realm-missing':
      return `Create the realm with \`${applyCommand(input)}\`, or check --realm.`;
    default:
      return `Check --keycloak-url / KEYCLOAK_URL and --realm (\`${applyCommand(input)}\` creates the realm).`;
  }
}
