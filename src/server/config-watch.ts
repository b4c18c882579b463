/**
 * Watches serve's config file so that a running server follows it (docs/decisions.md: why a watch and
 * not SIGHUP). The folder is watched, not the file: editors and `init`/`apply --save` replace the file
 * by a rename, which a watch on the file itself would miss after the first time. Events are debounced
 * and a save that leaves the text as it was is no change.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Editors write in several steps (truncate, write, rename): wait until the file has been quiet this long. */
const SETTLE_MS = 150;

export interface ConfigWatch {
  close(): void;
}

/**
 * Calls `onChange` (one call at a time, in order) each time the file's text changes; a file that
 * disappears for a moment (a rename in progress) is not a change.
 */
export async function watchConfigFile(file: string, onChange: () => Promise<void>): Promise<ConfigWatch> {
  let last = await readFile(file, 'utf8').catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const check = () => {
    running = running.then(async () => {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined || text === last) return;
      last = text;
      await onChange();
    });
  };
  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, name) => {
    // Some platforms give no name: then any change in the folder is checked (the text comparison filters).
    if (name && name !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(check, SETTLE_MS);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
