/** `mcp-keycloak apply`: converge the realm to the configuration; a second run changes nothing. */
import type { ConfigFlags } from '../config/load.js';
import { CliError, ExitCode } from '../errors.js';
import { applyPlan, computePlan } from '../realm/apply.js';
import type { Change } from '../realm/plan.js';
import type { Ui } from '../ui/output.js';
import { renderPlan } from '../ui/plan-view.js';
import { confirm } from '../ui/prompt.js';
import { openRealmContext, type RealmContext } from './context.js';

export interface ApplyFlags extends ConfigFlags {
  yes?: boolean;
}

export interface ApplyResult {
  formatVersion: 1;
  realm: string;
  keycloakUrl: string;
  applied: Change[];
  requests: { reads: number; writes: number; other: number };
  durationMs: number;
}

/** The engine behind `apply`, `init` and `doctor --fix`: plan, (ask), execute, report. */
export async function converge(context: RealmContext, ui: Ui, options: { yes?: boolean } = {}): Promise<ApplyResult> {
  const started = Date.now();
  const { session, desired } = context;
  const computed = await ui.step(`Reading realm ${desired.realm}`, () => computePlan(session, desired));
  const { plan } = computed;
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

const DONE = { create: '✔ created', update: '✔ updated', delete: '✔ deleted' } as const;

export async function apply(flags: ApplyFlags, ui: Ui): Promise<number> {
  const context = await openRealmContext(flags, ui);
  const result = await converge(context, ui, { yes: flags.yes ?? false });
  if (ui.json) ui.data(result);
  else if (result.applied.length === 0) ui.info(ui.color.green(`No changes: realm ${result.realm} already matches the configuration.`));
  else {
    const { reads, writes, other } = result.requests;
    const seconds = (result.durationMs / 1000).toFixed(1);
    ui.info(ui.color.green(`Applied ${result.applied.length} change(s) to realm ${result.realm} in ${seconds} s (${reads + writes + other} requests, ${writes} writes).`));
  }
  return ExitCode.ok;
}
