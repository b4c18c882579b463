/**
 * Runs the checks in order, from the outside in (MCP server → metadata → Keycloak → realm →
 * registration → token → MCP call), each under a spinner. Checks share what they discover through
 * `DoctorState`. The list is data: `doctor --e2e` appends checks/e2e.ts (the src/e2e flow as a check) to `defaultChecks()`.
 */
import { redact } from '../config/secrets.js';
import { DeadlineError, runSignal } from '../keycloak/bounds.js';
import type { Ui } from '../ui/output.js';
import { accessCheck } from './checks/access.js';
import { asMetadataCheck } from './checks/as-metadata.js';
import { challengeCheck } from './checks/challenge.js';
import { cimdProbeCheck } from './checks/cimd-probe.js';
import { dpopCheck } from './checks/dpop.js';
import { keycloakCheck } from './checks/keycloak.js';
import { mcpCallCheck } from './checks/mcp-call.js';
import { prmCheck } from './checks/prm.js';
import { realmCheck } from './checks/realm.js';
import { registrationCheck } from './checks/registration.js';
import { tokenCheck } from './checks/token.js';
import { versionCheck } from './checks/version.js';
import { fail, type Finding } from '../findings.js';
import type { Check, DoctorInput, DoctorState } from './types.js';

/** The outside-in checks in the order they build on one another. */
export function defaultChecks(): Check[] {
  return [
    challengeCheck,
    prmCheck,
    keycloakCheck,
    accessCheck,
    versionCheck,
    asMetadataCheck,
    realmCheck,
    dpopCheck,
    registrationCheck,
    cimdProbeCheck,
    tokenCheck,
    mcpCallCheck,
  ];
}

export interface RunResult {
  findings: Finding[];
  state: DoctorState;
}

/**
 * The check's findings, or the run's DeadlineError once doctor's deadline passes: a check may wait on
 * something no request signal reaches (the MCP SDK's own request timer), and the run must end anyway.
 * After the deadline a check does not start at all.
 */
function untilDeadline<T>(run: () => Promise<T>): Promise<T> {
  const signal = runSignal();
  if (!signal) return run();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    run()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** One failed finding for the checks the deadline left unstarted: they were not tried, so nothing is green. */
function notRunBeforeDeadline(checks: Check[], reason: unknown): Finding {
  const passed = reason instanceof DeadlineError ? reason.message : "doctor's deadline passed";
  return fail('deadline', `${checks.length} check(s) not run: ${passed}`, {
    actual: `not run: ${checks.map((c) => c.id).join(', ')}`,
    why: 'doctor stops at its deadline, so that no server can hold it; what was not tried is not reported as passed.',
    fix: 'Fix the cause of the failure reported before (a server that does not answer in time), or raise --timeout.',
  });
}

/** Runs `checks` in order, each under a spinner when `ui` is given; a check that throws becomes a failed finding, secrets redacted. */
export async function runChecks(input: DoctorInput, checks: Check[], ui?: Pick<Ui, 'step'>): Promise<RunResult> {
  const state: DoctorState = {};
  const findings: Finding[] = [];
  state.findings = findings;
  for (const [index, check] of checks.entries()) {
    const deadline = runSignal();
    if (deadline?.aborted) {
      findings.push(notRunBeforeDeadline(checks.slice(index), deadline.reason));
      break;
    }
    const work = () => untilDeadline(() => check.run(input, state));
    try {
      findings.push(...(ui ? await ui.step(check.title, work) : await work()));
    } catch (error) {
      // A check that cannot run is itself a finding; the other checks still run.
      const secrets = { ...input.secrets, ...(input.token ? { token: input.token.value } : {}) };
      findings.push(
        fail(`${check.id}.error`, `${check.title} failed`, {
          actual: redact(error instanceof Error ? error.message : String(error), secrets),
          why: 'The check could not complete; the findings after it may be incomplete.',
        }),
      );
    }
  }
  return { findings, state };
}
