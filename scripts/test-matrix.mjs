#!/usr/bin/env node
/**
 * `npm run test:matrix [-- 26.0.8 26.4.7 …]`: the realm, doctor and e2e suites once per Keycloak
 * version, one Keycloak at a time, each started by the test harness itself (KEYCLOAK_VERSION; a
 * KEYCLOAK_URL in the environment is dropped, since it names one server of one version). Prints each
 * version's result and time, and exits 1 when any version failed.
 *
 * `--chain` runs only the real clients' chain (test/e2e/chain.test.ts, policies.test.ts), by default on the oldest
 * supported version: `npm test` ends with it, so CI covers the default version fully and the oldest
 * one end to end. The chain's first test compares the version the server reports with KEYCLOAK_VERSION,
 * so a run cannot silently test another Keycloak.
 */
import { spawn } from 'node:child_process';

/** The versions the matrix covers when none are named: oldest supported, a middle one, the pinned newest. */
const DEFAULT_VERSIONS = ['26.0.8', '26.4.7', '26.7.3'];

/** The suites that say whether a version works: provisioning, diagnosis, and the real clients' chain. */
const SUITES = [
  'test/integration/apply.test.ts',
  'test/integration/destroy.test.ts',
  'test/integration/duplicates.test.ts',
  'test/integration/export.test.ts',
  'test/integration/versions.test.ts',
  'test/integration/doctor.test.ts',
  'test/integration/doctor-server.test.ts',
  'test/integration/doctor-token.test.ts',
  'test/e2e/chain.test.ts',
  'test/e2e/doctor-e2e.test.ts',
  'test/e2e/policies.test.ts',
];

/** The oldest supported version (docs/keycloak-versions.md): what `--chain` covers when none is named. */
const OLDEST_SUPPORTED = '26.0.8';

/** The real clients' chain and the registration policies they meet: what `npm test` adds on the oldest supported version. */
const CHAIN_SUITES = ['test/e2e/chain.test.ts', 'test/e2e/policies.test.ts'];

const args = process.argv.slice(2);
const chainOnly = args.includes('--chain');
const named = args.filter((a) => a !== '--chain');
const fallback = chainOnly ? [OLDEST_SUPPORTED] : DEFAULT_VERSIONS;
const versions = named.length ? named : (process.env.KEYCLOAK_VERSIONS?.split(/[\s,]+/).filter(Boolean) ?? fallback);
const suites = chainOnly ? CHAIN_SUITES : SUITES;

function runSuites(version) {
  const env = { ...process.env, KEYCLOAK_VERSION: version };
  delete env.KEYCLOAK_URL;
  delete env.KEYCLOAK_ADMIN_PASSWORD;
  delete env.KEYCLOAK_ADMIN_USERNAME;
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', '--project', 'keycloak', ...suites], { env, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const results = [];
for (const version of versions) {
  process.stdout.write(`\n=== Keycloak ${version}${chainOnly ? ': the e2e chain' : ''} ===\n`);
  const started = Date.now();
  const code = await runSuites(version);
  results.push({ version, ok: code === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
process.stdout.write('\nmatrix:\n');
for (const r of results) process.stdout.write(`  Keycloak ${r.version}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds} s\n`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
