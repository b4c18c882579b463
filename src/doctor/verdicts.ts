/**
 * Green means tried: when a doctor check may be skipped and when it fails, decided here for every check
 * (docs/commands/doctor.md, "Skipped, not run, failed").
 *
 * - skip: the user gave no means to run it: no admin credentials, no token or test user, no --e2e, a
 *   feature the setup does not use. The skip says what to give.
 * - not run (a skip with `blockedBy`): another finding explains why it must not run: admin credentials
 *   that failed (`keycloak.admin`), an authorization server on another origin than the configured
 *   Keycloak (`prm.authorization_servers`, `keycloak.origin`; src/doctor/trust.ts).
 * - fail: the user gave the means and it did not work: admin credentials Keycloak rejected or an admin API
 *   that did not answer (`keycloak.admin`, reported once), `--e2e` without a test user or its password, a
 *   probe whose clean-up left a client behind (named, so it can be deleted).
 */
import { SECRET_ENV } from '../config/secrets.js';
import { blocked, fail, skip, type Finding } from '../findings.js';
import type { DoctorInput } from './types.js';
import { KEYCLOAK_FIRST } from './keycloak-hints.js';

/** The id of the finding that reports admin credentials given and not working. */
export const ADMIN_LOGIN_ID = 'keycloak.admin';

const SET_ADMIN = `Set ${SECRET_ENV.adminPassword} (or KEYCLOAK_ADMIN_CLIENT_ID/${SECRET_ENV.adminClientSecret})`;

/**
 * The finding of a check that needs the admin API when there is no admin session: skipped when no
 * credentials were given (`toDo` completes "Set KEYCLOAK_ADMIN_PASSWORD … to …"), not run because of
 * keycloak.admin when they were given and failed.
 */
export function withoutAdmin(input: DoctorInput, id: string, title: string, toDo: string): Finding {
  return (
    blockedByAdminLogin(input, id, title) ??
    skip(
      id,
      title,
      input.adminMissing ?? 'no admin credentials',
      // The first real cause: with nothing at the URL, credentials are not what is missing.
      input.keycloakProblemKind === 'unreachable' ? KEYCLOAK_FIRST : `${SET_ADMIN} to ${toDo}.`,
    )
  );
}

/** Not run because of keycloak.admin, when admin credentials were given and failed; undefined otherwise. */
export function blockedByAdminLogin(input: DoctorInput, id: string, title: string): Finding | undefined {
  if (!input.adminFailed) return undefined;
  return blocked(id, title, ADMIN_LOGIN_ID, 'not run: the admin credentials given did not work (see keycloak.admin)');
}

/** keycloak.admin: only when credentials were given; they failed, which is a failure, not a skip. */
export function adminLoginFailed(input: DoctorInput): Finding | undefined {
  if (!input.adminFailed) return undefined;
  return fail(ADMIN_LOGIN_ID, 'Admin credentials work', {
    expected: `an admin API login at ${input.config.keycloakUrl}`,
    actual: input.adminFailed,
    why: 'Admin credentials were given, so the realm audit, the Keycloak version and the probes that clean up through the admin API were meant to run; none of them did.',
    fix: `Correct what the line above names (plan and apply fail with the same line): the credentials when Keycloak rejected them, --keycloak-url or Keycloak's health when it did not answer; or unset ${SECRET_ENV.adminPassword} and ${SECRET_ENV.adminClientSecret} to run doctor without the admin checks.`,
  });
}

/** A probe that worked but left its client in the realm: a failure naming the client, so it can be deleted. */
export function cleanupFailed(id: string, title: string, probe: string, leftover: string): Finding {
  return fail(id, title, {
    expected: `${probe}, then its temporary client deleted`,
    actual: `${probe}, but ${leftover}`,
    why: 'doctor must leave nothing behind in the realm; each leftover client also counts against Max Clients.',
    fix: `Delete the client named above (admin console: Clients), then run doctor again.`,
  });
}
