/**
 * With `doctor --e2e`, two DCR behaviours were lived through rather than derived: the flow's first run registers
 * as VS Code does (the PRM's `scopes_supported`), its second as the SDKs do (the 401's scope,
 * e2e.step-up.challenge-scope). A client whose scope strategy is one of these gets that run's outcome as its
 * verdict's `simulated`, and a run that failed where the derivation said "works" turns the verdict round.
 */
import type { CatalogueClient } from '../../clients/catalogue.js';
import type { ClientVerdict } from '../../clients/verdict.js';
import type { Finding } from '../../findings.js';
import { CHALLENGE_SCOPE_ID } from './e2e-challenge-scope.js';
import type { DoctorState } from '../types.js';

/** The first run's steps (the challenge-scope run has one finding of its own; clean-up is not the client's). */
function firstRun(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.id.startsWith('e2e.') && f.id !== CHALLENGE_SCOPE_ID && f.id !== 'e2e.cleanup');
}

function prmScopeRun(verdict: ClientVerdict, findings: readonly Finding[]): ClientVerdict {
  const steps = firstRun(findings);
  const broken = steps.find((f) => f.status === 'fail');
  const steppedUp = steps.some((f) => f.id === 'e2e.step-up.call' && f.status === 'pass');
  if (!broken)
    return {
      ...verdict,
      simulated: `--e2e registered with the PRM's scopes as it does, signed in, called a tool${steppedUp ? ', stepped up' : ''}`,
    };
  const simulated = `--e2e registered with the PRM's scopes as it does and failed at ${broken.id}`;
  if (verdict.verdict !== 'works') return { ...verdict, simulated };
  return { ...verdict, simulated, verdict: 'works-after', fix: { kind: 'apply', flags: [] } };
}

function challengeScopeRun(verdict: ClientVerdict, finding: Finding): ClientVerdict {
  const simulated = `--e2e registered with the 401's scope as it does: ${finding.status}, ${finding.actual ?? ''}`;
  return { ...verdict, simulated };
}

/** The verdict, with what --e2e lived through as this client when it ran and the client registers (DCR) here. */
export function simulatedByE2e(verdict: ClientVerdict, client: CatalogueClient, state: DoctorState): ClientVerdict {
  const findings = state.findings ?? [];
  if (!findings.some((f) => f.id === 'e2e.register') || !verdict.identity.startsWith('DCR')) return verdict;
  if (client.dcr.scope === 'prm') return prmScopeRun(verdict, findings);
  const challenge = findings.find((f) => f.id === CHALLENGE_SCOPE_ID);
  if (client.dcr.scope === 'challenge-then-prm' && challenge && challenge.status !== 'skip')
    return challengeScopeRun(verdict, challenge);
  return verdict;
}
