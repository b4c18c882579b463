/**
 * The registration-policy part of the plan (pure). Keycloak checks a registration against every
 * anonymous policy, so a provider apply manages must end with exactly one policy: a second copy (two
 * applies that created one at once, or one made by hand) is deleted, and the plan says it is a duplicate.
 * The copy with the lowest id is kept, a choice concurrent applies make alike. Multi-valued config is
 * compared as sets: Keycloak does not keep their order.
 */
import type ComponentRepresentation from '@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js';
import { byId } from './audience.js';
import type { FieldChange, RegistrationPolicyChange } from './change.js';
import { POLICY_NAME, PROVIDER, type DesiredRealm, type PolicyProvider } from './desired.js';
import type { LiveRealm } from './live.js';

/** Keycloak stores component config values as string arrays (a lone string in some old exports). */
export function configValues(component: ComponentRepresentation, key: string): string[] {
  const value = component.config?.[key] as string | string[] | undefined;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const sameSet = (a: string[], b: string[]) =>
  new Set(a).size === new Set(b).size && new Set([...a, ...b]).size === new Set(a).size;

/**
 * When the realm does not exist yet, Keycloak will create these anonymous policies with it (no ids
 * yet), as Keycloak 26.7.3 does: read back from a realm created through the admin API. Those apply
 * does not manage (Consent Required, Max Clients Limit…) are left out.
 */
function predictedPolicies(live: LiveRealm): ComponentRepresentation[] {
  if (live.exists) return live.anonymousPolicies;
  const anonymous = (providerId: PolicyProvider, config: Record<string, string[]>) => ({
    name: POLICY_NAME[providerId],
    providerId,
    subType: 'anonymous',
    config,
  });
  return [
    anonymous(PROVIDER.trustedHosts, {
      'host-sending-registration-request-must-match': ['true'],
      'client-uris-must-match': ['true'],
    }),
    anonymous(PROVIDER.allowedScopes, { 'allow-default-scopes': ['true'] }),
    anonymous(PROVIDER.webOrigins, {}),
  ];
}

const policyName = (policy: ComponentRepresentation, providerId: PolicyProvider) =>
  policy.name ?? POLICY_NAME[providerId];

function existing(
  action: 'update' | 'delete',
  policy: ComponentRepresentation,
  providerId: PolicyProvider,
  fields: FieldChange[],
  reason?: string,
): RegistrationPolicyChange {
  return {
    action,
    kind: 'registration-policy',
    name: policyName(policy, providerId),
    ...(policy.id === undefined ? {} : { id: policy.id }),
    providerId,
    fields,
    ...(reason ? { reason } : {}),
  };
}

/** Deletes every copy but `kept`, each with the reason. */
function deleteDuplicates(
  kept: ComponentRepresentation,
  duplicates: ComponentRepresentation[],
  providerId: PolicyProvider,
  key: string,
): RegistrationPolicyChange[] {
  const reason = `duplicate of "${policyName(kept, providerId)}"${kept.id ? ` ${kept.id}` : ''}, which apply keeps: Keycloak applies every copy`;
  return duplicates.map((policy) =>
    existing('delete', policy, providerId, [{ field: key, from: configValues(policy, key), to: null }], reason),
  );
}

/** The policy changes for `desired`; none in dcr mode `off`, where apply leaves registration alone. */
export function planPolicies(desired: DesiredRealm, live: LiveRealm): RegistrationPolicyChange[] {
  if (desired.dcr.mode === 'off') return [];
  const policies = predictedPolicies(live);
  const of = (providerId: PolicyProvider) => policies.filter((p) => p.providerId === providerId).sort(byId);
  const changes = planAllowedScopes(desired, of(PROVIDER.allowedScopes));
  const trusted = of(PROVIDER.trustedHosts);
  if (desired.dcr.mode === 'anonymous') {
    for (const policy of trusted) {
      changes.push(
        existing('delete', policy, PROVIDER.trustedHosts, [
          { field: 'trusted-hosts', from: configValues(policy, 'trusted-hosts'), to: null },
        ]),
      );
    }
  } else {
    changes.push(...planExactList(PROVIDER.trustedHosts, 'trusted-hosts', desired.dcr.trustedHosts, trusted));
  }
  if (desired.dcr.webOrigins)
    changes.push(...planExactList(PROVIDER.webOrigins, 'web-origins', desired.dcr.webOrigins, of(PROVIDER.webOrigins)));
  return changes;
}

/**
 * Allowed Client Scopes: our scopes must be allowed, and scopes allowed already are kept. With several
 * copies a registration had to pass each, so the kept one allows what they all allowed, plus ours.
 */
function planAllowedScopes(desired: DesiredRealm, policies: ComponentRepresentation[]): RegistrationPolicyChange[] {
  const [kept, ...duplicates] = policies;
  if (!kept) return [];
  const key = 'allowed-client-scopes';
  const current = configValues(kept, key);
  const common = current.filter((name) => duplicates.every((p) => configValues(p, key).includes(name)));
  const wanted = [...common, ...desired.scopes.map((s) => s.name).filter((name) => !common.includes(name))];
  const fields: FieldChange[] = [];
  if (!sameSet(current, wanted)) fields.push({ field: key, from: current, to: wanted });
  // Absent means on. Off, Keycloak refuses any registration that asks for a default scope too, such
  // as the SDK clients' `offline_access`, even when our scope is allowed.
  const allowDefaults = configValues(kept, 'allow-default-scopes');
  if (allowDefaults.length > 0 && allowDefaults[0] !== 'true')
    fields.push({ field: 'allow-default-scopes', from: allowDefaults, to: ['true'] });
  const narrowed =
    common.length < current.length ? 'keeps only the scopes every copy allowed: Keycloak required them all' : undefined;
  return [
    ...(fields.length ? [existing('update', kept, PROVIDER.allowedScopes, fields, narrowed)] : []),
    ...deleteDuplicates(kept, duplicates, PROVIDER.allowedScopes, key),
  ];
}

/** A policy whose one list must be exactly `wanted`: created if missing, copies beyond one deleted. */
function planExactList(
  providerId: PolicyProvider,
  key: string,
  wanted: string[],
  policies: ComponentRepresentation[],
): RegistrationPolicyChange[] {
  const [kept, ...duplicates] = policies;
  if (!kept)
    return [
      {
        action: 'create',
        kind: 'registration-policy',
        name: POLICY_NAME[providerId],
        providerId,
        fields: [{ field: key, from: null, to: wanted }],
      },
    ];
  const current = configValues(kept, key);
  return [
    ...(sameSet(current, wanted)
      ? []
      : [existing('update', kept, providerId, [{ field: key, from: current, to: wanted }])]),
    ...deleteDuplicates(kept, duplicates, providerId, key),
  ];
}
