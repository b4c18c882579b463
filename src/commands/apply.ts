/** `mcp-keycloak apply`: converge the realm to the configuration; a second run changes nothing. */
import type { ConfigFlags } from '../config/load.js';
import { ExitCode } from '../errors.js';
import { converge } from '../realm/converge.js';
import type { Ui } from '../ui/output.js';
import { openRealmContext, planWarnings } from '../connect.js';

export interface ApplyFlags extends ConfigFlags {
  yes?: boolean;
}

/** Converges, then says what changed (or prints the result with --json). */
export async function apply(flags: ApplyFlags, ui: Ui): Promise<number> {
  const context = await openRealmContext(flags, ui);
  const result = await converge(context, ui, {
    yes: flags.yes ?? false,
    beforeShowing: async (plan) =>
      (await planWarnings(context, plan.changes)).forEach((line) => ui.warn(ui.color.yellow(line))),
  });
  if (ui.json) ui.data(result);
  else if (result.applied.length === 0)
    ui.info(ui.color.green(`No changes: realm ${result.realm} already matches the configuration.`));
  else {
    const { reads, writes, other } = result.requests;
    const seconds = (result.durationMs / 1000).toFixed(1);
    ui.info(
      ui.color.green(
        `Applied ${result.applied.length} change(s) to realm ${result.realm} in ${seconds} s (${reads + writes + other} requests, ${writes} writes).`,
      ),
    );
  }
  return ExitCode.ok;
}
