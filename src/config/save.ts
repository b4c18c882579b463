/**
 * `apply --save`: the realm-shaping flags of one run written into the config file, so that what apply
 * set up is what `doctor`, `doctor --fix` and the next `apply` read. Without it, a flag such as
 * `--cimd` shapes the realm once, and doctor then calls the CIMD policy "not managed here" and a
 * `doctor --fix` after `destroy` does not restore it (issue 21). `--keycloak-url` and `--realm` are not
 * saved: they pick which realm, not its shape, and saving them would point the file elsewhere.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import {
  applyOverrideArgs,
  describeZodError,
  mergeSources,
  pickConfigFile,
  readConfigFile,
  type ConfigFlags,
} from './load.js';
import { configSchema } from './schema.js';
import { UsageError } from '../errors.js';
import { command } from '../ui/invocation.js';

/** The flags that change what apply provisions in the realm (not which realm). */
const SHAPING_FLAGS = [
  'resource',
  'scope',
  'toolScope',
  'dcr',
  'trustedHost',
  'webOrigin',
  'cimd',
  'cimdDomain',
  'cimdAllowHttp',
  'requireDpop',
  'client',
  'testUser',
] as const satisfies readonly (keyof ConfigFlags)[];

/** What the config file would become with this run's realm-shaping flags; undefined when it says that already (or there is no file). */
export interface UnsavedFlags {
  file: string;
  /** The flags as typed, e.g. `--cimd --tool-scope divide_numbers=mcp:admin`. */
  words: string;
  fromFile: Record<string, unknown>;
  merged: Record<string, unknown>;
}

/** The realm-shaping flags the config file does not hold yet; undefined without such flags or without a config file. */
export async function unsavedFlags(
  flags: ConfigFlags,
  options: { save?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<UnsavedFlags | undefined> {
  const { env = process.env, cwd = process.cwd() } = options;
  const shaping: ConfigFlags = {};
  for (const key of SHAPING_FLAGS) if (flags[key] !== undefined) Object.assign(shaping, { [key]: flags[key] });
  // applyOverrideArgs leaves --test-user out (it is for pasted commands); here it is one of the flags to save.
  const words = [...applyOverrideArgs(shaping), ...(shaping.testUser ? ['--test-user', shaping.testUser] : [])].join(
    ' ',
  );
  if (!words) return undefined;
  const file = pickConfigFile(flags, env, cwd);
  if (!file && options.save)
    throw new UsageError(
      `--save writes the flags into the config file, and there is none here: create it with \`${command('init')}\`, or name it with --config FILE. Nothing was changed.`,
    );
  if (!file) return undefined;
  const fromFile = await readConfigFile(file);
  // Only the flags: environment variables stay where they are set, for doctor as for apply.
  const merged = mergeSources(fromFile, {}, shaping);
  if (JSON.stringify(merged) === JSON.stringify(fromFile)) return undefined;
  return { file, words, fromFile, merged };
}

/** Refuses (before apply changes anything) a config the file would not hold without the environment's values. */
export function checkSavable(unsaved: UnsavedFlags): void {
  const parsed = configSchema.safeParse(unsaved.merged);
  if (!parsed.success)
    throw new UsageError(
      `--save: ${unsaved.file} with these flags would not be valid (${describeZodError(parsed.error)}): pass the missing values as flags too. Nothing was changed.`,
    );
}

/** Writes the merged config (validated, through a temporary file and a rename); returns the keys it removed. */
export async function saveFlags(unsaved: UnsavedFlags): Promise<string[]> {
  checkSavable(unsaved);
  const temporary = `${unsaved.file}.mcp-keycloak-${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(unsaved.merged, null, 2)}\n`);
    await rename(temporary, unsaved.file);
  } finally {
    await rm(temporary, { force: true });
  }
  return droppedKeys(unsaved.fromFile, unsaved.merged);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The user's keys (as `a.b[0].c` paths) that `before` has and `after` lacks: what a rewrite would drop. */
export function droppedKeys(before: unknown, after: unknown, path = ''): string[] {
  if (Array.isArray(before))
    return before.flatMap((item, index) => {
      const here = `${path}[${index}]`;
      // A value in a list that changed (a scope) is no key; an entry (a resource) that is gone is.
      if (Array.isArray(after) && index < after.length) return droppedKeys(item, after[index], here);
      return isObject(item) ? [here] : [];
    });
  if (!isObject(before)) return [];
  return Object.entries(before).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    if (!isObject(after) || !(key in after)) return [here];
    return droppedKeys(value, after[key], here);
  });
}
