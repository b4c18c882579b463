#!/usr/bin/env node
/**
 * `npm run test:matrix [-- 26.0.8 26.4.7 …]`: the realm, doctor and e2e suites once per Keycloak
 * version, one Keycloak at a time, each started by the test harness itself (KEYCLOAK_VERSION; a
 * KEYCLOAK_URL in the environment is dropped, since it names one server of one version). Prints each
 * version's result and time, and exits 1 when any version failed.
 *
 * KEYCLOAK_FEATURES is passed through (the harness's default: cimd,resource-indicators from 26.6.0 on).
 *
 * `--chain` is what `npm test` ends with, in two legs, one Keycloak after the other: the real clients'
 * chain (test/e2e/chain.test.ts, policies.test.ts) on the oldest supported version, then the DCR suites
 * on the pinned newest with its experimental features off (KEYCLOAK_FEATURES=none), while the main run
 * had them on. So CI covers the default version fully both ways and the oldest one end to end. With
 * versions named (`--chain 26.4.7`) it runs the chain suites on each of them. The chain's first test
 * compares the version the server reports with KEYCLOAK_VERSION, so a run cannot silently test another Keycloak.
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

/** The pinned newest version (src/local/distribution.ts KEYCLOAK_VERSION): the features-off leg of `--chain`. */
const NEWEST = DEFAULT_VERSIONS[DEFAULT_VERSIONS.length - 1];

/**
 * Every suite that says whether a version works (SUITES: provisioning, diagnosis, the real clients' chain,
 * all DCR), and the suites whose expectations depend on the features (resource indicators, CIMD, step-up,
 * doctor's 2026 checks): what `npm test` also runs on NEWEST with the features off, so both modes are pinned.
 */
const DCR_SUITES = [
  ...SUITES,
  'test/integration/doctor-2026.test.ts',
  'test/integration/resource-indicators.test.ts',
  'test/integration/machine-clients.test.ts',
  'test/integration/cimd.test.ts',
  'test/e2e/step-up.test.ts',
];

/** What the harness (test/support/global-setup.ts) turns on when KEYCLOAK_FEATURES is unset, and from which version. */
const DEFAULT_FEATURES = 'cimd,resource-indicators';
const FEATURES_SINCE = [26, 6, 0];

const args = process.argv.slice(2);
const chainOnly = args.includes('--chain');
const named = args.filter((a) => a !== '--chain');
const listed = named.length ? named : process.env.KEYCLOAK_VERSIONS?.split(/[\s,]+/).filter(Boolean);
/** One Keycloak each: its version, its features (undefined: KEYCLOAK_FEATURES or the harness's default), the files. */
const legs = listed
  ? listed.map((version) => ({
      version,
      suites: chainOnly ? CHAIN_SUITES : SUITES,
      what: chainOnly ? 'the e2e chain' : undefined,
    }))
  : chainOnly
    ? [
        { version: OLDEST_SUPPORTED, suites: CHAIN_SUITES, what: 'the e2e chain' },
        { version: NEWEST, features: 'none', suites: DCR_SUITES, what: 'the DCR suites with the features off' },
      ]
    : DEFAULT_VERSIONS.map((version) => ({ version, suites: SUITES }));

/** The features the harness starts `leg` with, as its log line shows them. */
function featuresOf(leg) {
  const [major = 0, minor = 0, patch = 0] = leg.version.split(/[.-]/).map(Number);
  const [sinceMajor, sinceMinor, sincePatch] = FEATURES_SINCE;
  const older =
    major !== sinceMajor ? major < sinceMajor : minor !== sinceMinor ? minor < sinceMinor : patch < sincePatch;
  if (older) return 'none';
  const value = leg.features ?? process.env.KEYCLOAK_FEATURES ?? DEFAULT_FEATURES;
  return value.trim() === '' ? 'none' : value.trim();
}

function runSuites(leg) {
  const env = { ...process.env, KEYCLOAK_VERSION: leg.version };
  if (leg.features !== undefined) env.KEYCLOAK_FEATURES = leg.features;
  delete env.KEYCLOAK_URL;
  delete env.KEYCLOAK_ADMIN_PASSWORD;
  delete env.KEYCLOAK_ADMIN_USERNAME;
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', '--project', 'keycloak', ...leg.suites], { env, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const results = [];
for (const leg of legs) {
  const features = featuresOf(leg);
  process.stdout.write(
    `\n=== Keycloak ${leg.version}, features ${features}${leg.what ? `: ${leg.what}` : ''} (${leg.suites.length} files) ===\n`,
  );
  const started = Date.now();
  const code = await runSuites(leg);
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ version: leg.version, features, ok: code === 0, seconds });
  process.stdout.write(
    `=== Keycloak ${leg.version}, features ${features}: ${code === 0 ? 'passed' : 'FAILED'} in ${seconds} s ===\n`,
  );
}
process.stdout.write('\nmatrix:\n');
for (const r of results)
  process.stdout.write(
    `  Keycloak ${r.version}, features ${r.features}: ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds} s\n`,
  );
process.exit(results.every((r) => r.ok) ? 0 : 1);
