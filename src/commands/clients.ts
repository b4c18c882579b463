/** `mcp-keycloak clients list|prune`: the clients Dynamic Client Registration created, and cleaning them up. */
import type { ConfigFlags } from '../config/load.js';
import { parseDecimal, printable } from '../config/rules.js';
import { ExitCode, UsageError } from '../errors.js';
import { keycloakCall } from '../keycloak/errors.js';
import { judge, markFirstSeen, readDcrClients, type PruneVerdict } from '../maintenance/dcr-clients.js';
import { openMaintenance } from '../connect.js';
import type { Ui } from '../ui/output.js';
import { confirm } from '../ui/prompt.js';

export interface PruneFlags extends ConfigFlags {
  days?: string;
  yes?: boolean;
  dryRun?: boolean;
}

function parseDays(value: string | undefined): number {
  // Decimal digits only: Number() would read `1e3` as 1000 days.
  const days = parseDecimal(value ?? '30', 0, 36500);
  if (days === undefined)
    throw new UsageError(
      `--days ${printable(value ?? '', 20)}: must be a whole number of days (0 or more) in decimal digits.`,
    );
  return days;
}

const when = (t: number | undefined) => (t ? new Date(t).toISOString().slice(0, 16).replace('T', ' ') : '-');

function table(ui: Ui, verdicts: PruneVerdict[]): void {
  for (const v of verdicts) {
    const mark = v.prune ? ui.color.red('delete') : ui.color.green('keep  ');
    ui.info(
      `  ${mark} ${v.clientId}  ${(v.name ?? '').padEnd(20).slice(0, 20)}  sessions ${v.sessions}  last use ${when(v.lastUsed)}  — ${v.reason}`,
    );
  }
}

/** `clients list`: every DCR-created client of the realm with its last use and whether `prune` would delete it. */
export async function clientsList(flags: PruneFlags, ui: Ui): Promise<number> {
  const days = parseDays(flags.days);
  const { config, session } = await openMaintenance(flags, ui);
  const inventory = await ui.step('Reading clients', () => readDcrClients(session, config.realm));
  const now = Date.now();
  const verdicts = inventory.clients.map((c) => judge(c, days, now, inventory.eventsSaved));
  if (ui.json) {
    ui.data({ formatVersion: 1, realm: config.realm, days, eventsSaved: inventory.eventsSaved, clients: verdicts });
    return ExitCode.ok;
  }
  ui.info(
    `${verdicts.length} client(s) created by Dynamic Client Registration in realm ${config.realm}${inventory.eventsSaved ? '' : ' (the realm saves no events: last use comes from sessions)'}:`,
  );
  table(ui, verdicts);
  return ExitCode.ok;
}

/** `clients prune`: deletes the DCR-created clients unused for --days (after showing them and asking, or with --yes). */
export async function clientsPrune(flags: PruneFlags, ui: Ui): Promise<number> {
  const days = parseDays(flags.days);
  const { config, session } = await openMaintenance(flags, ui);
  const realm = config.realm;
  const inventory = await ui.step('Reading clients', () => readDcrClients(session, realm));
  const now = Date.now();
  const verdicts = inventory.clients.map((c) => judge(c, days, now, inventory.eventsSaved));
  const doomed = verdicts.filter((v) => v.prune);
  const unseen = verdicts.filter(
    (v) => !v.prune && v.firstSeen === undefined && v.sessions === 0 && v.lastUsed === undefined,
  );
  if (!ui.json) {
    ui.info(`Realm ${realm}: ${verdicts.length} DCR client(s), ${doomed.length} unused for ${days} day(s).`);
    table(ui, verdicts);
  }
  if (flags.dryRun) {
    if (ui.json) ui.data({ formatVersion: 1, realm, days, dryRun: true, deleted: [], clients: verdicts });
    return ExitCode.ok;
  }
  if (doomed.length > 0 && !flags.yes) {
    if (!ui.interactive)
      throw new UsageError(
        `Would delete ${doomed.length} client(s) in realm ${realm}: rerun with --yes (or --dry-run to only list). Nothing was deleted.`,
      );
    if (!(await confirm(`Delete ${doomed.length} client(s)?`, false))) {
      ui.info('Nothing was deleted.');
      return ExitCode.failure;
    }
  }
  const deleted: string[] = [];
  for (const v of doomed) {
    await keycloakCall(
      () => session.client.clients.del({ realm, id: v.id }),
      undefined,
      `Deleting client ${v.clientId}`,
    );
    deleted.push(v.clientId);
  }
  // Start the clock for clients never seen before, so a later prune can tell how long they sat unused.
  for (const v of unseen) await markFirstSeen(session, realm, v.id, now);
  if (ui.json)
    ui.data({
      formatVersion: 1,
      realm,
      days,
      dryRun: false,
      deleted,
      marked: unseen.map((v) => v.clientId),
      clients: verdicts,
    });
  else {
    ui.info(ui.color.green(`Deleted ${deleted.length} client(s).`));
    if (unseen.length)
      ui.info(
        `Marked ${unseen.length} client(s) seen for the first time; they become prunable after ${days} day(s) without use.`,
      );
  }
  return ExitCode.ok;
}
