/** `mcp-keycloak export`: the realm's MCP configuration as realm JSON, for `kc.sh import` or a Git review. */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ConfigFlags } from '../config/load.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { writePrivateFile } from '../local/state.js';
import { exportRealm } from '../maintenance/export.js';
import { openMaintenance } from '../connect.js';
import type { Ui } from '../ui/output.js';

export interface ExportFlags extends ConfigFlags {
  output?: string;
}

/**
 * Why the output path cannot be written, in words, for the errors the user fixes by choosing another
 * path (usage errors, exit 64). `folder` is the folder the file goes in.
 */
function pathProblem(code: string | undefined, folder: string): string | undefined {
  switch (code) {
    case 'ENOENT':
      // The folder was there when checked: it went away, or it takes no new files (/proc).
      return `the folder ${folder} does not exist or takes no new files`;
    case 'EACCES':
    case 'EPERM':
      return `the folder ${folder} is not writable for this user (permission denied)`;
    case 'EROFS':
      return `the folder ${folder} is on a read-only file system`;
    case 'EISDIR':
      return 'the path is a directory';
    case 'ENOTDIR':
      return 'the path has a file where a folder is expected';
    case 'ENAMETOOLONG':
      return 'the path is too long a name';
  }
  return undefined;
}

/**
 * Refuses, before anything is read from Keycloak, an output path that is a directory or whose folder
 * is missing: export writes the file it is given and creates no folders, so a typo in the folder
 * is not silently made into a new one.
 */
async function checkOutput(output: string): Promise<string> {
  const path = resolve(output);
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory())
    throw new UsageError(
      `-o ${output} is a directory: name the file to write, e.g. -o ${resolve(path, 'realm.json')}.`,
    );
  const folder = dirname(path);
  const parent = await stat(folder).catch((error: NodeJS.ErrnoException) => error);
  if (parent instanceof Error) {
    if (parent.code === 'ENOENT')
      throw new UsageError(
        `Cannot write -o ${output}: the folder ${folder} does not exist: create it first, or choose another file.`,
      );
    const problem = pathProblem(parent.code, folder);
    if (problem) throw new UsageError(`Cannot write -o ${output}: ${problem}. Choose another file.`, { cause: parent });
  } else if (!parent.isDirectory()) {
    throw new UsageError(`Cannot write -o ${output}: ${pathProblem('ENOTDIR', folder)!}. Choose another file.`);
  }
  return path;
}

/** Writes the realm's MCP-relevant settings as JSON to --output or stdout; returns the exit code. */
export async function exportCommand(flags: ExportFlags, ui: Ui): Promise<number> {
  const path = flags.output !== undefined ? await checkOutput(flags.output) : undefined;
  const { config, session } = await openMaintenance(flags, ui);
  const document = await ui.step(`Reading realm ${config.realm}`, () =>
    exportRealm(
      session,
      config.realm,
      // The clients apply made: the resource clients (clientId = the MCP URL) and the machine clients.
      [...config.resources.map((r) => r.url), ...(config.machineClients ?? []).map((m) => m.clientId)],
    ),
  );
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (path) {
    // Written whole or not at all (temporary file + rename); nothing in it is secret, but 0600 costs nothing.
    await writePrivateFile(path, text, { createFolder: false }).catch((error: NodeJS.ErrnoException) => {
      const problem = pathProblem(error.code, dirname(path));
      if (problem)
        throw new UsageError(`Cannot write -o ${flags.output}: ${problem}. Choose another file.`, { cause: error });
      const reason =
        error.code === 'ENOSPC'
          ? 'no space left on the device'
          : error.code === 'EDQUOT'
            ? 'over the disk quota'
            : (error.code ?? error.message);
      throw new CliError(`Cannot write -o ${flags.output} (${reason}); nothing was written.`, undefined, {
        cause: error,
      });
    });
    if (ui.json) ui.data({ formatVersion: 1, realm: config.realm, output: path });
    else ui.warn(`Wrote realm ${config.realm} to ${path} (import: kc.sh import --file ${flags.output}).`);
  } else {
    process.stdout.write(text);
  }
  return ExitCode.ok;
}
