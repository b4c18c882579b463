/** `mcp-keycloak plan`: show what apply would change, change nothing. */
import type { ConfigFlags } from '../config/load.js';
import { ExitCode } from '../errors.js';
import { refuseWhatTheVersionCannotHold } from '../realm/server-version.js';
import { computePlan } from '../realm/apply.js';
import type { Ui } from '../ui/output.js';
import { renderPlan } from '../ui/plan-view.js';
import { openRealmContext, planWarnings } from '../connect.js';

export interface PlanFlags extends ConfigFlags {
  detailedExitcode?: boolean;
}

/** Prints the plan (or its JSON); with --detailed-exitcode exits 2 when changes are pending. */
export async function plan(flags: PlanFlags, ui: Ui): Promise<number> {
  const context = await openRealmContext(flags, ui);
  const { session, desired } = context;
  // What apply would refuse (a setting this Keycloak cannot hold: web origins before 26.5, CIMD without the feature), plan refuses too.
  await refuseWhatTheVersionCannotHold(session, desired);
  const { plan } = await ui.step(`Reading realm ${desired.realm}`, () => computePlan(session, desired));
  for (const line of await planWarnings(context, plan.changes)) ui.warn(ui.color.yellow(line));
  if (ui.json) ui.data({ ...plan, requests: session.requests() });
  else for (const line of renderPlan(plan, ui.color)) ui.info(line);
  return flags.detailedExitcode && plan.changes.length > 0 ? ExitCode.changesPending : ExitCode.ok;
}
