/**
 * The plan for our client profiles and policies (CIMD, anonymous clients): ours created when missing, repaired where a key we
 * set differs (multi-valued settings compared as sets, only the keys we set), never anyone else's.
 * Pure, like plan.ts; the objects themselves are in cimd.ts.
 */
import type { ClientPolicyChange } from './change.js';
import {
  clientPolicyObjects,
  unique,
  type ClientPolicy,
  type ClientProfile,
  type ComponentConfig,
  type DesiredAnonymous,
  type DesiredCimd,
} from './cimd.js';

/** A config value as compared: lists as sorted sets (Keycloak keeps no order), scalars as strings. */
function normalized(value: unknown): string {
  if (Array.isArray(value)) return JSON.stringify(unique(value.map(String)));
  return JSON.stringify(value === undefined || value === null ? '' : String(value));
}

/** The configuration keys on which `live` differs from `wanted` (only the keys we set). */
export function configDrift(
  live: Record<string, unknown> | undefined,
  wanted: ComponentConfig,
): Array<{ field: string; from: unknown; to: unknown }> {
  return Object.entries(wanted)
    .filter(([key, value]) => normalized(live?.[key]) !== normalized(value))
    .map(([key, value]) => ({ field: key, from: live?.[key] ?? null, to: value }));
}

/** Field differences between a live profile and ours (executor by executor, in order). */
export function profileDrift(live: ClientProfile, wanted: ClientProfile) {
  const executors = live.executors ?? [];
  if (
    executors.length !== wanted.executors.length ||
    executors.some((e, i) => e.executor !== wanted.executors[i]!.executor)
  ) {
    return [
      { field: 'executors', from: executors.map((e) => e.executor), to: wanted.executors.map((e) => e.executor) },
    ];
  }
  return wanted.executors.flatMap((executor, i) =>
    configDrift(executors[i]!.configuration, executor.configuration).map((d) => ({
      ...d,
      field: `${executor.executor}.${d.field}`,
    })),
  );
}

/** Field differences between a live policy and ours. */
export function policyDrift(live: ClientPolicy, wanted: ClientPolicy) {
  const fields: Array<{ field: string; from: unknown; to: unknown }> = [];
  if (live.enabled !== wanted.enabled) fields.push({ field: 'enabled', from: live.enabled, to: wanted.enabled });
  if (normalized(live.profiles) !== normalized(wanted.profiles))
    fields.push({ field: 'profiles', from: live.profiles, to: wanted.profiles });
  const conditions = live.conditions ?? [];
  if (
    conditions.length !== wanted.conditions.length ||
    conditions.some((c, i) => c.condition !== wanted.conditions[i]!.condition)
  ) {
    fields.push({
      field: 'conditions',
      from: conditions.map((c) => c.condition),
      to: wanted.conditions.map((c) => c.condition),
    });
    return fields;
  }
  for (const [i, condition] of wanted.conditions.entries()) {
    fields.push(
      ...configDrift(conditions[i]!.configuration, condition.configuration).map((d) => ({
        ...d,
        field: `${condition.condition}.${d.field}`,
      })),
    );
  }
  return fields;
}

/** Ours created or repaired, profiles first (a policy names its profiles, which must exist). */
export function planCimd(
  desired: DesiredCimd | undefined,
  anonymous: DesiredAnonymous | undefined,
  liveProfiles: ClientProfile[] = [],
  livePolicies: ClientPolicy[] = [],
): ClientPolicyChange[] {
  const wanted = clientPolicyObjects(desired, anonymous);
  const changes: ClientPolicyChange[] = [];
  for (const profile of wanted.profiles) {
    const live = liveProfiles.find((p) => p.name === profile.name);
    if (!live)
      changes.push({ action: 'create', kind: 'client-profile', name: profile.name, fields: profileFields(profile) });
    else {
      const fields = profileDrift(live, profile);
      if (fields.length) changes.push({ action: 'update', kind: 'client-profile', name: profile.name, fields });
    }
  }
  for (const policy of wanted.policies) {
    const live = livePolicies.find((p) => p.name === policy.name);
    if (!live)
      changes.push({ action: 'create', kind: 'client-policy', name: policy.name, fields: policyFields(policy) });
    else {
      const fields = policyDrift(live, policy);
      if (fields.length) changes.push({ action: 'update', kind: 'client-policy', name: policy.name, fields });
    }
  }
  return changes;
}

const profileFields = (profile: ClientProfile) =>
  profile.executors.flatMap((e) =>
    Object.entries(e.configuration).map(([key, to]) => ({ field: `${e.executor}.${key}`, from: null, to })),
  );
const policyFields = (policy: ClientPolicy) => [
  { field: 'profiles', from: null, to: policy.profiles },
  ...policy.conditions.flatMap((c) =>
    Object.entries(c.configuration).map(([key, to]) => ({ field: `${c.condition}.${key}`, from: null, to })),
  ),
];
