/**
 * The realm findings of the MCP 2026-07-28 generation: the resource client that RFC 8707 resource
 * indicators need, and the CIMD profiles and policies. Both come from the plan, as the other realm
 * findings do, so doctor fails exactly what `doctor --fix` (= apply) changes.
 */
import { fail, pass, warn, type Finding } from '../../findings.js';
import { CIMD_CONDITION, CIMD_NAMES } from '../../realm/cimd.js';
import type { ClientPolicyChange } from '../../realm/change.js';
import type { LiveRealm } from '../../realm/live.js';
import type { Change } from '../../realm/plan.js';
import { localRestartCommand } from '../../realm/server-version.js';
import type { DoctorInput } from '../types.js';

/** The id of the resource-client finding of the config's `index`th server: the first keeps the bare id, the others are numbered from 2. */
export function resourceClientId(index: number): string {
  return index === 0 ? 'realm.resource_client' : `realm.resource_client:${index + 1}`;
}

/** One finding per MCP server: its resource client (clientId = resource_url = the URL). */
export function resourceClientFindings(
  input: DoctorInput,
  changes: Change[],
  features: string[] | undefined,
): Finding[] {
  const on = features?.includes('resource-indicators');
  return input.config.resources.map((resource, i) => {
    const id = resourceClientId(i);
    const title = `A client stands for ${resource.url} as an RFC 8707 resource`;
    const change = changes.find((c) => c.kind === 'resource-client' && c.name === resource.url);
    if (!change)
      return pass(id, title, {
        actual: `client "${resource.url}" with resource_url = ${resource.url}${features ? ` (resource indicators ${on ? 'on' : 'off'})` : ''}`,
      });
    const actual =
      change.action === 'create'
        ? `no client with clientId ${resource.url}`
        : `client ${resource.url}: resource_url = ${String(change.fields[0]?.from ?? '(unset)')}`;
    const expected = `a client with clientId and resource_url = ${resource.url}`;
    const consequence = `every MCP client that sends resource=${resource.url} (the SDKs, VS Code: the 2025-06-18 spec and later) gets invalid_target from the token endpoint`;
    // With the feature known to be off nothing breaks today: a warning, since turning it on would break every client.
    if (features && !on)
      return warn(id, title, {
        expected,
        actual,
        why: `Keycloak runs without resource indicators now; started with --features=resource-indicators, ${consequence}.`,
        fixable: true,
      });
    return fail(id, title, {
      expected,
      actual,
      why: `${on ? 'Keycloak runs with resource indicators (RFC 8707)' : 'If Keycloak runs with resource indicators (RFC 8707; admin credentials would tell)'}: ${consequence}.`,
    });
  });
}

/** The CIMD profiles and policies apply --cimd makes: present, with the permitted domains. */
export function cimdFinding(changes: Change[], domains: string[], features: string[] | undefined): Finding {
  const title = 'Client ID Metadata Documents are set up (CIMD profile and policies)';
  const pending = changes.filter(
    (c): c is ClientPolicyChange => c.kind === 'client-profile' || c.kind === 'client-policy',
  );
  const offNote =
    features && !features.includes('cimd')
      ? ' Keycloak runs without --features=cimd, so no client can use them yet (as.cimd).'
      : '';
  if (pending.length === 0)
    return pass('realm.cimd', title, {
      actual: `client_id domains [${domains.join(', ')}], PKCE policy present.${offNote}`,
    });
  const actual = pending
    .map((c) =>
      c.action === 'create'
        ? `${c.kind} ${c.name} missing`
        : `${c.kind} ${c.name}: ${c.fields.map((f) => f.field).join(', ')} differ`,
    )
    .join('; ');
  return {
    ...fail('realm.cimd', title, {
      expected: `the mcp-keycloak-cimd profile and policy (client_id domains [${domains.join(', ')}]) and the mcp-keycloak-pkce pair`,
      actual,
      why: cimdConsequences(pending).join(' ') + offNote,
    }),
    // apply --cimd refuses on a Keycloak without the feature: then --fix cannot repair it.
    fixable: !(features && !features.includes('cimd')),
  };
}

/**
 * The fix of realm.cimd on a Keycloak without the cimd feature: the restart comes first (apply --cimd is
 * refused until then). The exact restart command when `keycloak start` runs this Keycloak.
 */
export async function cimdFeatureFix(keycloakUrl: string, apply: string): Promise<string> {
  const restart = await localRestartCommand(keycloakUrl, ['cimd']);
  const how = restart
    ? `Restart Keycloak with the feature: ${restart}`
    : 'Start Keycloak with --features=cimd (kc.sh start --features=cimd, or KC_FEATURES=cimd; 26.6 or later)';
  return `${how}; then ${apply}`;
}

/** What each pending CIMD change means for clients: a missing object, other domains, other settings. */
function cimdConsequences(pending: ClientPolicyChange[]): string[] {
  const sentences: string[] = [];
  const pkce = pending.filter((c) => c.name === CIMD_NAMES.pkceProfile || c.name === CIMD_NAMES.pkcePolicy);
  const cimd = pending.filter((c) => !pkce.includes(c));
  if (cimd.some((c) => c.action === 'create')) {
    sentences.push(
      'Without the CIMD profile and policy Keycloak answers 400 to an authorization request whose client_id is a document URL, and never fetches the document.',
    );
  } else if (cimd.length) {
    const fields = cimd.flatMap((c) => c.fields);
    const domains = fields.filter((f) => f.field.endsWith('permitted-domains'));
    const others = fields.filter((f) => !domains.includes(f));
    for (const field of domains) {
      const [from, to] = [asList(field.from), asList(field.to)];
      const missing = to.filter((d) => !from.includes(d));
      const extra = from.filter((d) => !to.includes(d));
      // The condition admits client_id URLs; the executor, the hosts a document may name (its own URL, redirect URIs).
      const what = field.field.startsWith(CIMD_CONDITION) ? 'client_id URLs' : 'metadata documents naming hosts';
      const parts = [
        missing.length ? `refuses ${what} on ${missing.join(', ')} (400 at the authorization request)` : '',
        extra.length ? `admits ${what} on ${extra.join(', ')}, which the config does not permit` : '',
      ].filter(Boolean);
      sentences.push(`${field.field}: Keycloak ${parts.join(' and ')}.`);
    }
    if (others.length)
      sentences.push(
        `Keycloak applies other CIMD settings than the config's (${others.map((f) => f.field).join(', ')}), e.g. http client_id URLs accepted or refused against cimd.allowHttp.`,
      );
  }
  if (pkce.length)
    sentences.push(
      `${pkce.some((c) => c.action === 'create') ? 'Without' : 'With a changed'} PKCE profile or policy, CIMD clients get codes without PKCE (keycloak#52795).`,
    );
  return sentences;
}

const asList = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.map(String)
    : value === null || value === undefined || value === ''
      ? []
      : [String(value)];

/**
 * Keycloak started with --features=cimd advertises `client_id_metadata_document_supported` in every
 * realm, whatever its client policies. A client that prefers CIMD then sends its document URL as
 * client_id instead of registering, and a realm without a client-id-uri policy answers 400 "Client not
 * found" (measured with the SDK v2 client, test/e2e/cimd-sdk.test.ts).
 */
export function cimdAdvertisedFinding(live: LiveRealm, fix: string): Finding {
  const title = 'Clients that prefer CIMD can sign in (Keycloak advertises it)';
  const byHand = (live.clientPolicies ?? []).filter(
    (p) => p.enabled !== false && (p.conditions ?? []).some((c) => c.condition === CIMD_CONDITION),
  );
  if (byHand.length)
    return pass('realm.cimd', title, {
      actual: `client policy ${byHand.map((p) => `"${p.name}"`).join(', ')} admits client_id URLs (not managed here: no cimd in the config)`,
    });
  return warn('realm.cimd', title, {
    expected: 'a client policy with the client-id-uri condition (apply --cimd), since Keycloak advertises CIMD',
    actual: 'no client-id-uri policy in this realm',
    why: 'Keycloak runs with --features=cimd, so this realm\'s metadata says client_id_metadata_document_supported: true. Clients that prefer CIMD (VS Code, Claude Code, the MCP SDKs given a client metadata URL) then send their document URL as client_id instead of registering, and this realm answers 400 "Client not found".',
    fix: `${fix} (or start Keycloak without the cimd feature)`,
  });
}
