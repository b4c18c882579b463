/**
 * What doctor may use at the configured Keycloak: the admin login (`keycloak.admin`: credentials given and
 * refused are a failure, not a skip) and where Keycloak says its endpoints are (`keycloak.origin`: the
 * password, tokens and registration probes go only to the configured origin, src/doctor/trust.ts).
 */
import { fail, pass, type Finding } from '../../findings.js';
import { keycloakOrigin } from '../trust.js';
import { ADMIN_LOGIN_ID, adminLoginFailed } from '../verdicts.js';
import type { Check, DoctorInput } from '../types.js';

/** keycloak.origin, only when Keycloak's issuer is on another origin than the one the user configured. */
function issuerOriginFinding(input: DoctorInput): Finding | undefined {
  if (input.keycloakProblem) return undefined; // keycloak.realm already says the issuer could not be read
  const configured = keycloakOrigin(input.config);
  const announced = new URL(input.expectedIssuer).origin;
  if (announced === configured) return undefined;
  return fail('keycloak.origin', 'Keycloak announces its endpoints on the configured origin', {
    expected: `issuer on ${configured}`,
    actual: `issuer ${input.expectedIssuer}`,
    why: `Keycloak's hostname (KC_HOSTNAME or the realm's frontend URL) puts its endpoints on ${announced}; doctor sends the test user's password, tokens and registration probes only to the origin you configured, so those checks did not run.`,
    fix: `If ${announced} is this Keycloak, run doctor with --keycloak-url ${announced} (or KEYCLOAK_URL).`,
  });
}

export const accessCheck: Check = {
  id: 'keycloak.access',
  title: 'Checking the admin login and Keycloak\u2019s origin',
  run(input) {
    const findings: Finding[] = [];
    const origin = issuerOriginFinding(input);
    if (origin) findings.push(origin);
    const failed = adminLoginFailed(input);
    if (failed) findings.push(failed);
    else if (input.admin)
      findings.push(pass(ADMIN_LOGIN_ID, 'Admin credentials work', { actual: `logged in at ${input.admin.baseUrl}` }));
    // Nothing to wait for: both findings come from what doctorInput already established.
    return Promise.resolve(findings);
  },
};
