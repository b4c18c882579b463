/**
 * What `init` does with a file that exists and would change: show the difference and ask (a
 * terminal), overwrite and show it (--force), or stop with the advice that fits where it runs.
 * Keys the user added to the config file are kept by the merge (config-merge.ts); what an answer
 * removes is named, with --force too, so that no edit disappears unsaid.
 */
import { UsageError } from '../errors.js';
import type { Ui } from '../ui/output.js';
import { confirm } from '../ui/prompt.js';
import type { PlannedFile } from './files.js';

function showDiff(file: PlannedFile, ui: Ui): void {
  for (const line of file.diff) {
    ui.info(
      line.startsWith('+') ? ui.color.green(line) : line.startsWith('-') ? ui.color.red(line) : ui.color.dim(line),
    );
  }
  if (file.dropped?.length)
    ui.warn(ui.color.yellow(`  ${file.name} loses ${file.dropped.join(', ')}: your answers (flags, env) remove them.`));
}

/** How to get past a differing file without a prompt: the advice differs on a terminal (--yes is what stops asking). */
function conflictError(conflicts: PlannedFile[], ui: Ui): UsageError {
  const names = conflicts.map((file) => file.name).join(', ');
  const review = ui.interactive
    ? 'drop --yes to review the difference and answer per file'
    : 'run init on a terminal to review the difference';
  return new UsageError(
    `${names} already exist${conflicts.length === 1 ? 's' : ''} and differ from what init would write (keys you added are kept; the difference is in the keys init manages): ${review}, or pass --force. Nothing was written.`,
  );
}

/** Decides, per file that exists and differs, whether to overwrite it: --force (said, with the diff), the user's answer, or an error. */
export async function resolveConflicts(
  files: PlannedFile[],
  ui: Ui,
  asking: boolean,
  force: boolean,
): Promise<PlannedFile[]> {
  const changed = files.filter((file) => file.status !== 'unchanged');
  const conflicts = changed.filter((file) => file.status === 'update' && !file.generated);
  if (conflicts.length === 0) return changed;
  if (force) {
    for (const file of conflicts) {
      ui.info(`${file.name} differs: --force writes it, changing:`);
      showDiff(file, ui);
    }
    return changed;
  }
  if (!asking) throw conflictError(conflicts, ui);
  const accepted: PlannedFile[] = changed.filter((file) => file.status === 'create' || file.generated);
  for (const file of conflicts) {
    ui.info(`${file.name} exists and would change:`);
    showDiff(file, ui);
    if (await confirm(`Overwrite ${file.name}?`, false)) accepted.push(file);
    else ui.info(`  keeping your ${file.name}`);
  }
  return accepted;
}
