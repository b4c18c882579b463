/**
 * `clients.<id>`: one verdict line per MCP client (src/clients/catalogue.ts) against this realm: works, works after
 * <fix>, or cannot on this Keycloak (keycloak#N). Each DCR client's own registration body is sent live (the probe's
 * real body, else one derived from the catalogue; deleted again); CIMD admission, sign-in scope, offline_access and
 * step-up are derived from the realm's metadata and configuration; with --e2e the verdicts of the DCR clients whose
 * scope strategy the e2e flow plays (PRM scope, challenge scope) say what the flow lived through. The clients are
 * the config's `clients` (--client), else all; a named client that could not be examined fails (green means examined).
 */
import { CLIENT_CATALOGUE, type CatalogueClient } from '../../clients/catalogue.js';
import { identityOf } from '../../clients/identity.js';
import { cimdDomainsOfClients } from '../../clients/provision.js';
import { registrationBodyFor } from '../../clients/registration-body.js';
import {
  clientVerdict,
  verdictLine,
  type ClientVerdict,
  type Fix,
  type RegistrationAnswer,
  type RegistrationResult,
  type VerdictFacts,
} from '../../clients/verdict.js';
import { blocked, fail, pass, skip, warn, type Finding } from '../../findings.js';
import { command } from '../../ui/invocation.js';
import type { ProbeContext } from '../clients.js';
import { deleteClient, registerClient } from '../dcr.js';
import { applyCommand } from '../fixes.js';
import { asString, asStrings } from '../http.js';
import { keycloakOnlyRequest, untrustedDestination } from '../trust.js';
import type { Check, DoctorInput, DoctorState } from '../types.js';
import { desiredCimd } from '../../realm/cimd.js';
import { simulatedByE2e } from './clients-e2e.js';

/** The catalogued clients doctor examines: the config's `clients` (`all` or absent: every one). */
export function examinedClients(input: DoctorInput): { clients: CatalogueClient[]; named: boolean } {
  const ids = input.config.clients;
  if (!ids || ids.includes('all')) return { clients: [...CLIENT_CATALOGUE], named: Boolean(ids) };
  return { clients: CLIENT_CATALOGUE.filter((client) => ids.includes(client.id)), named: true };
}

/** What the realm showed, as the verdict logic reads it. */
function realmFacts(input: DoctorInput, state: DoctorState): VerdictFacts {
  const metadata = state.asMetadata?.document ?? {};
  const cimd = desiredCimd(input.config.cimd, cimdDomainsOfClients(input.config.clients));
  const facts: VerdictFacts = {
    cimdAdvertised: metadata.client_id_metadata_document_supported === true,
    noneAdvertised: (asStrings(metadata.token_endpoint_auth_methods_supported) ?? []).includes('none'),
    prmScopes: asStrings(state.prm?.document.scopes_supported) ?? input.resource.scopes,
    asScopes: asStrings(metadata.scopes_supported) ?? [],
    stepUpScopes: [...new Set(Object.values(input.resource.toolScopes ?? {}).flat())],
    dcrMode: input.config.dcr.mode,
  };
  const challenge = state.challenge?.scope?.split(' ').filter(Boolean);
  if (challenge?.length) facts.challengeScopes = challenge;
  if (cimd) facts.cimdDomains = cimd.clientIdDomains;
  if (state.server?.version) facts.keycloakVersion = state.server.version;
  // The CIMD domains come from the configuration; realm.cimd (admin credentials) says whether the realm holds them.
  if (state.findings?.some((f) => f.id === 'realm.cimd' && f.status === 'fail')) facts.cimdDrifted = true;
  return facts;
}

/** Sends each distinct body once (deleting what registered) and remembers the outcome by body. */
async function registerOnce(
  input: DoctorInput,
  endpoint: string,
  body: Record<string, unknown>,
  seen: Map<string, RegistrationAnswer>,
): Promise<RegistrationAnswer> {
  const key = JSON.stringify(body);
  const known = seen.get(key);
  if (known) return known;
  const send = keycloakOnlyRequest(input);
  const outcome = await registerClient(endpoint, body, undefined, send);
  let result: RegistrationAnswer;
  if (outcome.ok) {
    const leftover = await deleteClient(outcome.client, input.config.realm, input.admin, send);
    if (leftover) throw new Error(leftover);
    result = { ok: true };
  } else result = { ok: false, reason: outcome.reason, ...(outcome.policy ? { policy: outcome.policy } : {}) };
  seen.set(key, result);
  return result;
}

/** The fix as a command to paste, for this target. */
function fixCommand(input: DoctorInput, fix: Fix): string {
  if (fix.kind === 'apply') return applyCommand(input, fix.flags);
  if (fix.kind === 'keycloak-features')
    return `start Keycloak with --features=${fix.features} (local: \`${command(`keycloak start --features ${fix.features}`)}\`), then \`${applyCommand(input, ['--cimd'])}\``;
  return `Review the anonymous policy "${fix.policy}" in the admin console: Clients → Client registration.`;
}

function finding(input: DoctorInput, verdict: ClientVerdict): Finding {
  const id = `clients.${verdict.client}`;
  const title = `${verdict.name} (${verdict.client})`;
  const registered = verdict.identity.startsWith('DCR') && !verdict.registration.startsWith('not probed');
  const how = verdict.simulated
    ? `simulated: ${verdict.simulated}`
    : registered
      ? 'its registration sent live, the rest derived'
      : 'derived';
  const actual = `${verdictLine(verdict)} [${verdict.identity}; ${how}]`;
  const why = `registration: ${verdict.registration}; sign-in scope: ${verdict.signInScope}; step-up: ${verdict.stepUp}${
    verdict.unconfirmed.length ? `; not confirmed by a source: ${verdict.unconfirmed.join(', ')}` : ''
  }.`;
  if (verdict.verdict === 'works') return pass(id, title, { actual });
  return warn(id, title, { actual, why, ...(verdict.fix ? { fix: fixCommand(input, verdict.fix) } : {}) });
}

/**
 * Without named clients (config `clients`, --client) every catalogued client is judged, and the verdicts go into one
 * passed finding and the --json matrix: a client nobody said they use must not put a warning on a healthy setup
 * (warnings on every healthy setup teach people to ignore them). Naming clients gives each its own line.
 */
function summary(verdicts: ClientVerdict[]): Finding {
  const of = (kind: ClientVerdict['verdict']) => verdicts.filter((v) => v.verdict === kind).map((v) => v.client);
  const [works, after, cannot] = [of('works'), of('works-after'), of('cannot')];
  const list = (ids: string[]) => (ids.length ? ` (${ids.join(', ')})` : '');
  return pass('clients.all', ALL_TITLE, {
    actual: `${verdicts.length} clients: ${works.length} work${list(works)}, ${after.length} work after a fix${list(after)}, ${cannot.length} cannot on this Keycloak${list(cannot)}; name yours with --client (config clients) for a verdict line each`,
  });
}

const ALL_TITLE = 'Every catalogued MCP client judged against the realm';

/** The clients doctor could not examine: a failure for each the user named, else one skip (or `not run`). */
function notExamined(named: boolean, clients: CatalogueClient[], why: string, blockedBy?: string): Finding[] {
  if (!named)
    return [blockedBy ? blocked('clients.all', ALL_TITLE, blockedBy, why) : skip('clients.all', ALL_TITLE, why)];
  return clients.map((client) => {
    const [id, title] = [`clients.${client.id}`, `${client.name} (${client.id})`];
    return blockedBy ? blocked(id, title, blockedBy, why) : fail(id, title, { actual: `not examined: ${why}` });
  });
}

export const clientsVerdictCheck: Check = {
  id: 'clients',
  title: 'Judging each MCP client against the realm',
  async run(input, state) {
    const { clients, named } = examinedClients(input);
    if (!state.asMetadata) return notExamined(named, clients, 'no authorization server metadata (see as.metadata)');
    const untrusted = untrustedDestination(input, state);
    if (untrusted) return notExamined(named, clients, untrusted.why, untrusted.blockedBy);
    const facts = realmFacts(input, state);
    const endpoint = asString(state.asMetadata.document.registration_endpoint);
    const ctx: ProbeContext = { scopes: facts.challengeScopes ?? facts.prmScopes };
    const grantTypes = asStrings(state.asMetadata.document.grant_types_supported);
    if (grantTypes) ctx.grantTypesSupported = grantTypes;
    const seen = new Map<string, RegistrationAnswer>();
    const verdicts: ClientVerdict[] = [];
    // Sequential on purpose, as the registration probe: parallel registrations could trip Max Clients.
    for (const client of clients) {
      let registration: RegistrationResult = { ok: 'not-sent', why: 'no registration_endpoint in the AS metadata' };
      // Only a client that registers here is registered: a CIMD client's verdict rests on its document.
      if (endpoint && identityOf(client, facts).way === 'dcr') {
        const { body, from } = registrationBodyFor(client, facts, ctx);
        registration = { ...(await registerOnce(input, endpoint, body, seen)), body: from };
      }
      verdicts.push(simulatedByE2e(clientVerdict(client, facts, registration), client, state));
    }
    state.clientVerdicts = verdicts;
    return named ? verdicts.map((verdict) => finding(input, verdict)) : [summary(verdicts)];
  },
};
