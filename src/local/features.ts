/**
 * Keycloak features (`kc.sh start-dev --features=cimd,resource-indicators`) for the local dev Keycloak
 * and the test harness: parsing a feature list from a flag or variable, comparing lists, the spelling
 * kc.sh uses for what GET /admin/serverinfo reports, and the command that restarts the local Keycloak
 * with the features a setting needs. Pure, apart from `command()`'s reading of how this program was run.
 */
import { printable } from '../config/rules.js';
import { UsageError } from '../errors.js';
import { command } from '../ui/invocation.js';
import { KEYCLOAK_VERSION } from './distribution.js';
import type { LocalKeycloakState } from './state.js';

/** A feature name as kc.sh takes it: letters, digits, `-`, `_`, and an optional version suffix (`token-exchange:v1`). */
const FEATURE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}(?::v[0-9]{1,3})?$/;

/** The experimental MCP features of Keycloak 26.6.0 and later (what the test harness turns on by default). */
export const MCP_FEATURES = ['cimd', 'resource-indicators'] as const;

/**
 * `value` as a feature list: comma-separated names (spaces around them allowed), duplicates dropped,
 * order kept; `none` (alone) is the empty list. Anything else is a one-line usage error naming `source` (the
 * flag or variable the value came from): the list ends up in kc.sh's argv.
 */
export function parseFeatures(value: string, source: string): string[] {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === 'none') return [];
  const names = trimmed.split(',').map((name) => name.trim());
  const bad = names.find((name) => !FEATURE.test(name));
  if (bad !== undefined) {
    const what = bad === '' ? 'an empty name' : JSON.stringify(printable(bad, 40));
    throw new UsageError(
      `${source} ${JSON.stringify(printable(value, 80))}: ${what} is not a Keycloak feature name; give comma-separated names of letters, digits, - and _ (optionally :v1), e.g. ${MCP_FEATURES.join(',')}, or none.`,
    );
  }
  // `none,cimd` is either "no features" or "cimd": which one was meant is a guess, and kc.sh has no feature called none.
  if (names.some((name) => name.toLowerCase() === 'none')) {
    throw new UsageError(
      `${source} ${JSON.stringify(printable(value, 80))}: none means no features and stands alone; give none, or the features without it.`,
    );
  }
  return [...new Set(names)];
}

/** Whether two feature lists turn on the same features (order and duplicates do not matter). */
export function sameFeatures(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = new Set(a ?? []);
  const right = new Set(b ?? []);
  return left.size === right.size && [...left].every((name) => right.has(name));
}

/** A feature list for people: `cimd, resource-indicators`, or `none`. */
export function describeFeatures(features: readonly string[] | undefined): string {
  return features?.length ? features.join(', ') : 'none';
}

/**
 * The kc.sh spelling of a feature as GET /admin/serverinfo names it: `CIMD` → `cimd`,
 * `RESOURCE_INDICATORS` → `resource-indicators`, `ADMIN_FINE_GRAINED_AUTHZ_V2` → `admin-fine-grained-authz:v2`.
 */
export function featureKey(serverInfoName: string): string {
  return serverInfoName
    .toLowerCase()
    .replace(/_v([0-9]+)$/, ':v$1')
    .replace(/_/g, '-');
}

/** The enabled features in `GET /admin/serverinfo`'s `features` array, in kc.sh spelling. */
export function enabledFeatures(features: readonly { name: string; enabled?: boolean }[] | undefined): string[] {
  return (features ?? []).filter((feature) => feature.enabled === true).map((feature) => featureKey(feature.name));
}

type StartFacts = Pick<LocalKeycloakState, 'port' | 'runtime' | 'version'> & {
  features?: readonly string[] | undefined;
};

/** The arguments of `keycloak start` that bring this Keycloak back: its port, runtime, version and features. */
export function startArguments(state: StartFacts): string {
  const port = state.port === 8080 ? '' : ` --port ${state.port}`;
  const version = state.version === KEYCLOAK_VERSION ? '' : ` --keycloak-version ${state.version}`;
  const features = state.features?.length ? ` --features ${state.features.join(',')}` : '';
  return `keycloak start${port} --runtime ${state.runtime}${version}${features}`;
}

/** `keycloak stop && keycloak start …` with exactly `features` (the rest of the start command from `state`). */
export function restartCommand(
  state: StartFacts,
  features: readonly string[],
  spell: (args: string) => string = command,
): string {
  return `${spell('keycloak stop')} && ${spell(startArguments({ ...state, features }))}`;
}

/**
 * The command that restarts the local Keycloak with the features it has plus `needed`, for errors such as
 * "realm setting X needs Keycloak started with --features=cimd". Without a recorded local Keycloak
 * (`state` undefined) it is the start command alone. `spell` is how commands are spelled (tests pass their own).
 */
export function restartWithFeaturesCommand(
  state: StartFacts | undefined,
  needed: readonly string[],
  spell: (args: string) => string = command,
): string {
  const features = [...new Set([...(state?.features ?? []), ...needed])];
  if (!state) return spell(`keycloak start${features.length ? ` --features ${features.join(',')}` : ''}`);
  return restartCommand(state, features, spell);
}
