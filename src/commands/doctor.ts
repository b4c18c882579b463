/**
 * `mcp-keycloak doctor`: check the whole chain a client walks (MCP server → metadata → Keycloak →
 * realm → registration → token → MCP call) and say how to fix each failure. Exit 0 when nothing
 * failed (warnings allowed), 1 when something failed, 64 on bad input. `--fix` repairs the realm-side
 * failures with converge (src/realm/converge.ts, the engine behind `apply`) and checks again.
 */
import { doctorFixCommand } from '../doctor/fixes.js';
import { doctorInput, type DoctorInputFlags } from '../doctor/input.js';
import { clientsVerdictCheck } from '../doctor/checks/clients-verdict.js';
import { machineClientCheck } from '../doctor/checks/machine-client.js';
import { buildReport, renderReport } from '../doctor/report.js';
import { defaultChecks, runChecks } from '../doctor/runner.js';
import type { Check } from '../doctor/types.js';
import { ExitCode, UsageError } from '../errors.js';
import { summarize } from '../findings.js';
import { endRunDeadline, startRunDeadline } from '../keycloak/bounds.js';
import { requestTimeoutMs } from '../keycloak/http.js';
import { converge } from '../realm/converge.js';
import { desiredRealm } from '../realm/desired.js';
import type { Change } from '../realm/plan.js';
import type { Ui } from '../ui/output.js';

export interface DoctorFlags extends DoctorInputFlags {
  fix?: boolean;
  yes?: boolean;
  /** Also run the whole chain with a real MCP client and the test user (src/e2e). */
  e2e?: boolean;
}

/**
 * How many request timeouts the whole run may take: a healthy `doctor --e2e` with step-up takes 1–3 s,
 * while a server that trickles its headers used to hold it for minutes (issue #19).
 */
export const DEADLINE_TIMEOUTS = 6;

/**
 * Runs the checks, repairs the realm with --fix and checks again, prints the report; exit 1 when something
 * failed. The whole run, every request and wait included, ends within DEADLINE_TIMEOUTS × --timeout.
 */
export async function doctor(flags: DoctorFlags, ui: Ui, checks: Check[] = defaultChecks()): Promise<number> {
  startRunDeadline(DEADLINE_TIMEOUTS * requestTimeoutMs(), "doctor's deadline", `${DEADLINE_TIMEOUTS} × --timeout`);
  try {
    return await diagnose(flags, ui, checks);
  } finally {
    endRunDeadline();
  }
}

async function diagnose(flags: DoctorFlags, ui: Ui, checks: Check[]): Promise<number> {
  const started = Date.now();
  // doctor's --machine-client names clients to test with (their credentials files), not config entries to add.
  const { machineClient: machineClients = [], ...configFlags } = flags;
  const input = await doctorInput(configFlags, ui);
  checks = [...checks, ...machineClients.map(machineClientCheck)];
  // Loaded only for --e2e: it brings the end-to-end flow (src/e2e) and both SDK lines behind it.
  if (flags.e2e) checks = [...checks, (await import('../doctor/checks/e2e.js')).e2eCheck];
  // Last: a client's verdict says what --e2e lived through as that client, when it ran.
  checks = [...checks, clientsVerdictCheck];
  let { findings, state } = await runChecks(input, checks, ui);
  let fix: { applied: Change[]; before: ReturnType<typeof summarize> } | undefined;

  const fixable = findings.some((f) => f.status === 'fail' && f.fixable);
  if (flags.fix) {
    if (!input.admin) throw new UsageError(`--fix repairs the realm through the admin API: ${input.adminMissing}.`);
    if (fixable) {
      const desired = desiredRealm(input.config, input.secrets.testUserPassword);
      // apply --cimd is refused on a Keycloak without the feature; --fix repairs the rest (realm.cimd keeps its restart fix).
      if (desired.cimd && state.server && !state.server.features.includes('cimd')) {
        delete desired.cimd;
        if (!ui.json)
          ui.info(ui.color.dim('--fix: CIMD left out (Keycloak runs without --features=cimd; see realm.cimd).'));
      }
      const context = { config: input.config, secrets: input.secrets, session: input.admin, desired };
      const result = await converge(context, ui, { yes: flags.yes ?? false });
      fix = { applied: result.applied, before: summarize(findings) };
      ({ findings, state } = await runChecks(input, checks, ui));
    } else if (!ui.json) {
      ui.info(ui.color.dim('--fix: no realm-side failure to repair.'));
    }
  }

  const report = buildReport(input, findings, state, Date.now() - started);
  if (fix) report.fix = fix;
  if (!flags.fix && findings.some((f) => f.status === 'fail' && f.fixable)) report.repair = doctorFixCommand(input);
  if (ui.json) ui.data(report);
  else for (const line of renderReport(report, ui.color)) ui.info(line);
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
