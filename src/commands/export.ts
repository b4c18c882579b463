/** `mcp-keycloak export`: the realm's MCP configuration as realm JSON, for `kc.sh import` or a Git review. */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ConfigFlags } from '../config/load.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { writePrivateFile } from '../local/state.js';
import { exportRealm } from '../maintenance/export.js';
import { openMaintenance } from '../connect.js';
import type { Ui } from '../ui/output.js';

export interface ExportFlags extends ConfigFlags {
  output?: string;
}

/** Errors of the output path that the user fixes by choosing another path: usage errors, not failures. */
const PATH_ERRORS: Record<string, string> = {
  EISDIR: 'is a directory',
  ENOTDIR: 'has a file where a folder is expected',
  // mkdir of the parent folder, when a file of that name exists.
  EEXIST: 'has a file where a folder is expected',
  EACCES: 'is not writable (permission denied)',
  EPERM: 'is not writable (operation not permitted)',
  EROFS: 'is on a read-only file system',
  ENAMETOOLONG: 'is too long a name',
};

/** Refuses an output path that is a directory before anything is read from Keycloak. */
async function checkOutput(output: string): Promise<string> {
  const path = resolve(output);
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) throw new UsageError(`-o ${output} is a directory: name the file to write, e.g. -o ${resolve(path, 'realm.json')}.`);
  return path;
}

/** Writes the realm's MCP-relevant settings as JSON to --output or stdout; returns the exit code. */
export async function exportCommand(flags: ExportFlags, ui: Ui): Promise<number> {
  const path = flags.output !== undefined ? await checkOutput(flags.output) : undefined;
  const { config, session } = await openMaintenance(flags, ui);
  const document = await ui.step(`Reading realm ${config.realm}`, () => exportRealm(session, config.realm));
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (path) {
    // Written whole or not at all (temporary file + rename); nothing in it is secret, but 0600 costs nothing.
    await writePrivateFile(path, text).catch((error: NodeJS.ErrnoException) => {
      const problem = error.code ? PATH_ERRORS[error.code] : undefined;
      if (problem) throw new UsageError(`Cannot write -o ${flags.output}: the path ${problem}. Choose another file.`, { cause: error });
      throw new CliError(`Cannot write -o ${flags.output} (${error.code ?? error.message}); nothing was written.`, undefined, { cause: error });
    });
    if (ui.json) ui.data({ formatVersion: 1, realm: config.realm, output: path });
    else ui.warn(`Wrote realm ${config.realm} to ${path} (import: kc.sh import --file ${flags.output}).`);
  } else {
    process.stdout.write(text);
  }
  return ExitCode.ok;
}
