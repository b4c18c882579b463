/**
 * One verdict per catalogued client against one realm: `works`, `works after <fix>`, or `cannot on this Keycloak
 * (keycloak#N, fixed in X)`. Derived from what the client does (src/clients/catalogue.ts) and what the realm showed:
 * its metadata, its CIMD setup, the live registration of the client's own body (doctor's probe), its step-up scopes.
 * Pure: doctor's clients.verdict check (src/doctor/checks/clients-verdict.ts) gathers the facts and renders the lines.
 */
import { olderThan } from '../keycloak/versions.js';
import type { CatalogueClient } from './catalogue.js';
import { domainAdmitted, identityOf, type Identity, type IdentityFacts } from './identity.js';
import { signInScopeOf, stepUpOf, type ScopeFacts, type StepUp } from './scopes.js';

/** What the registration of the client's own body got (doctor's live probe), when it was sent. */
/** What Keycloak answered to a registration. */
export type RegistrationAnswer = { ok: true } | { ok: false; policy?: string; reason: string };

export type RegistrationResult = (RegistrationAnswer & { body: 'probe' | 'derived' }) | { ok: 'not-sent'; why: string };

/** What a fix is, as data; the caller spells it as a command for this target. */
export type Fix =
  | { kind: 'apply'; flags: string[] }
  | { kind: 'keycloak-features'; features: string }
  | { kind: 'policy'; policy: string };

export type VerdictKind = 'works' | 'works-after' | 'cannot';

export interface ClientVerdict {
  client: string;
  name: string;
  /** How it identifies itself here: `CIMD <client_id>`, `DCR`, or why neither. */
  identity: string;
  registration: string;
  signInScope: string;
  stepUp: string;
  verdict: VerdictKind;
  fix?: Fix;
  /** For `cannot`: the Keycloak issue and the first version that fixes it (or `no fixed version known`). */
  issue?: { id: string; fixedIn: string; what: string };
  /** With doctor --e2e: what the e2e flow lived through as this client (else the verdict is derived). */
  simulated?: string;
  /** Facts the verdict rests on that no source confirmed (catalogue `unknown`s). */
  unconfirmed: string[];
}

export interface VerdictFacts extends IdentityFacts, ScopeFacts {
  /** The configured registration mode: a Trusted Hosts rejection is drift under `anonymous`, a host to add under `trusted-hosts`. */
  dcrMode: 'anonymous' | 'trusted-hosts' | 'off';
}

/**
 * Documents Keycloak refuses whatever the realm says. claude.ai's names the jwt-bearer grant, which 26.8.0's
 * executor accepts only with "Accept Public Client with Confidential-only Grant Types" on (keycloak#50362, PR
 * #50411); ChatGPT's declares private_key_jwt, which the executor refuses: measured on 26.7.3 (HTTP 400), and
 * Keycloak's MCP guide for 26.8 still says so (keycloak#51039), so no fixed version is known.
 */
export function cimdRefusal(client: CatalogueClient, version: string | undefined): ClientVerdict['issue'] {
  if (client.cimd?.authMethod === 'private_key_jwt')
    return {
      id: 'keycloak#51039',
      fixedIn: 'no fixed version known',
      what: "its metadata document declares private_key_jwt, which Keycloak's CIMD executor refuses",
    };
  if (client.id === 'claude-ai' && (!version || olderThan(version, '26.8.0')))
    return {
      id: 'keycloak#50362',
      fixedIn: '26.8.0',
      what: 'its metadata document names the jwt-bearer grant, which Keycloak refuses for a public client',
    };
  return undefined;
}

interface Partial {
  identity: string;
  registration: string;
  verdict: VerdictKind;
  fix?: Fix;
  issue?: ClientVerdict['issue'];
}

function viaCimd(client: CatalogueClient, identity: Extract<Identity, { way: 'cimd' }>, facts: VerdictFacts): Partial {
  const base = { identity: `CIMD ${identity.clientId}` };
  const refused = cimdRefusal(client, facts.keycloakVersion);
  if (refused) return { ...base, registration: `document refused: ${refused.what}`, verdict: 'cannot', issue: refused };
  if (!facts.cimdDomains)
    return {
      ...base,
      registration: 'no CIMD policy in the realm: "Client not found"',
      verdict: 'works-after',
      fix: { kind: 'apply', flags: ['--cimd'] },
    };
  if (!domainAdmitted(identity.domain, facts.cimdDomains))
    return {
      ...base,
      registration: `the CIMD policy does not admit ${identity.domain}`,
      verdict: 'works-after',
      fix: { kind: 'apply', flags: ['--cimd-domain', identity.domain] },
    };
  if (facts.cimdDrifted)
    return {
      ...base,
      registration: `the configuration admits ${identity.domain}, the realm's CIMD objects differ (realm.cimd)`,
      verdict: 'works-after',
      fix: { kind: 'apply', flags: [] },
    };
  return { ...base, registration: `document admitted (${identity.domain})`, verdict: 'works' };
}

function viaDcr(
  identity: Extract<Identity, { way: 'dcr' }>,
  registration: RegistrationResult,
  dcrMode: VerdictFacts['dcrMode'],
): Partial {
  const base = { identity: identity.confirmed ? 'DCR' : 'DCR (not confirmed for this client)' };
  if (registration.ok === 'not-sent')
    return {
      ...base,
      registration: `not probed: ${registration.why}`,
      verdict: 'works-after',
      fix: { kind: 'apply', flags: ['--dcr', 'anonymous'] },
    };
  const body = registration.body === 'probe' ? 'its registration body' : 'a body derived from the catalogue';
  if (registration.ok) return { ...base, registration: `${body} accepted`, verdict: 'works' };
  const refused = `${body} rejected${registration.policy ? ` by "${registration.policy}"` : ''}: ${registration.reason}`;
  if (registration.policy === 'Trusted Hosts' && dcrMode === 'trusted-hosts')
    return {
      ...base,
      registration: refused,
      verdict: 'works-after',
      fix: { kind: 'apply', flags: ['--trusted-host', '<the host it registers from>'] },
    };
  if (
    registration.policy &&
    ['Trusted Hosts', 'Allowed Client Scopes', 'Allowed Registration Web Origins'].includes(registration.policy)
  )
    return { ...base, registration: refused, verdict: 'works-after', fix: { kind: 'apply', flags: [] } };
  return {
    ...base,
    registration: refused,
    verdict: 'works-after',
    fix: { kind: 'policy', policy: registration.policy ?? 'the registration endpoint' },
  };
}

/** The identity and registration part of the verdict. */
function admission(client: CatalogueClient, facts: VerdictFacts, registration: RegistrationResult): Partial {
  const identity = identityOf(client, facts);
  if (identity.way === 'cimd') return viaCimd(client, identity, facts);
  if (identity.way === 'dcr') return viaDcr(identity, registration, facts.dcrMode);
  return {
    identity: `CIMD ${identity.clientId} (Keycloak does not offer CIMD; DCR not confirmed for this client)`,
    registration: 'no way in: Keycloak runs without the cimd feature',
    verdict: 'works-after',
    fix: { kind: 'keycloak-features', features: 'cimd' },
  };
}

/** The catalogue facts the verdict rests on that no source confirmed. */
function unconfirmedOf(client: CatalogueClient, stepUp: StepUp): string[] {
  const unknown: string[] = [];
  if (client.dcr.registers === 'unknown') unknown.push('whether it registers (DCR)');
  if (client.dcr.scope === 'unknown') unknown.push('its registration scope');
  if (client.signInScope === 'unknown') unknown.push('its sign-in scope');
  if (client.offlineAccess === 'unknown') unknown.push('whether it asks for offline_access');
  if (stepUp.kind === 'unconfirmed') unknown.push('how it steps up');
  return unknown;
}

/** The verdict for one client on a realm with these facts, given what its registration got. */
export function clientVerdict(
  client: CatalogueClient,
  facts: VerdictFacts,
  registration: RegistrationResult,
): ClientVerdict {
  const admitted = admission(client, facts, registration);
  const stepUp = stepUpOf(client, facts, identityOf(client, facts).way);
  const verdict: ClientVerdict = {
    client: client.id,
    name: client.name,
    identity: admitted.identity,
    registration: admitted.registration,
    signInScope: signInScopeOf(client, facts),
    stepUp: stepUp.text,
    verdict: admitted.verdict,
    unconfirmed: unconfirmedOf(client, stepUp),
  };
  if (admitted.fix) verdict.fix = admitted.fix;
  if (admitted.issue) verdict.issue = admitted.issue;
  // Signing in works, stepping up cannot: the client is stopped at its step-up tool, and no realm setting helps.
  if (verdict.verdict === 'works' && stepUp.kind === 'cannot') {
    verdict.verdict = 'cannot';
    verdict.issue = stepUp.issue;
  }
  return verdict;
}

/** The fix as a short phrase for the verdict line: `apply --cimd`, `--trusted-host …`, `Keycloak --features=cimd`. */
export function fixPhrase(fix: Fix): string {
  if (fix.kind === 'keycloak-features') return `Keycloak runs with --features=${fix.features} and apply --cimd`;
  if (fix.kind === 'policy') return `the registration policy "${fix.policy}" admits it`;
  return ['apply', ...fix.flags].join(' ');
}

/** The verdict line: `works`, `works after <fix>`, `cannot on this Keycloak (keycloak#N, fixed in X)`. */
export function verdictLine(verdict: ClientVerdict): string {
  if (verdict.verdict === 'works') return 'works';
  if (verdict.verdict === 'works-after') return `works after ${verdict.fix ? fixPhrase(verdict.fix) : 'a fix'}`;
  const issue = verdict.issue;
  if (!issue) return 'cannot on this Keycloak';
  const fixed = /^\d/.test(issue.fixedIn) ? `fixed in ${issue.fixedIn}` : issue.fixedIn;
  return `cannot on this Keycloak (${issue.id}, ${fixed}): ${issue.what}`;
}
