/** `mcp-keycloak apply`: converge the realm to the configuration; a second run changes nothing. */
import { pickConfigFile, type ConfigFlags } from '../config/load.js';
import { checkSavable, saveFlags, unsavedFlags, type UnsavedFlags } from '../config/save.js';
import { ExitCode } from '../errors.js';
import { converge, type ConvergeResult } from '../realm/converge.js';
import type { Ui } from '../ui/output.js';
import { confirm } from '../ui/prompt.js';
import { openRealmContext, planWarnings } from '../connect.js';
import { basename } from 'node:path';

export interface ApplyFlags extends ConfigFlags {
  yes?: boolean;
  /** Write this run's realm-shaping flags into the config file (see config/save.ts). */
  save?: boolean;
}

/** Converges, then says what changed (or prints the result with --json), and what became of realm-shaping flags. */
export async function apply(flags: ApplyFlags, ui: Ui): Promise<number> {
  const context = await openRealmContext(flags, ui);
  // Read before the realm changes: a config file that cannot take the flags stops --save before any write.
  const unsaved = await unsavedFlags(flags, { save: Boolean(flags.save) });
  if (flags.save && unsaved) checkSavable(unsaved);
  const result = await converge(context, ui, {
    yes: flags.yes ?? false,
    beforeShowing: async (plan) =>
      (await planWarnings(context, plan.changes)).forEach((line) => ui.warn(ui.color.yellow(line))),
  });
  if (ui.json) ui.data(result);
  else report(result, ui);
  if (unsaved) await keepFlags(unsaved, flags, ui);
  const file = pickConfigFile(flags, process.env, process.cwd());
  if (file && result.applied.length > 0 && !ui.json)
    // serve follows its config file (src/server/follow-config.ts); the realm it checks against just changed.
    ui.info(
      `A serve running with ${basename(file)} follows it by itself: new scopes and step-up rules apply at once, other changes restart it (docs/commands/serve.md).`,
    );
  return ExitCode.ok;
}

function report(result: ConvergeResult, ui: Ui): void {
  if (result.applied.length === 0) {
    ui.info(ui.color.green(`No changes: realm ${result.realm} already matches the configuration.`));
    return;
  }
  const { reads, writes, other } = result.requests;
  const seconds = (result.durationMs / 1000).toFixed(1);
  ui.info(
    ui.color.green(
      `Applied ${result.applied.length} change(s) to realm ${result.realm} in ${seconds} s (${reads + writes + other} requests, ${writes} writes).`,
    ),
  );
}

/**
 * One rule for flags that shape the realm in a folder with a config file: they are saved (--save, or
 * "yes" on a terminal), or one line says that doctor and doctor --fix will not keep them, and how to.
 */
async function keepFlags(unsaved: UnsavedFlags, flags: ApplyFlags, ui: Ui): Promise<void> {
  const name = basename(unsaved.file);
  const asked =
    !flags.save &&
    ui.interactive &&
    !flags.yes &&
    (await confirm(`Save ${unsaved.words} to ${name}, so that doctor and doctor --fix keep it?`, false));
  if (flags.save || asked) {
    const dropped = await saveFlags(unsaved);
    const removed = dropped.length ? ` (replacing ${dropped.join(', ')}, as the flags did for this apply)` : '';
    ui.warn(`Saved ${unsaved.words} to ${unsaved.file}${removed}.`);
    return;
  }
  ui.warn(
    `note: ${unsaved.words} is not in ${name}: doctor and doctor --fix will not keep it; run this apply again with --save to write it there.`,
  );
}
