/**
 * The Keycloak version behind an admin session (GET /admin/serverinfo, systemInfo.version), read only
 * when the desired state holds something a version may not support: a read costs a request, and a
 * no-op apply of the default configuration stays at its floor. Then, before anything is written, a
 * setting the version cannot hold is refused in one sentence naming the version and the fix.
 */
import { CliError, ExitCode } from '../errors.js';
import type { DesiredRealm } from './desired.js';
import type { Plan } from './plan.js';
import type { ServerInfoRepresentation } from '@keycloak/keycloak-admin-client/lib/defs/serverInfoRepesentation.js';
import { cimdRefusal, clientPolicyProviders, grantExecutorsOf, refuseCimd, refuseDpop } from './server-features.js';
import { CIMD_EXECUTOR, newerExecutorOptions, type DesiredAnonymous } from './cimd.js';
import type { AdminSession } from '../keycloak/session.js';
import { olderThan, versionDifference, versionParts } from '../keycloak/versions.js';

/** Version differences that make apply refuse a desired setting (rather than write what Keycloak rejects). */
const REFUSALS: ReadonlyArray<{ id: string; wanted: (desired: DesiredRealm) => boolean; setting: string }> = [
  {
    id: 'registration-web-origins-policy',
    wanted: (desired) => Boolean(desired.dcr.webOrigins?.length),
    setting: 'dcr.webOrigins (--web-origin)',
  },
];

/** Whether applying `desired` depends on the Keycloak version (so it is worth a serverinfo read). */
export function versionSensitive(desired: DesiredRealm): boolean {
  return REFUSALS.some((refusal) => refusal.wanted(desired));
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

/**
 * Throws the refusal (exit code 1) when `desired` needs a newer Keycloak or a feature it runs without;
 * reads serverinfo (one request) only when that matters: web origins, CIMD. Having read it, it also narrows the
 * anonymous-clients profile to this server (`narrowAnonymous`).
 */
export async function refuseWhatTheVersionCannotHold(session: AdminSession, desired: DesiredRealm): Promise<void> {
  if (!versionSensitive(desired) && !desired.cimd) return;
  // A raw read: loading the admin client for it would double a no-op apply's time (measured).
  const info =
    (await session.readAdmin<ServerInfoRepresentation>(
      'serverinfo',
      'reading what this Keycloak supports (GET /admin/serverinfo)',
    )) ?? {};
  const refusal = versionRefusal(desired, info.systemInfo?.version ?? 'unknown');
  if (refusal) throw new CliError(refusal, ExitCode.failure);
  // The restart command is worked out only when there is something to refuse.
  if (desired.cimd) {
    const declared = clientPolicyProviders(info).get(CIMD_EXECUTOR);
    desired.cimd.serverOptions = newerExecutorOptions(
      declared,
      desired.resourceClients.map((client) => client.url),
    );
  }
  if (desired.cimd && cimdRefusal(info, session.baseUrl))
    refuseCimd(info, session.baseUrl, await localRestartCommand(session.baseUrl, ['cimd']));
  if (desired.anonymous) narrowAnonymous(desired.anonymous, info, session.baseUrl);
}

/** Narrows the profile's grant executors to those the server declares, and refuses --require-dpop without its executor. */
function narrowAnonymous(anonymous: DesiredAnonymous, info: ServerInfoRepresentation, keycloakUrl: string): void {
  anonymous.grantExecutors = grantExecutorsOf(info);
  if (anonymous.dpop) refuseDpop(info, keycloakUrl);
  anonymous.narrowed = true;
}

/**
 * Before our anonymous-clients profile is written: reads serverinfo (one request) unless it was read already,
 * narrows the profile to the executors this server has, and refuses --require-dpop on a server without DPoP.
 * True when it narrowed (the plan must be made again). A plan that writes no client profile costs nothing here.
 */
export async function narrowToServer(session: AdminSession, desired: DesiredRealm, plan: Plan): Promise<boolean> {
  const anonymous = desired.anonymous;
  if (!anonymous || anonymous.narrowed) return false;
  if (!plan.changes.some((change) => change.kind === 'client-profile')) return false;
  const info =
    (await session.readAdmin<ServerInfoRepresentation>(
      'serverinfo',
      'reading what this Keycloak supports (GET /admin/serverinfo)',
    )) ?? {};
  narrowAnonymous(anonymous, info, session.baseUrl);
  return true;
}

/** The command that restarts the Keycloak `keycloak start` runs at `url` with `features` added; undefined for any other Keycloak. */
export async function localRestartCommand(url: string, features: string[]): Promise<string | undefined> {
  const { localStatus } = await import('../local/local-keycloak.js');
  const { portOf, isLoopbackUrl } = await import('../addresses.js');
  if (!isLoopbackUrl(url)) return undefined;
  const { state, running } = await localStatus();
  if (!state || !running || state.port !== portOf(url)) return undefined;
  const { restartWithFeaturesCommand } = await import('../local/features.js');
  return restartWithFeaturesCommand(state, features);
}
