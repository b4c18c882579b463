/**
 * The realm audit's registration findings: the anonymous Dynamic Client Registration policies (Allowed
 * Client Scopes, Trusted Hosts, web origins) against the DCR mode, and the room left below Max Clients.
 * Like the rest of the audit, they read the plan apply would make, so doctor fails what --fix changes.
 */
import { keycloakCall } from '../../keycloak/errors.js';
import { CIMD_NAMES } from '../../realm/cimd.js';
import { PROVIDER } from '../../realm/desired.js';
import type { LiveRealm } from '../../realm/live.js';
import { configValues, type Change } from '../../realm/plan.js';
import { fail, pass, warn, type Finding } from '../../findings.js';
import { INSPECTOR_0X_ORIGIN } from '../clients.js';
import { readRealmClients } from '../dcr.js';
import type { DoctorInput, DoctorState } from '../types.js';

export function policyFindings(input: DoctorInput, live: LiveRealm, changes: Change[]): Finding[] {
  const { dcr } = input.config;
  const policies = live.anonymousPolicies;
  const names = input.config.resources.flatMap((r) => r.scopes);
  const findings: Finding[] = [];

  const allowed = policies.filter((p) => p.providerId === PROVIDER.allowedScopes);
  const describe = (p: (typeof allowed)[number]) =>
    `${p.name}: [${configValues(p, 'allowed-client-scopes').join(', ')}], allow-default-scopes ${configValues(p, 'allow-default-scopes')[0] ?? 'true'}`;
  const strict = allowed.find((p) => configValues(p, 'allow-default-scopes')[0] === 'false');
  // Keycloak's policy also admits realm default scopes unless allow-default-scopes is false.
  const admits = (p: (typeof allowed)[number], name: string) =>
    configValues(p, 'allowed-client-scopes').includes(name) ||
    (configValues(p, 'allow-default-scopes')[0] !== 'false' && live.defaultScopes.has(name));
  const blocked = allowed.filter((p) => names.some((n) => !admits(p, n)));
  const title = 'Anonymous Allowed Client Scopes lets the scope through';
  if (strict) {
    // Seen live (Keycloak 26.7): with allow-default-scopes off, a registration that names a scope is
    // refused even when that scope is listed, because the default scopes Keycloak adds (basic, ...) are not.
    const f = fail('realm.allowed_client_scopes', title, {
      expected: 'allow-default-scopes true, and the scope listed',
      actual: describe(strict),
      why: `allow-default-scopes is off, so Keycloak also rejects the default scopes it gives every registered client: VS Code's registration with scope "${names.join(' ')}" fails with "Not permitted to use specified clientScope" even if the scope is listed.`,
    });
    findings.push(
      dcr.mode === 'off'
        ? {
            ...f,
            fix: 'Turn "Allow Default Scopes" on in Clients → Client registration → Anonymous access policies → Allowed Client Scopes (dcr mode is "off": apply leaves policies alone).',
          }
        : { ...f, fixable: true },
    );
  } else if (blocked.length === 0) {
    findings.push(
      pass('realm.allowed_client_scopes', title, {
        actual: allowed.length ? allowed.map(describe).join('; ') : 'no such policy',
      }),
    );
  } else {
    const p = blocked[0]!;
    const f = fail('realm.allowed_client_scopes', title, {
      expected: `allowed-client-scopes containing ${names.join(', ')}`,
      actual: describe(p),
      why: `VS Code registers with scope "${names.join(' ')}", which is neither listed nor a realm default scope: the policy rejects it with "Not permitted to use specified clientScope".`,
    });
    findings.push(
      dcr.mode === 'off'
        ? {
            ...f,
            fix: 'Add the scope in Clients → Client registration → Allowed Client Scopes (dcr mode is "off": apply leaves policies alone).',
          }
        : { ...f, fixable: true },
    );
  }

  const trusted = policies.filter((p) => p.providerId === PROVIDER.trustedHosts);
  const hosts = trusted.flatMap((p) => configValues(p, 'trusted-hosts'));
  const trustedChange = changes.find((c) => c.kind === 'registration-policy' && c.providerId === PROVIDER.trustedHosts);
  const state = trusted.length ? `Trusted Hosts present: [${hosts.join(', ')}]` : 'no Trusted Hosts policy';
  if (dcr.mode === 'off')
    findings.push(
      pass('realm.trusted_hosts', 'Trusted Hosts matches the DCR mode', {
        actual: `${state} (dcr mode off: not managed)`,
      }),
    );
  else if (!trustedChange)
    findings.push(
      pass('realm.trusted_hosts', 'Trusted Hosts matches the DCR mode', { actual: `${state} (dcr mode ${dcr.mode})` }),
    );
  else {
    findings.push({
      ...fail('realm.trusted_hosts', 'Trusted Hosts matches the DCR mode', {
        expected:
          dcr.mode === 'anonymous'
            ? 'no anonymous Trusted Hosts policy (dcr mode anonymous)'
            : `trusted hosts exactly [${dcr.trustedHosts.join(', ')}]`,
        actual: state,
        why:
          dcr.mode === 'anonymous'
            ? 'Trusted Hosts rejects registrations from hosts not on its list ("Host not trusted"): VS Code, Claude and Cursor cannot register.'
            : 'Registrations from the hosts you chose are rejected, or hosts you did not choose are trusted.',
      }),
      fixable: true,
    });
  }

  const origins = policies
    .filter((p) => p.providerId === PROVIDER.webOrigins)
    .flatMap((p) => configValues(p, 'web-origins'));
  const originChange = changes.find((c) => c.kind === 'registration-policy' && c.providerId === PROVIDER.webOrigins);
  if (dcr.webOrigins && originChange) {
    findings.push({
      ...fail('realm.web_origins', 'Registration web origins allow the browser clients', {
        expected: `[${dcr.webOrigins.join(', ')}]`,
        actual: origins.length ? `[${origins.join(', ')}]` : 'no Allowed Registration Web Origins policy',
        why: 'A client registering from a browser page (MCP Inspector 0.x) at an origin not on the list gets 403 "Invalid origin".',
      }),
      fixable: true,
    });
  } else {
    findings.push(
      pass('realm.web_origins', 'Registration web origins allow the browser clients', {
        actual: origins.length
          ? `[${origins.join(', ')}]`
          : `none (no browser clients configured; MCP Inspector 2.x needs none, Inspector 0.x needs --web-origin ${INSPECTOR_0X_ORIGIN})`,
      }),
    );
  }
  return findings;
}

export async function maxClientsFinding(input: DoctorInput, state: DoctorState, live: LiveRealm): Promise<Finding> {
  const title = 'Room below the Max Clients limit';
  const policy = live.anonymousPolicies.find((p) => p.providerId === 'max-clients');
  if (!policy) return pass('realm.max_clients', title, { actual: 'no Max Clients Limit policy' });
  const limit = Number(configValues(policy, 'max-clients')[0] ?? '200');
  // Read once, page by page: registration.iss reads the same list for its attributes.
  state.realmClients ??= await keycloakCall(
    () => readRealmClients(input.admin!, input.config.realm),
    undefined,
    'Listing clients',
  );
  const count = state.realmClients.clients.length;
  const actual = `${state.realmClients.complete ? '' : 'at least '}${count} of ${limit} clients`;
  const why =
    'Every dynamic registration (each VS Code install, each retry) adds a client; at the limit Keycloak rejects them with "Policy \'Max Clients Limit\' rejected request".';
  const fix =
    'Delete stale dynamically registered clients (Clients list in the admin console) or raise the limit in Client registration → Max Clients Limit.';
  if (count >= limit)
    return fail('realm.max_clients', title, { expected: `fewer than ${limit} clients`, actual, why, fix });
  if (count >= limit * 0.8)
    return warn('realm.max_clients', title, { expected: `well below ${limit} clients`, actual, why, fix });
  return pass('realm.max_clients', title, { actual });
}

/**
 * realm.anonymous_clients, for a realm without CIMD (with CIMD realm.cimd covers the same pair): the
 * mcp-keycloak-pkce profile and policy that keep every anonymously registered client on PKCE and the code flow
 * (and on DPoP-bound tokens with requireDpop). Read off the plan, so doctor fails exactly what --fix changes.
 */
export function anonymousClientsFinding(changes: Change[], dpop: boolean): Finding {
  const title = `Anonymously registered clients get PKCE and the code flow only${dpop ? ', and DPoP-bound tokens' : ''}`;
  const pending = changes.filter(
    (c) => (c.kind === 'client-profile' || c.kind === 'client-policy') && c.name === CIMD_NAMES.pkceProfile,
  );
  if (pending.length === 0)
    return pass('realm.anonymous_clients', title, { actual: `${CIMD_NAMES.pkceProfile} profile and policy in place` });
  return fail('realm.anonymous_clients', title, {
    expected: `the ${CIMD_NAMES.pkceProfile} client profile and policy (condition: created anonymously)`,
    actual: pending
      .map((c) =>
        c.action === 'create' ? `${c.kind} missing` : `${c.kind}: ${c.fields.map((f) => f.field).join(', ')} differ`,
      )
      .join('; '),
    why: `A client registered without a token gets the grants it names: ${dpop ? 'without the profile its tokens are not bound to a DPoP key (a leaked token works for anyone), and ' : ''}a registration naming implicit gets tokens in the URL fragment without PKCE, one naming password gets the user's password handed to it.`,
  });
}
