/** `mcp-keycloak plan`: show what apply would change, change nothing. */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ConfigFlags } from '../config/load.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { refuseWhatTheVersionCannotHold } from '../realm/server-version.js';
import { computePlan } from '../realm/apply.js';
import type { Ui } from '../ui/output.js';
import { renderPlan } from '../ui/plan-view.js';
import { renderPlanMarkdown } from '../ui/plan-markdown.js';
import { openRealmContext, planWarnings } from '../connect.js';

export interface PlanFlags extends ConfigFlags {
  detailedExitcode?: boolean;
  /** A file for the plan as Markdown (a CI step summary or pull-request comment), besides the usual output. */
  summary?: string;
}

/** Prints the plan (or its JSON); with --detailed-exitcode exits 2 when changes are pending. */
export async function plan(flags: PlanFlags, ui: Ui): Promise<number> {
  if (flags.summary !== undefined) await refuseUnwritableFolder(flags.summary);
  const context = await openRealmContext(flags, ui);
  const { session, desired } = context;
  // What apply would refuse (a setting this Keycloak cannot hold: web origins before 26.5, CIMD without the feature), plan refuses too.
  await refuseWhatTheVersionCannotHold(session, desired);
  const { plan } = await ui.step(`Reading realm ${desired.realm}`, () => computePlan(session, desired));
  for (const line of await planWarnings(context, plan.changes)) ui.warn(ui.color.yellow(line));
  if (ui.json) ui.data({ ...plan, requests: session.requests() });
  else for (const line of renderPlan(plan, ui.color)) ui.info(line);
  // Written only once the plan exists: a run that failed leaves no summary, so a CI step cannot mistake a
  // failure for a plan (the action checks this beside the exit code).
  if (flags.summary !== undefined) await writeSummary(flags.summary, renderPlanMarkdown(plan));
  return flags.detailedExitcode && plan.changes.length > 0 ? ExitCode.changesPending : ExitCode.ok;
}

/** A summary that could not be written should stop the run before it talks to Keycloak, not after. */
async function refuseUnwritableFolder(file: string): Promise<void> {
  const folder = dirname(resolve(file));
  await access(folder, constants.W_OK).catch((error: unknown) => {
    throw new UsageError(`--summary: cannot write ${file}: the folder ${folder} does not exist or is not writable.`, {
      cause: error,
    });
  });
}

const WRITE_FAILURES: Record<string, string> = {
  EACCES: 'permission denied',
  EISDIR: 'it is a folder',
};

/** Replaces `file` with the Markdown summary; GitHub's $GITHUB_STEP_SUMMARY is a file of the step's own. */
async function writeSummary(file: string, lines: string[]): Promise<void> {
  try {
    await writeFile(file, `${lines.join('\n')}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = WRITE_FAILURES[code] ?? (error as Error).message;
    throw new CliError(`--summary: cannot write ${file} (${reason}): give a file you may write.`, undefined, {
      cause: error,
    });
  }
}
