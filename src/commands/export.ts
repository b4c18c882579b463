/** `mcp-keycloak export`: the realm's MCP configuration as realm JSON, for `kc.sh import` or a Git review. */
import { resolve } from 'node:path';
import type { ConfigFlags } from '../config/load.js';
import { ExitCode } from '../errors.js';
import { writePrivateFile } from '../local/state.js';
import { exportRealm } from '../maintenance/export.js';
import { openMaintenance } from '../maintenance/connect.js';
import type { Ui } from '../ui/output.js';

export interface ExportFlags extends ConfigFlags {
  output?: string;
}

export async function exportCommand(flags: ExportFlags, ui: Ui): Promise<number> {
  const { config, session } = await openMaintenance(flags, ui);
  const document = await ui.step(`Reading realm ${config.realm}`, () => exportRealm(session, config.realm));
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (flags.output) {
    const path = resolve(flags.output);
    // Written whole or not at all (temporary file + rename); nothing in it is secret, but 0600 costs nothing.
    await writePrivateFile(path, text);
    if (ui.json) ui.data({ formatVersion: 1, realm: config.realm, output: path });
    else ui.warn(`Wrote realm ${config.realm} to ${path} (import: kc.sh import --file ${flags.output}).`);
  } else {
    process.stdout.write(text);
  }
  return ExitCode.ok;
}
