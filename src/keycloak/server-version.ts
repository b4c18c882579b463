/**
 * The Keycloak version behind an admin session (GET /admin/serverinfo, systemInfo.version), read only
 * when the desired state holds something a version may not support: a read costs a request, and a
 * no-op apply of the default configuration stays at its floor. Then, before anything is written, a
 * setting the version cannot hold is refused in one sentence naming the version and the fix.
 */
import { CliError, ExitCode } from '../errors.js';
import type { DesiredRealm } from '../realm/desired.js';
import { keycloakCall } from './errors.js';
import type { AdminSession } from './session.js';
import { olderThan, versionDifference, versionParts } from './versions.js';

/** Version differences that make apply refuse a desired setting (rather than write what Keycloak rejects). */
const REFUSALS: ReadonlyArray<{ id: string; wanted: (desired: DesiredRealm) => boolean; setting: string }> = [
  { id: 'registration-web-origins-policy', wanted: (desired) => Boolean(desired.dcr.webOrigins?.length), setting: 'dcr.webOrigins (--web-origin)' },
];

/** Whether applying `desired` depends on the Keycloak version (so it is worth a serverinfo read). */
export function versionSensitive(desired: DesiredRealm): boolean {
  return REFUSALS.some((refusal) => refusal.wanted(desired));
}

/** The version Keycloak reports (e.g. "26.7.3"): one request. */
export async function readServerVersion(session: AdminSession): Promise<string> {
  const info = await keycloakCall(() => session.client.serverInfo.find(), undefined, 'reading the Keycloak version (GET /admin/serverinfo)');
  return info.systemInfo?.version ?? 'unknown';
}

/**
 * The refusal for `desired` on Keycloak `version`, or undefined when the version can hold it all. A
 * version that cannot be read is not refused: Keycloak itself then has the last word.
 */
export function versionRefusal(desired: DesiredRealm, version: string): string | undefined {
  if (!versionParts(version)) return undefined;
  for (const refusal of REFUSALS) {
    const row = versionDifference(refusal.id);
    if (refusal.wanted(desired) && olderThan(version, row.fixedIn)) {
      return `Keycloak ${version} cannot hold ${refusal.setting}: it has ${row.what}; ${row.fix}. Nothing was changed.`;
    }
  }
  return undefined;
}

/** Throws the refusal (exit code 1) when `desired` needs a newer Keycloak; reads the version only when it matters. */
export async function refuseWhatTheVersionCannotHold(session: AdminSession, desired: DesiredRealm): Promise<void> {
  if (!versionSensitive(desired)) return;
  const refusal = versionRefusal(desired, await readServerVersion(session));
  if (refusal) throw new CliError(refusal, ExitCode.failure);
}
