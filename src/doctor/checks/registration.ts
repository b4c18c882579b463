/**
 * Check 5: the live registration probe. Sends, for each client people connect, the registration request
 * that client sends, reports accepted or which policy rejected it and why, and deletes every client it
 * created. The verdict depends on the DCR mode: with `anonymous` every rejection is a failure; with
 * `trusted-hosts` or `off` a rejection may be the administrator's intent, so it is a warning. A client
 * that registers from a browser page (MCP Inspector 0.x) is probed only when a browser origin is allowed
 * (--web-origin): without one, no browser client is expected, and the finding says what 0.x would need.
 * With admin credentials it also names the realm's clients whose authorization responses carry no `iss`
 * (`registration.iss`): RFC 9207 clients reject those responses, since Keycloak advertises `iss`.
 */
import { asStrings, asString } from '../http.js';
import { INSPECTOR_0X_ORIGIN, PROBE_CLIENTS, type ProbeClient, type ProbeContext } from '../clients.js';
import {
  clientsWithoutIss,
  deleteClient,
  EXCLUDE_ISS_ATTRIBUTE,
  readRealmClients,
  registerClient,
  type RealmClients,
  type RegistrationOutcome,
} from '../dcr.js';
import { applyCommand } from '../fixes.js';
import { blocked, fail, pass, skip, warn, type Finding } from '../../findings.js';
import { keycloakOnlyRequest, untrustedDestination } from '../trust.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';
import { cleanupFailed, withoutAdmin } from '../verdicts.js';

export const registrationCheck: Check = {
  id: 'registration',
  title: 'Probing client registration as real clients',
  async run(input, state) {
    const endpoint = asString(state.asMetadata?.document.registration_endpoint);
    if (!endpoint) {
      return [
        ...PROBE_CLIENTS.map((c) =>
          skip(
            `registration.${c.id}`,
            `${c.name} can register`,
            'no registration_endpoint in the authorization server metadata',
          ),
        ),
        await issFinding(input, state, state.asMetadata?.document),
      ];
    }
    // A registration sent where the PRM points, off the configured Keycloak, would be a write to a host the user never named.
    const untrusted = untrustedDestination(input, state);
    const origins = input.config.dcr.webOrigins ?? [];
    const webOrigin = origins.includes(INSPECTOR_0X_ORIGIN) ? INSPECTOR_0X_ORIGIN : origins[0];
    const notExpected = (client: ProbeClient) => client.sentFrom === 'browser' && !webOrigin;
    if (untrusted) {
      return [
        ...PROBE_CLIENTS.map((c) =>
          notExpected(c)
            ? browserClientNotExpected(input, c)
            : blocked(`registration.${c.id}`, `${c.name} can register`, untrusted.blockedBy, untrusted.why),
        ),
        await issFinding(input, state, state.asMetadata?.document),
      ];
    }
    const scopes =
      state.challenge?.scope?.split(' ').filter(Boolean) ??
      asStrings(state.prm?.document.scopes_supported) ??
      input.resource.scopes;
    const grantTypes = asStrings(state.asMetadata?.document.grant_types_supported);
    const ctx: ProbeContext = { scopes };
    if (grantTypes) ctx.grantTypesSupported = grantTypes;
    if (webOrigin) ctx.webOrigin = webOrigin;
    // Sequential on purpose: parallel probes could trip Max Clients on a realm near its limit.
    const findings: Finding[] = [];
    for (const client of PROBE_CLIENTS) {
      if (notExpected(client)) findings.push(browserClientNotExpected(input, client));
      else findings.push(await probe(input, endpoint, client, ctx));
    }
    findings.push(await issFinding(input, state, state.asMetadata?.document));
    return findings;
  },
};

const ISS_TITLE = 'Authorization responses of the realm\u2019s clients carry iss';

/**
 * `registration.iss`: a client with "Exclude Issuer From Authentication Response" on gets authorization
 * responses without `iss`, although Keycloak's metadata advertises it for all (RFC 9207). A client that
 * follows RFC 9207 (the MCP SDK v2) then refuses the response as a possible mix-up. Needs the realm's
 * clients, so admin credentials; a warning, since doctor cannot tell whether MCP clients use those clients.
 */
export async function issFinding(
  input: DoctorInput,
  state: DoctorState,
  metadata: Record<string, unknown> | undefined,
): Promise<Finding> {
  if (!input.admin) return withoutAdmin(input, 'registration.iss', ISS_TITLE, 'read the realm\u2019s clients');
  let all: RealmClients;
  try {
    all = state.realmClients ?? (state.realmClients = await readRealmClients(input.admin, input.config.realm));
  } catch (error) {
    // The admin login worked, so the admin API was meant to answer: a failure, not a skip.
    return fail('registration.iss', ISS_TITLE, {
      actual: `the realm's clients could not be read: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'Check that the admin API is reachable at --keycloak-url, then run doctor again.',
    });
  }
  const found = { clientIds: clientsWithoutIss(all), read: all.clients.length, complete: all.complete };
  const partly = found.complete ? '' : ` (the first ${found.read} clients read)`;
  if (found.clientIds.length === 0)
    return pass('registration.iss', ISS_TITLE, {
      actual: `no client has ${EXCLUDE_ISS_ATTRIBUTE} on, ${found.read} clients read${partly}`,
    });
  const advertised = metadata?.authorization_response_iss_parameter_supported === true;
  const names =
    found.clientIds
      .slice(0, 5)
      .map((id) => JSON.stringify(id))
      .join(', ') + (found.clientIds.length > 5 ? ` and ${found.clientIds.length - 5} more` : '');
  return warn('registration.iss', ISS_TITLE, {
    expected: `${EXCLUDE_ISS_ATTRIBUTE} off (Keycloak's default) for every client`,
    actual: `${found.clientIds.length} client(s) with ${EXCLUDE_ISS_ATTRIBUTE} = true: ${names}${partly}`,
    why: advertised
      ? 'Their authorization responses carry no iss although Keycloak advertises authorization_response_iss_parameter_supported: clients that follow RFC 9207 (the MCP SDK v2) refuse the response as a possible mix-up attack, so sign-in with these client_ids fails.'
      : 'Their authorization responses carry no iss: clients that follow RFC 9207 cannot detect a mix-up attack with them.',
    fix: `Turn off "Exclude Issuer From Authentication Response" for each (admin console: Clients → the client → Advanced → OpenID Connect Compatibility Modes; admin API: attribute ${EXCLUDE_ISS_ATTRIBUTE} = "false").`,
  });
}

/** No browser origin is allowed, so a browser client cannot register and none is expected: a skip that says what it would need. */
function browserClientNotExpected(input: DoctorInput, client: ProbeClient): Finding {
  return skip(
    `registration.${client.id}`,
    `${client.name} can register`,
    'no browser origin is allowed (--web-origin), so no client that registers from a browser page is expected',
    `MCP Inspector 2.x registers from its backend and needs none; only Inspector 0.x does: \`${applyCommand(input, ['--web-origin', INSPECTOR_0X_ORIGIN])}\` (Keycloak 26.5.0 or later: older versions have no web-origins policy)`,
  );
}

async function probe(input: DoctorInput, endpoint: string, client: ProbeClient, ctx: ProbeContext): Promise<Finding> {
  const id = `registration.${client.id}`;
  const title = `${client.name} can register`;
  const body = client.body(ctx);
  const origin = client.origin?.(ctx);
  // The probe and its registration access token go to the configured Keycloak only (trust.ts).
  const send = keycloakOnlyRequest(input);
  const outcome = await registerClient(endpoint, body, origin, send);
  if (outcome.ok) {
    const leftover = await deleteClient(outcome.client, input.config.realm, input.admin, send);
    const note =
      client.sentFrom === 'vendor-backend'
        ? ' (from this machine; the real request comes from the vendor\u2019s servers)'
        : '';
    const actual = `accepted${note}, probe client deleted${origin ? `; origin ${origin} allowed` : ''}`;
    return leftover ? cleanupFailed(id, title, `accepted${note}`, leftover) : pass(id, title, { actual });
  }
  return rejected(input, id, title, client, outcome, origin);
}

function rejected(
  input: DoctorInput,
  id: string,
  title: string,
  client: ProbeClient,
  outcome: Extract<RegistrationOutcome, { ok: false }>,
  origin?: string,
): Finding {
  const { dcr } = input.config;
  const by = outcome.policy
    ? `rejected by policy "${outcome.policy}": ${outcome.reason}`
    : `rejected: ${outcome.reason}`;
  const actual = outcome.status ? `HTTP ${outcome.status}, ${by}` : by;
  let why = `${client.name} cannot register, so it never reaches the login page.`;
  let fix: string | undefined;
  let fixable = false;
  switch (outcome.policy) {
    case 'Trusted Hosts':
      why += ` Trusted Hosts only admits requests from${client.sentFrom === 'vendor-backend' ? ' (and redirect URIs on)' : ''} listed hosts.`;
      fix =
        dcr.mode === 'anonymous'
          ? applyCommand(input)
          : `${applyCommand(input, ['--dcr', 'anonymous'])} (removes Trusted Hosts), or add the client's host with --trusted-host`;
      fixable = dcr.mode === 'anonymous';
      break;
    case 'Allowed Client Scopes':
      why += ` It asks for "${String(client.body({ scopes: input.resource.scopes }).scope ?? '')}", which the anonymous Allowed Client Scopes policy does not list.`;
      fix = applyCommand(input);
      fixable = dcr.mode !== 'off';
      break;
    case 'Allowed Registration Web Origins':
      why = `${client.name} registers from a browser page at ${origin}; Keycloak refuses registrations from origins not on the Allowed Registration Web Origins list.`;
      // Probed only with this origin configured: the realm has drifted from the configuration, which apply restores.
      fix = applyCommand(input);
      fixable = dcr.mode !== 'off';
      break;
    case 'Max Clients Limit':
      fix =
        'Delete stale dynamically registered clients or raise Client registration → Max Clients Limit in the admin console.';
      break;
    case undefined:
      break;
    default:
      fix = `Review the anonymous policy "${outcome.policy}" in the admin console: Clients → Client registration → Anonymous access policies.`;
  }
  // A browser client only matters when the user asked for one (--web-origin); a deliberate trusted-hosts setup may reject clients on purpose.
  const intended = client.sentFrom === 'browser' ? Boolean(dcr.webOrigins?.length) : dcr.mode === 'anonymous';
  const details = {
    expected: 'HTTP 201 (registered)',
    actual,
    why,
    ...(fix ? { fix } : {}),
    ...(fixable && intended ? { fixable: true } : {}),
  };
  return intended ? fail(id, title, details) : warn(id, title, details);
}
