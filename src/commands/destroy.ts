/** `mcp-keycloak destroy`: undo what apply did for this configuration, or delete the whole realm. */
import type { ConfigFlags } from '../config/load.js';
import { openAdmin } from '../connect.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { didYouMeanRealm } from '../keycloak/realm-names.js';
import { executeRemoval, planDestroy, readForDestroy, type Removal } from '../realm/destroy-plan.js';
import type { Ui } from '../ui/output.js';
import { renderRemovals } from '../ui/plan-view.js';
import { ask, confirm } from '../ui/prompt.js';

export interface DestroyFlags extends ConfigFlags {
  yes?: boolean;
  dryRun?: boolean;
  wholeRealm?: boolean;
}

/** Shows what would go, asks (or needs --yes; --dry-run stops after showing), then removes it item by item. */
export async function destroy(flags: DestroyFlags, ui: Ui): Promise<number> {
  const { config, session } = await openAdmin(flags, ui);
  const live = await ui.step(`Reading realm ${config.realm}`, () => readForDestroy(session, config));
  const removals = planDestroy(config, live, Boolean(flags.wholeRealm));
  const report = (done: Removal[]) => ({
    formatVersion: 1,
    realm: config.realm,
    keycloakUrl: config.keycloakUrl,
    dryRun: Boolean(flags.dryRun),
    removals,
    done: done.length,
  });
  if (removals.length === 0) {
    if (ui.json) ui.data(report([]));
    else
      ui.info(
        live.exists
          ? `Nothing to remove: realm ${config.realm} holds nothing this configuration created.`
          : `Realm ${config.realm} does not exist: nothing to remove.${await didYouMeanRealm(session, config.realm)}`,
      );
    return ExitCode.ok;
  }
  if (!ui.json) for (const line of renderRemovals(config.realm, config.keycloakUrl, removals, ui.color)) ui.info(line);
  if (flags.dryRun) {
    if (ui.json) ui.data(report([]));
    return ExitCode.ok;
  }
  if (!flags.yes) {
    if (!ui.interactive)
      throw new UsageError(
        `destroy changes realm ${config.realm}: rerun with --yes (or --dry-run to only show the plan). Nothing was changed.`,
      );
    const agreed = flags.wholeRealm
      ? (await ask(`Type the realm name (${config.realm}) to delete it`)) === config.realm
      : await confirm('Remove these?', false);
    if (!agreed) throw new CliError('Nothing was changed.', ExitCode.failure);
  }
  const done: Removal[] = [];
  for (const removal of removals) {
    await executeRemoval(session, config.realm, live.id, removal);
    done.push(removal);
  }
  if (ui.json) ui.data(report(done));
  else
    ui.info(
      ui.color.green(
        flags.wholeRealm
          ? `Deleted realm ${config.realm}.`
          : `Removed ${done.length} item(s) from realm ${config.realm}.`,
      ),
    );
  return ExitCode.ok;
}
