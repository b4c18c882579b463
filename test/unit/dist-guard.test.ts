/**
 * The test-run guard (issue 22): the integration tests run dist/, so a build older than src/ must stop the run
 * with one line instead of testing old code.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertBuildIsFresh, staleBuildReason } from '../support/dist-guard.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A checkout with src/<nested file> and dist/cli.js, each touched at the given second. */
function checkout(times: { src: number; dist?: number }): string {
  const root = mkdtempSync(join(tmpdir(), 'dist-guard-'));
  roots.push(root);
  mkdirSync(join(root, 'src', 'server'), { recursive: true });
  writeFileSync(join(root, 'src', 'cli.ts'), '');
  writeFileSync(join(root, 'src', 'server', 'http.ts'), '');
  utimesSync(join(root, 'src', 'cli.ts'), 1_000, 1_000);
  utimesSync(join(root, 'src', 'server', 'http.ts'), times.src, times.src);
  if (times.dist !== undefined) {
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'cli.js'), '');
    utimesSync(join(root, 'dist', 'cli.js'), times.dist, times.dist);
  }
  return root;
}

describe('the dist/ guard', () => {
  it('passes when dist/cli.js is newer than every file under src/', () => {
    expect(staleBuildReason(checkout({ src: 2_000, dist: 3_000 }))).toBeUndefined();
  });

  it('names the newer source file when a file under src/ changed after the build', () => {
    const reason = staleBuildReason(checkout({ src: 4_000, dist: 3_000 }));
    expect(reason).toBe(
      'dist/ is older than src/server/http.ts: run `npm run build` before the integration tests (npm test does).',
    );
  });

  it('says dist/cli.js is missing when nothing was built', () => {
    expect(staleBuildReason(checkout({ src: 2_000 }))).toMatch(/^dist\/cli\.js is missing: run `npm run build`/);
  });

  it('throws one line, without a stack, for a stale build', () => {
    const root = checkout({ src: 4_000, dist: 3_000 });
    expect(() => assertBuildIsFresh(root)).toThrow(/^dist\/ is older than src\/server\/http\.ts/);
    try {
      assertBuildIsFresh(root);
    } catch (error) {
      expect((error as Error).stack?.split('\n')).toHaveLength(1);
    }
  });
});
