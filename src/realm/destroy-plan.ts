/**
 * What `destroy` removes: exactly what `apply` put in place for this configuration, computed from the
 * config and the live realm (pure `planDestroy`), or the whole realm. Reverting a registration policy
 * honestly means going back to Keycloak's own default for a new realm, since the value before `apply`
 * was not recorded; the plan says so.
 */
import { rm } from 'node:fs/promises';
import { keycloakCall } from '../keycloak/errors.js';
import { CIMD_NAMES } from './cimd.js';
import type { AdminSession } from '../keycloak/session.js';
import type { Config } from '../config/schema.js';
import {
  CREATED_BY_ATTRIBUTE,
  DEFAULT_TRUSTED_HOSTS,
  POLICY_NAME,
  POLICY_TYPE,
  PROVIDER,
  desiredRealm,
} from './desired.js';
import { readLiveRealm, type LiveRealm } from './live.js';
import { configValues } from './plan.js';

export interface Removal {
  action: 'delete' | 'update' | 'create';
  kind:
    | 'realm'
    | 'test-user'
    | 'client-scope'
    | 'resource-client'
    | 'machine-client'
    | 'registration-policy'
    | 'client-policy'
    | 'client-profile';
  name: string;
  id?: string;
  /** One sentence for people. */
  detail: string;
  /** For policy updates: the config to set. */
  config?: Record<string, string[]>;
  /** For a machine client: its credentials file, removed with it. */
  file?: string;
}

/** Pure: the removals that undo `apply` for `config` in `live` (or the whole realm); none when the realm does not exist. */
export function planDestroy(config: Config, live: LiveRealm, wholeRealm: boolean): Removal[] {
  if (!live.exists) return [];
  if (wholeRealm)
    return [
      {
        action: 'delete',
        kind: 'realm',
        name: config.realm,
        detail: 'the realm and everything in it (users, clients, sessions)',
      },
    ];
  const removals: Removal[] = [];
  const user = live.testUser?.user;
  if (config.testUser && user?.id)
    removals.push({ action: 'delete', kind: 'test-user', name: user.username!, id: user.id, detail: 'the test user' });
  const scopes = desiredRealm(config).scopes;
  const ours = scopes.map((scope) => scope.name);
  for (const { name, optional } of scopes) {
    const scope = live.scopes.get(name);
    // A step-up scope sits among the optional scopes, the resource's own among the defaults.
    const place = optional
      ? 'its place among the optional scopes (a step-up scope)'
      : 'its place among the default scopes';
    if (scope)
      removals.push({
        action: 'delete',
        kind: 'client-scope',
        name,
        id: scope.id,
        detail: `with its audience mapper and ${place}`,
      });
  }
  for (const [url, client] of live.resourceClients) {
    if (!client.id) continue;
    // One the user made (apply only set its resource_url) is theirs: it stays, resource_url and all.
    if (client.attributes?.[CREATED_BY_ATTRIBUTE] !== 'true') continue;
    removals.push({
      action: 'delete',
      kind: 'resource-client',
      name: url,
      id: client.id,
      detail: 'the resource client (clientId and resource_url = the MCP URL)',
    });
  }
  for (const machine of desiredRealm(config).machineClients ?? []) {
    const client = live.machineClients?.get(machine.clientId)?.client;
    // As for resource clients: one the user made keeps existing (apply only set the settings it needs).
    if (!client?.id || client.attributes?.[CREATED_BY_ATTRIBUTE] !== 'true') continue;
    removals.push({
      action: 'delete',
      kind: 'machine-client',
      name: machine.clientId,
      id: client.id,
      detail: `the machine client, its service account and its credentials file ${machine.credentialsFile}`,
      file: machine.credentialsFile,
    });
  }
  removals.push(...clientPolicyRemovals(live));
  if (config.dcr.mode === 'off') return removals;
  for (const policy of live.anonymousPolicies.filter((p) => p.providerId === PROVIDER.allowedScopes)) {
    const current = configValues(policy, 'allowed-client-scopes');
    const kept = current.filter((name) => !ours.includes(name));
    if (kept.length !== current.length) {
      removals.push({
        action: 'update',
        kind: 'registration-policy',
        name: policy.name ?? POLICY_NAME[PROVIDER.allowedScopes],
        id: policy.id!,
        detail: `allowed-client-scopes without ${ours.join(', ')}`,
        config: { ...(policy.config as Record<string, string[]>), 'allowed-client-scopes': kept },
      });
    }
  }
  const trusted = live.anonymousPolicies.filter((p) => p.providerId === PROVIDER.trustedHosts);
  if (trusted.length === 0) {
    removals.push({
      action: 'create',
      kind: 'registration-policy',
      name: POLICY_NAME[PROVIDER.trustedHosts],
      detail: "Keycloak's default for a new realm (no trusted host: anonymous registration closed)",
      config: DEFAULT_TRUSTED_HOSTS,
    });
  } else if (config.dcr.mode === 'trusted-hosts') {
    for (const policy of trusted) {
      if (configValues(policy, 'trusted-hosts').length === 0) continue;
      removals.push({
        action: 'update',
        kind: 'registration-policy',
        name: policy.name ?? POLICY_NAME[PROVIDER.trustedHosts],
        id: policy.id!,
        detail: "back to Keycloak's default: no trusted host (the hosts before apply were not recorded)",
        config: { ...(policy.config as Record<string, string[]>), ...DEFAULT_TRUSTED_HOSTS },
      });
    }
  }
  if (config.dcr.webOrigins) {
    for (const policy of live.anonymousPolicies.filter((p) => p.providerId === PROVIDER.webOrigins)) {
      if (configValues(policy, 'web-origins').length === 0) continue;
      removals.push({
        action: 'update',
        kind: 'registration-policy',
        name: policy.name ?? POLICY_NAME[PROVIDER.webOrigins],
        id: policy.id!,
        detail: "web-origins back to Keycloak's default (none)",
        config: { ...(policy.config as Record<string, string[]>), 'web-origins': [] },
      });
    }
  }
  return removals;
}

const OUR_POLICIES: readonly string[] = [CIMD_NAMES.policy, CIMD_NAMES.pkcePolicy];
const OUR_PROFILES: readonly string[] = [CIMD_NAMES.profile, CIMD_NAMES.pkceProfile];

/**
 * Ours, found by name, whether or not this config still asks for CIMD: policies first (they name the
 * profiles). A policy of the user's that names one of our profiles loses that name before the profile
 * goes: Keycloak deletes a profile a policy still names, and then refuses (400) every later save of the
 * realm's policies, the admin console's included. The user's policy itself stays, even with no profile left.
 */
function clientPolicyRemovals(live: LiveRealm): Removal[] {
  const removals: Removal[] = [];
  for (const policy of live.clientPolicies ?? []) {
    if (OUR_POLICIES.includes(policy.name)) {
      removals.push({
        action: 'delete',
        kind: 'client-policy',
        name: policy.name,
        detail: 'the client policy apply made',
      });
      continue;
    }
    const named = (policy.profiles ?? []).filter((name) => OUR_PROFILES.includes(name));
    const removed = named.filter((name) => live.clientProfiles?.some((profile) => profile.name === name));
    if (removed.length === 0) continue;
    removals.push({
      action: 'update',
      kind: 'client-policy',
      name: policy.name,
      detail: `your policy: profiles without ${removed.join(', ')}, which destroy removes (the policy stays${removed.length === (policy.profiles ?? []).length ? ', with no profile left' : ''})`,
    });
  }
  for (const profile of live.clientProfiles ?? []) {
    if (OUR_PROFILES.includes(profile.name))
      removals.push({
        action: 'delete',
        kind: 'client-profile',
        name: profile.name,
        detail: 'the client profile apply made',
      });
  }
  return removals;
}

/** The live realm as `planDestroy` needs it. */
export async function readForDestroy(session: AdminSession, config: Config): Promise<LiveRealm> {
  return readLiveRealm(session, desiredRealm(config), { clientPolicies: true });
}

/** Carries out one removal through the admin API; `realmId` is needed to create a registration policy. */
export async function executeRemoval(
  session: AdminSession,
  realm: string,
  realmId: string | undefined,
  removal: Removal,
): Promise<void> {
  const { client } = session;
  const call = <T>(fn: () => Promise<T>) =>
    keycloakCall(fn, undefined, `Could not ${removal.action} ${removal.kind} "${removal.name}"`);
  switch (removal.kind) {
    case 'realm':
      await call(() => client.realms.del({ realm }));
      return;
    case 'test-user':
      await call(() => client.users.del({ realm, id: removal.id! }));
      return;
    case 'client-scope':
      await call(() => client.clientScopes.del({ realm, id: removal.id! }));
      return;
    case 'client-policy': {
      // Keycloak keeps the list as one document: read it, leave ours out, write the rest back as it was.
      const { policies = [] } = await call(() =>
        client.clientPolicies.listPolicies({ realm, includeGlobalPolicies: false }),
      );
      // An update is a policy of the user's that names our profiles: only those names leave it.
      const written =
        removal.action === 'delete'
          ? policies.filter((p) => p.name !== removal.name)
          : policies.map((p) =>
              p.name === removal.name
                ? { ...p, profiles: (p.profiles ?? []).filter((name) => !OUR_PROFILES.includes(name)) }
                : p,
            );
      await call(() => client.clientPolicies.updatePolicy({ realm, policies: written }));
      return;
    }
    case 'client-profile': {
      const { profiles = [] } = await call(() =>
        client.clientPolicies.listProfiles({ realm, includeGlobalProfiles: false }),
      );
      await call(() =>
        client.clientPolicies.createProfiles({ realm, profiles: profiles.filter((p) => p.name !== removal.name) }),
      );
      return;
    }
    case 'resource-client':
      if (removal.action === 'delete') await call(() => client.clients.del({ realm, id: removal.id! }));
      return;
    case 'machine-client':
      await call(() => client.clients.del({ realm, id: removal.id! }));
      if (removal.file) await rm(removal.file, { force: true });
      return;
    case 'registration-policy':
      if (removal.action === 'create') {
        await call(() =>
          client.components.create({
            realm,
            name: removal.name,
            providerId: PROVIDER.trustedHosts,
            providerType: POLICY_TYPE,
            parentId: realmId!,
            subType: 'anonymous',
            config: removal.config!,
          }),
        );
      } else {
        const current = await call(() => client.components.findOne({ realm, id: removal.id! }));
        if (current)
          await call(() =>
            client.components.update({ realm, id: removal.id! }, { ...current, config: removal.config! }),
          );
      }
      return;
  }
}
