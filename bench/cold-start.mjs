#!/usr/bin/env node
// Cold start of the built CLI, side by side with a bare Node start in the same run: `node -e 0`,
// `mcp-keycloak --help`, `mcp-keycloak init --help`, `mcp-keycloak --version`, interleaved so machine
// noise hits all alike. The ratio to the baseline is taken round by round (each case against the
// baseline run just before it) and its median printed. Every run gets a clean environment (PATH and
// HOME only): NODE_OPTIONS or NODE_EXTRA_CA_CERTS (≈ 25 ms to parse a full CA bundle) would add the
// same cost to both sides and flatter the ratio.
// Usage: npm run bench:cold-start [-- RUNS]   (needs `npm run build` first)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 20);
const cli = fileURLToPath(new URL('../bin/mcp-keycloak.js', import.meta.url));
const cases = {
  'node -e 0 (baseline)': ['-e', '0'],
  'mcp-keycloak --help': [cli, '--help'],
  'mcp-keycloak init --help': [cli, 'init', '--help'],
  'mcp-keycloak --version': [cli, '--version'],
};

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
const ratios = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let i = 0; i < runs + 2; i++) {
  let baselineMs;
  for (const [name, args] of Object.entries(cases)) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, {
      stdio: 'ignore',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${name} exited with ${result.status}`);
    baselineMs ??= ms; // the first case is the baseline
    if (i >= 2) {
      // the first two rounds warm the file cache
      samples[name].push(ms);
      ratios[name].push(ms / baselineMs);
    }
  }
}

const pct = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
const baseline = pct(samples['node -e 0 (baseline)'], 50);
console.log(`Cold start, ${runs} runs each, Node ${process.version}, ${process.platform}/${process.arch}`);
console.log('case                          median     p90      min   over baseline   × baseline (median of pairs)');
for (const [name, values] of Object.entries(samples)) {
  const median = pct(values, 50);
  const over = name.includes('baseline') ? '' : `+${(median - baseline).toFixed(0)} ms`;
  const times = name.includes('baseline') ? '' : `${pct(ratios[name], 50).toFixed(2)}×`;
  console.log(
    `${name.padEnd(28)} ${median.toFixed(0).padStart(6)} ms ${pct(values, 90).toFixed(0).padStart(5)} ms ${Math.min(
      ...values,
    )
      .toFixed(0)
      .padStart(5)} ms   ${over.padEnd(13)}   ${times}`,
  );
}
