/**
 * The integration and e2e tests run the built CLI (dist/), not src/. `npm test` builds first, but a run of
 * vitest alone after an edit would test yesterday's build and pass or fail for the wrong reason (issue 22).
 * The keycloak tier's globalSetup calls this first and stops the run with one line when dist/ is stale.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The newest modification time of any file under `dir`, and which file it is. */
function newestFile(dir: string): { path: string; mtimeMs: number } | undefined {
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}

/** Why dist/cli.js cannot be what src/ builds to (missing, or older than a file under src/), or undefined. */
export function staleBuildReason(root: string): string | undefined {
  const cli = join(root, 'dist', 'cli.js');
  let built: number;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    return 'dist/cli.js is missing: run `npm run build` before the integration tests (npm test does).';
  }
  const newest = newestFile(join(root, 'src'));
  if (newest && newest.mtimeMs > built)
    return `dist/ is older than ${relative(root, newest.path)}: run \`npm run build\` before the integration tests (npm test does).`;
  return undefined;
}

/** Throws one line (no stack: the line says all) when dist/ is stale. */
export function assertBuildIsFresh(root: string): void {
  const reason = staleBuildReason(root);
  if (!reason) return;
  const error = new Error(reason);
  error.stack = `Error: ${reason}`;
  throw error;
}
