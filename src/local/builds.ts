/**
 * One built copy of the cached Keycloak distribution per build configuration (database kind and features).
 *
 * `kc.sh start-dev` runs Quarkus' build step ("augmentation", 30 s on a quiet 2-core machine, minutes under
 * load) whenever its build options differ from those persisted by the last build of that distribution folder
 * (AbstractAutoBuildCommand.requiresReAugmentation compares kc.db, kc.features and the profile). One folder
 * shared by every feature set therefore rebuilds on every switch, and `keycloak start` (dev-file) and the test
 * harness (dev-mem) rebuild each other's. So each configuration gets a folder of its own next to the
 * distribution: hard links to its files (no extra space), except lib/quarkus/ (what the build rewrites, 3 MB)
 * which is copied, and data/ which starts empty. Its first start pays the build; every later start with the
 * same configuration finds it built. `kc.sh build` cannot do that ahead: it refuses the dev profile that
 * start-dev persists, and `start-dev --dry-run` builds nothing.
 *
 * A distribution named by KEYCLOAK_HOME is the user's own (their providers, their conf): it is used as it is.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface BuildConfiguration {
  db: 'dev-mem' | 'dev-file';
  /** The features kc.sh gets (`--features`); order and duplicates do not matter. */
  features?: readonly string[] | undefined;
}

export interface BuildHome {
  /** The folder to run kc.sh from. */
  home: string;
  /**
   * A start from this folder has succeeded before: Keycloak's build for this configuration is done. Undefined
   * for KEYCLOAK_HOME, whose last build is not known.
   */
  built: boolean | undefined;
  /** Call once Keycloak answers: later starts then know the build is done (nothing for KEYCLOAK_HOME). */
  markStarted(): Promise<void>;
}

/** Written into a build folder once Keycloak started from it answered: the build it made is complete. */
const STARTED_MARKER = '.mcp-keycloak-started';

/** The folder name of a configuration: `dev-file_cimd+resource-indicators`, `dev-mem_no-features`. */
export function buildName(configuration: BuildConfiguration): string {
  const features = [...new Set(configuration.features ?? [])].sort();
  // Feature names are letters, digits, - and _ with an optional :vN (features.ts); `.` stands for the colon.
  const named = features.map((feature) => feature.replace(':', '.')).join('+');
  return `${configuration.db}_${named || 'no-features'}`;
}

/** Where the build folders of `distribution` live: `keycloak-26.7.3.builds/` beside it, inside the cache. */
export function buildsFolder(distribution: string): string {
  return join(dirname(distribution), `${basename(distribution)}.builds`);
}

/**
 * The folder to start `configuration` from: `distribution` itself when KEYCLOAK_HOME chose it, else its build
 * folder for that configuration, made now when missing (in a staging folder renamed into place, so a half-made
 * copy is never used, and two starts making the same one at once both end up with a whole folder).
 */
export async function buildHome(
  distribution: string,
  configuration: BuildConfiguration,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BuildHome> {
  if (env.KEYCLOAK_HOME) return { home: distribution, built: undefined, markStarted: () => Promise.resolve() };
  const home = join(buildsFolder(distribution), buildName(configuration));
  if (!existsSync(join(home, 'bin', 'kc.sh'))) {
    await mkdir(buildsFolder(distribution), { recursive: true });
    const staging = join(buildsFolder(distribution), `.staging-${randomBytes(6).toString('hex')}`);
    try {
      await linkTree(distribution, staging, '');
      await rename(staging, home).catch((error: NodeJS.ErrnoException) => {
        // Another start made it first (ENOTEMPTY/EEXIST): theirs is as good as ours.
        if (!existsSync(join(home, 'bin', 'kc.sh'))) throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return {
    home,
    built: existsSync(join(home, STARTED_MARKER)),
    markStarted: () => writeFile(join(home, STARTED_MARKER), `${new Date().toISOString()}\n`).catch(() => undefined),
  };
}

/**
 * Mirrors `from` into `to`: directories made, files hard-linked (copied where the file system refuses links),
 * lib/quarkus/ copied (the build rewrites it, and must never write through a link into the distribution), the
 * top-level data/ left out (realms, transaction logs and temporary files of whoever ran from there).
 */
async function linkTree(from: string, to: string, relative: string): Promise<void> {
  await mkdir(to, { recursive: true });
  const copyAll = relative === 'lib/quarkus';
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (path === 'data') continue;
    if (entry.isDirectory()) await linkTree(source, target, path);
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else if (copyAll) await copyFile(source, target);
    else await link(source, target).catch(() => copyFile(source, target));
  }
}
