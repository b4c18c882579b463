/**
 * Check 4: the realm seen through the admin API. It reuses `readLiveRealm` and `planRealm`, the same
 * reading and the same diff `plan`/`apply` use, so doctor and apply never disagree about what is wrong,
 * and every finding marked `fixable` is exactly a change `doctor --fix` (= apply) makes.
 */
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { AUDIENCE_MAPPER_TYPE, audienceMapperDrift, isGoodAudienceMapper } from '../../realm/audience.js';
import { AUDIENCE_MAPPER_NAME, desiredRealm, type DesiredScope } from '../../realm/desired.js';
import { readLiveRealm, type LiveRealm } from '../../realm/live.js';
import { planRealm, type Change } from '../../realm/plan.js';
import { applyCommand } from '../fixes.js';
import { SECRET_ENV } from '../../config/secrets.js';
import { fail, pass, warn, type Finding } from '../../findings.js';
import { explainUrlDifference } from '../url-diff.js';
import { withoutAdmin } from '../verdicts.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';
import {
  cimdAdvertisedFinding,
  cimdFeatureFix,
  cimdFinding,
  resourceClientFindings,
  resourceClientId,
} from './realm-2026.js';
import { anonymousClientsFinding, maxClientsFinding, policyFindings } from './realm-registration.js';
import { meantRealm, suggestionFix } from '../keycloak-hints.js';
import { isolatedPlacement, oneTokenPerServerFinding } from './realm-isolation.js';
import { placeScopes } from '../../realm/isolation.js';

const TITLE = 'Realm audit (admin API)';

/**
 * The ids of one scope's findings. The first server's first scope (the one most setups have alone) keeps
 * the bare, documented ids; every other scope's ids end in `:<scope>`, so that adding a server or a
 * step-up scope never renames a check. A step-up scope is checked as optional (`realm.optional_scope`).
 */
function scopeCheckIds(scope: Pick<DesiredScope, 'name' | 'optional'>, primary: string) {
  const suffix = scope.name === primary ? '' : `:${scope.name}`;
  return {
    exists: `realm.scope.exists${suffix}`,
    include: `realm.scope.include_in_token_scope${suffix}`,
    audience: `realm.audience${suffix}`,
    placement: `${scope.optional ? 'realm.optional_scope' : 'realm.default_scope'}${suffix}`,
  };
}

/** Every id the realm audit reports for this configuration, in order: what is skipped without admin credentials. */
function realmCheckIds(input: DoctorInput, state: DoctorState): string[] {
  const { config } = input;
  const primary = input.resource.scopes[0]!;
  const scopeIds = desiredRealm(config).scopes.flatMap((scope) => Object.values(scopeCheckIds(scope, primary)));
  const resourceIds = config.resources.map((_, i) => resourceClientId(i));
  return [
    'realm.exists',
    ...scopeIds,
    'realm.one_token_per_server',
    'realm.allowed_client_scopes',
    'realm.trusted_hosts',
    'realm.web_origins',
    'realm.max_clients',
    ...resourceIds,
    // realm.cimd also speaks of a realm without cimd in the config when Keycloak advertises CIMD (the metadata tells without admin credentials).
    ...(config.cimd?.enabled || state.asMetadata?.document.client_id_metadata_document_supported === true
      ? ['realm.cimd']
      : []),
    ...(config.dcr.mode !== 'off' && !config.cimd?.enabled ? ['realm.anonymous_clients'] : []),
    ...(config.testUser ? ['realm.test_user'] : []),
  ];
}

/**
 * realm.exists when the realm is missing or disabled: `--fix` (apply) creates or enables it, except when the
 * name is likely a typo of another realm's (a new realm is then the wrong repair): the fix asks which.
 */
async function realmMissing(input: DoctorInput, state: DoctorState, exists: boolean, fix: string): Promise<Finding> {
  const missing = fail('realm.exists', `Realm ${input.config.realm} exists and is enabled`, {
    expected: 'an enabled realm',
    actual: exists ? 'disabled' : 'no such realm',
    why: 'Every other piece (scope, audience, registration) lives in the realm.',
  });
  const suggestion = exists ? undefined : await meantRealm(input, state);
  if (suggestion) return { ...missing, fix: suggestionFix(input, suggestion, fix) };
  return { ...missing, fix, fixable: true };
}

export const realmCheck: Check = {
  id: 'realm',
  title: 'Auditing the realm through the admin API',
  async run(input, state) {
    if (!input.admin) return realmCheckIds(input, state).map((id) => withoutAdmin(input, id, TITLE, 'audit the realm'));
    const desired = desiredRealm(input.config, input.secrets.testUserPassword);
    // With the cimd feature on, the realm's client policies tell whether CIMD clients can sign in here at all.
    const live = await readLiveRealm(input.admin, desired, {
      clientPolicies: Boolean(state.server?.features.includes('cimd')),
    });
    const plan = planRealm(desired, live, input.admin.baseUrl);
    const fix = applyCommand(input);
    const fixed = (f: Finding): Finding => ({ ...f, fix, fixable: true });
    const realm = input.config.realm;

    if (!live.exists || !live.enabled) return [await realmMissing(input, state, live.exists, fix)];
    const findings: Finding[] = [pass('realm.exists', `Realm ${realm} exists and is enabled`, { actual: live.id! })];
    const primary = input.resource.scopes[0]!;
    for (const scope of placeScopes(desired, live)) {
      findings.push(
        ...scopeFindings(scope, scopeCheckIds(scope, primary), live, plan.changes).map((f) =>
          f.status === 'fail' || f.fixable ? fixed(f) : f,
        ),
      );
    }
    const isolation = oneTokenPerServerFinding(desired, live);
    findings.push(isolation.status === 'fail' ? fixed(isolation) : isolation);
    findings.push(...policyFindings(input, live, plan.changes).map((f) => (f.fixable ? { ...f, fix } : f)));
    findings.push(await maxClientsFinding(input, state, live));
    findings.push(
      ...resourceClientFindings(input, plan.changes, state.server?.features).map((f) =>
        f.status === 'pass' ? f : fixed(f),
      ),
    );
    if (desired.cimd) {
      const cimd = cimdFinding(plan.changes, desired.cimd.clientIdDomains, state.server?.features);
      // Without the feature apply --cimd is refused, so the fix starts with the restart (not --fix-able).
      findings.push(
        cimd.status === 'pass'
          ? cimd
          : cimd.fixable === false
            ? { ...cimd, fix: await cimdFeatureFix(input.admin.baseUrl, fix) }
            : fixed(cimd),
      );
    } else if (state.server?.features.includes('cimd')) {
      findings.push(cimdAdvertisedFinding(live, applyCommand(input, ['--cimd'])));
    }
    if (desired.anonymous && !desired.cimd) {
      const anonymous = anonymousClientsFinding(plan.changes, desired.anonymous.dpop);
      findings.push(anonymous.status === 'pass' ? anonymous : fixed(anonymous));
    }
    const user = plan.changes.find((c) => c.kind === 'test-user');
    if (input.config.testUser) {
      const name = input.config.testUser.username;
      findings.push(
        user
          ? {
              ...fail('realm.test_user', `Test user ${name} can sign in`, {
                expected: 'an enabled user with a working password and a complete profile',
                actual:
                  user.action === 'create'
                    ? 'no such user'
                    : user.fields.map((f) => f.field).join(', ') + ' need changes',
                why: 'Keycloak refuses logins with "Account is not fully set up" or a wrong password.',
              }),
              // apply touches the test user only when told its name (a --test-user given to doctor is not in the config file).
              fix: `${applyCommand(input, ['--test-user', name])} (password from ${SECRET_ENV.testUserPassword})`,
              fixable: true,
            }
          : pass('realm.test_user', `Test user ${name} can sign in`),
      );
    }
    return findings;
  },
};

function scopeFindings(
  scope: DesiredScope,
  ids: ReturnType<typeof scopeCheckIds>,
  live: LiveRealm,
  changes: Change[],
): Finding[] {
  const liveScope = live.scopes.get(scope.name);
  const defaults = scope.optional
    ? stepUpPlacement(ids.placement, scope, live)
    : scope.isolated
      ? isolatedPlacement(ids.placement, scope.name, live)
      : !live.defaultScopes.has(scope.name)
        ? fail(ids.placement, `${scope.name} is a realm default scope`, {
            expected: 'among the realm default client scopes',
            actual: 'not a default scope',
            why: 'Clients that register without a scope (Claude Code, Cursor) only get default scopes, so their tokens miss the audience.',
          })
        : pass(ids.placement, `${scope.name} is a realm default scope`);
  if (!liveScope) {
    return [
      fail(ids.exists, `Client scope ${scope.name} exists`, {
        expected: `client scope "${scope.name}" (openid-connect)`,
        actual: 'missing',
        why: 'Keycloak answers invalid_scope to clients that ask for it, and nothing adds the audience.',
      }),
      fail(ids.audience, `Audience mapper on ${scope.name} puts ${scope.audience} into aud`, {
        expected: scope.audience,
        actual: 'no scope, so no mapper',
        why: 'Tokens will not name the MCP server as audience.',
      }),
      defaults,
    ];
  }
  const findings: Finding[] = [pass(ids.exists, `Client scope ${scope.name} exists`, { actual: liveScope.id })];
  const include = liveScope.attributes?.['include.in.token.scope'];
  findings.push(
    include === 'true'
      ? pass(ids.include, `${scope.name}: include in token scope is on`)
      : fail(ids.include, `${scope.name}: include in token scope is on`, {
          expected: 'include.in.token.scope = true',
          actual: `include.in.token.scope = ${include ?? '(unset)'}`,
          why: `Tokens then carry an empty or partial scope claim without ${scope.name}, and the server answers 403 insufficient_scope.`,
        }),
  );
  findings.push(audienceFinding(ids.audience, scope, liveScope.mappers, changes));
  findings.push(defaults);
  return findings;
}

/** A step-up scope must be optional: among the defaults every client gets it up front, and step-up never happens. */
function stepUpPlacement(id: string, scope: DesiredScope, live: LiveRealm): Finding {
  const title = `${scope.name} is an optional (step-up) client scope`;
  if (live.defaultScopes.has(scope.name)) {
    return warn(id, title, {
      expected: 'among the realm optional client scopes, not the defaults',
      actual: 'a realm default scope',
      why: `Every client gets ${scope.name} at sign-in, so the tools that require it never ask for it (no step-up).`,
      fixable: true,
    });
  }
  if (!live.optionalScopes.has(scope.name)) {
    return fail(id, title, {
      expected: 'among the realm optional client scopes',
      actual: 'neither a default nor an optional scope',
      why: `Clients that registered before cannot request ${scope.name} at step-up: Keycloak drops a scope the client does not have, and the 403 repeats.`,
      fixable: true,
    });
  }
  return pass(id, title);
}

/** Explains the audience mappers on a scope against the one URL they must put into `aud`. */
export function audienceFinding(
  id: string,
  scope: DesiredScope,
  mappers: ProtocolMapperRepresentation[],
  changes: Change[],
): Finding {
  const title = `Audience mapper on ${scope.name} puts ${scope.audience} into aud`;
  const audience = mappers.filter((m) => m.protocolMapper === AUDIENCE_MAPPER_TYPE);
  const needsChange = changes.some((c) => c.kind === 'audience-mapper' && c.scope === scope.name);
  // The rule plan uses too (realm/audience.ts): doctor passes exactly the mappers apply leaves alone.
  const good = audience.find((m) => isGoodAudienceMapper(m, scope.audience));
  if (good && !needsChange) return pass(id, title, { actual: `mapper "${good.name}"` });
  if (good) {
    const drift = audienceMapperDrift(good, scope.audience).map((d) => d.field);
    const settings = drift.length > 0 ? drift.join(', ') : 'secondary settings';
    return pass(id, title, {
      actual: `mapper "${good.name}" (apply would also update ${AUDIENCE_MAPPER_NAME}'s ${settings})`,
    });
  }
  if (audience.length === 0) {
    return fail(id, title, {
      expected: `an oidc-audience-mapper with included.custom.audience = ${scope.audience}`,
      actual: 'no Audience mapper',
      why: `Tokens will not contain aud = ${scope.audience}, so the MCP server must reject them (it MUST check the audience).`,
    });
  }
  const m = audience[0]!;
  const custom = m.config?.['included.custom.audience'];
  const client = m.config?.['included.client.audience'];
  let why: string;
  if (client)
    why = `Mapper "${m.name}" sets included.client.audience = ${client}, which Keycloak uses instead of the custom audience.`;
  else if (custom && custom !== scope.audience)
    why = `Mapper "${m.name}" puts ${custom} into aud but the server is ${scope.audience}: ${explainUrlDifference(custom, scope.audience)}. Audience matching is exact.`;
  else if (m.config?.['access.token.claim'] !== 'true')
    why = `Mapper "${m.name}" has "Add to access token" off, so the audience never reaches the access token.`;
  else why = `Mapper "${m.name}" has no custom audience.`;
  return fail(id, title, {
    expected: `included.custom.audience = ${scope.audience}, access.token.claim = true`,
    actual: `"${m.name}": included.custom.audience = ${custom ?? '(unset)'}${client ? `, included.client.audience = ${client}` : ''}, access.token.claim = ${m.config?.['access.token.claim'] ?? '(unset)'}`,
    why,
  });
}
