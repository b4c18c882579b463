/**
 * The engine behind `apply`, `init` and `doctor --fix`: read the realm, plan, show the plan and ask
 * (on a terminal, without --yes), then apply change by change. A second run finds nothing to do.
 */
import type { Config } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import { CliError, ExitCode } from '../errors.js';
import { refuseWhatTheVersionCannotHold } from './server-version.js';
import type { AdminSession } from '../keycloak/session.js';
import type { Ui } from '../ui/output.js';
import { renderPlan } from '../ui/plan-view.js';
import { confirm } from '../ui/prompt.js';
import { applyPlan, computePlan } from './apply.js';
import type { DesiredRealm } from './desired.js';
import type { Change, Plan } from './plan.js';

/** What provisioning works on: the validated config, its secrets, an admin session and the realm it describes. */
export interface RealmContext {
  config: Config;
  secrets: Secrets;
  session: AdminSession;
  desired: DesiredRealm;
}

/** What a converge did, as `apply --json` prints it. */
export interface ConvergeResult {
  formatVersion: 1;
  realm: string;
  keycloakUrl: string;
  applied: Change[];
  requests: { reads: number; writes: number; other: number };
  durationMs: number;
}

const DONE = { create: '✔ created', update: '✔ updated', delete: '✔ deleted' } as const;

/** Plans, asks (unless `yes`, --json or no terminal), applies; throws "Nothing was changed." when the user declines. */
export async function converge(
  context: RealmContext,
  ui: Ui,
  options: { yes?: boolean; beforeShowing?: (plan: Plan) => Promise<void> } = {},
): Promise<ConvergeResult> {
  const started = Date.now();
  const { session, desired } = context;
  // Before any plan is shown or written: a setting this Keycloak cannot hold is one sentence, not a 400 halfway.
  await refuseWhatTheVersionCannotHold(session, desired);
  const computed = await ui.step(`Reading realm ${desired.realm}`, () => computePlan(session, desired));
  const { plan } = computed;
  // The caller's warnings about this plan (apply: a realm name that looks like a typo) come before the confirmation.
  await options.beforeShowing?.(plan);
  let applied: Change[] = [];
  if (plan.changes.length > 0) {
    if (!ui.json) for (const line of renderPlan(plan, ui.color)) ui.info(line);
    if (ui.interactive && !options.yes && !(await confirm('Apply these changes?'))) {
      throw new CliError('Nothing was changed.', ExitCode.failure);
    }
    // No spinner here: each change prints its own line as it lands, and a spinner would redraw over them.
    applied = await applyPlan(session, desired, computed, (change) => {
      if (!ui.json) ui.info(`  ${DONE[change.action]} ${change.kind} ${change.name}`);
    });
  }
  return {
    formatVersion: 1,
    realm: desired.realm,
    keycloakUrl: session.baseUrl,
    applied,
    requests: session.requests(),
    durationMs: Date.now() - started,
  };
}
