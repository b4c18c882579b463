#!/usr/bin/env node
/**
 * Measures how long `mcp-keycloak init --yes` takes against a Keycloak that already runs: the first run
 * (fresh realm, files written, doctor) and a re-run in the configured folder, with and without its
 * doctor step (`--no-doctor`). The figures in docs/commands/init.md come from this script.
 *
 *   npm run build
 *   KEYCLOAK_URL=http://127.0.0.1:8080 KEYCLOAK_ADMIN_PASSWORD=… node scripts/measure-init.mjs [--first N] [--reruns N]
 *
 * Every run is the built CLI as a whole process (Node start-up included), timed from spawn to exit.
 * Re-runs with and without doctor alternate (A B A B …) so that a change in machine load hits both.
 * It creates one realm per first run (`init-bench-…`) and deletes each with `destroy --whole-realm`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'mcp-keycloak.js');
const { values } = parseArgs({
  options: { first: { type: 'string', default: '3' }, reruns: { type: 'string', default: '9' } },
});
const firstRuns = Number(values.first);
const reruns = Number(values.reruns);
if (!process.env.KEYCLOAK_URL || !process.env.KEYCLOAK_ADMIN_PASSWORD) {
  console.error('error: set KEYCLOAK_URL and KEYCLOAK_ADMIN_PASSWORD (a Keycloak that already runs).');
  process.exit(2);
}

/** Runs the CLI in `cwd` and resolves with its wall time in seconds; a non-zero exit stops the measurement. */
function timed(args, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`mcp-keycloak ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').pop()}`));
    });
  });
}

/** min / median / max of a list of seconds, as printed in the docs. */
function summary(list) {
  const sorted = [...list].sort((a, b) => a - b);
  const median =
    sorted.length % 2
      ? sorted[(sorted.length - 1) / 2]
      : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const f = (s) => s.toFixed(2);
  return `median ${f(median)} s (min ${f(sorted[0])}, max ${f(sorted.at(-1))}; ${sorted.length} runs)`;
}

const realms = [];
const dirs = [];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(
  `Node ${process.version}, ${cpus().length} cores, Keycloak ${process.env.KEYCLOAK_URL}, load average ${load()}`,
);
try {
  const first = [];
  for (let i = 0; i < firstRuns; i++) {
    const realm = `init-bench-${Date.now().toString(36)}${i}`;
    const dir = mkdtempSync(join(tmpdir(), 'mcp-keycloak-init-bench-'));
    realms.push(realm);
    dirs.push(dir);
    first.push(await timed(['init', '--yes', '--realm', realm], dir));
  }
  const dir = dirs[0];
  const withDoctor = [];
  const withoutDoctor = [];
  await timed(['init', '--yes'], dir); // warm-up: file cache, Keycloak's JIT for this realm
  for (let i = 0; i < reruns; i++) {
    withDoctor.push(await timed(['init', '--yes'], dir));
    withoutDoctor.push(await timed(['init', '--yes', '--no-doctor'], dir));
  }
  console.log(`first init --yes (new realm, doctor included): ${summary(first)}`);
  console.log(`re-run init --yes (doctor included):           ${summary(withDoctor)}`);
  console.log(`re-run init --yes --no-doctor:                 ${summary(withoutDoctor)}`);
  console.log(`load average afterwards ${load()}`);
} finally {
  for (const realm of realms)
    await timed(['destroy', '--whole-realm', '--yes', '--realm', realm], tmpdir()).catch((e) =>
      console.error(`cleanup: ${e.message}`),
    );
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
