/**
 * What a Keycloak's GET /admin/serverinfo says it can do, for settings that need an experimental
 * feature: CIMD needs `--features=cimd` (26.6+). The client-policy providers and the names of their
 * properties are read from the server, not assumed: apply writes only properties the server declares,
 * and a server without them is one sentence naming the flag it must be started with.
 */
import type { ServerInfoRepresentation } from '@keycloak/keycloak-admin-client/lib/defs/serverInfoRepesentation.js';
import { CliError, ExitCode } from '../errors.js';
import { enabledFeatures } from '../local/features.js';
import { CIMD_EXECUTOR, DPOP_EXECUTOR, GRANT_EXECUTOR_PROPERTY, GRANT_EXECUTORS, REQUIRED_PROPERTIES } from './cimd.js';

const EXECUTORS = 'org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider';
const CONDITIONS = 'org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider';

/** Each client-policy provider id the server has, with the names of its properties. */
export function clientPolicyProviders(info: ServerInfoRepresentation): Map<string, Set<string>> {
  const providers = new Map<string, Set<string>>();
  const types = (info.componentTypes ?? {}) as Record<
    string,
    Array<{ id: string; properties?: Array<{ name?: string }> }>
  >;
  for (const kind of [EXECUTORS, CONDITIONS]) {
    for (const provider of types[kind] ?? [])
      providers.set(provider.id, new Set((provider.properties ?? []).map((p) => p.name ?? '')));
  }
  return providers;
}

/** The grant executors (GRANT_EXECUTORS) this server declares with the property apply sets; others are left out. */
export function grantExecutorsOf(info: ServerInfoRepresentation): string[] {
  const providers = clientPolicyProviders(info);
  return GRANT_EXECUTORS.filter((id) => providers.get(id)?.has(GRANT_EXECUTOR_PROPERTY));
}

/** The enabled features, in kc.sh spelling (`cimd`, `resource-indicators`). */
export function serverFeatures(info: ServerInfoRepresentation): string[] {
  return enabledFeatures(info.features as Array<{ name: string; enabled?: boolean }> | undefined);
}

/**
 * Why CIMD cannot be set up on this server, or undefined when it can: the feature is off (or the version
 * predates it), or a provider lacks a property apply would write. `restart` is the command that
 * restarts a Keycloak `keycloak start` runs with the feature (undefined for someone else's Keycloak).
 */
export function cimdRefusal(info: ServerInfoRepresentation, keycloakUrl: string, restart?: string): string | undefined {
  const version = info.systemInfo?.version ?? 'unknown';
  const providers = clientPolicyProviders(info);
  if (!providers.has(CIMD_EXECUTOR) || !serverFeatures(info).includes('cimd')) {
    const how = restart
      ? `restart it with the feature: ${restart}`
      : 'start it with --features=cimd (kc.sh start --features=cimd, or KC_FEATURES=cimd; Keycloak 26.6 or later)';
    return `cimd (--cimd) needs Keycloak's experimental "cimd" feature, which the Keycloak ${version} at ${keycloakUrl} runs without: ${how}. Nothing was changed.`;
  }
  for (const [provider, names] of Object.entries(REQUIRED_PROPERTIES)) {
    const declared = providers.get(provider);
    const missing = names.filter((name) => !declared?.has(name));
    if (missing.length) {
      return (
        `Keycloak ${version} at ${keycloakUrl} has no ${missing.map((n) => `"${n}"`).join(', ')} on its "${provider}" client-policy provider ` +
        `(it declares: ${[...(declared ?? [])].join(', ') || 'no such provider'}), which --cimd sets: this version is not supported for CIMD; use Keycloak 26.7. Nothing was changed.`
      );
    }
  }
  return undefined;
}

/** `--dpop` needs the `dpop-bind-enforcer` executor with its `auto-configure` property (Keycloak 26.4+, DPoP supported). */
export function refuseDpop(info: ServerInfoRepresentation, keycloakUrl: string): void {
  const declared = clientPolicyProviders(info).get(DPOP_EXECUTOR);
  if (declared?.has('auto-configure')) return;
  const version = info.systemInfo?.version ?? 'unknown';
  throw new CliError(
    `dpop (--dpop) needs Keycloak's "${DPOP_EXECUTOR}" client policy executor, which the Keycloak ${version} at ${keycloakUrl} does not offer: use Keycloak 26.4 or later (DPoP is supported there without a feature flag). Nothing was changed.`,
    ExitCode.failure,
  );
}

/** Throws the refusal (exit code 1). */
export function refuseCimd(info: ServerInfoRepresentation, keycloakUrl: string, restart?: string): void {
  const refusal = cimdRefusal(info, keycloakUrl, restart);
  if (refusal) throw new CliError(refusal, ExitCode.failure);
}
