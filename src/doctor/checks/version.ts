/**
 * The Keycloak version behind the setup and what it cannot do for MCP clients. The version is read
 * from the admin API (GET /admin/serverinfo: one request, only when admin credentials are given); every
 * row of the one table of differences (src/keycloak/versions.ts) that this version has and this setup
 * meets becomes a warning with its consequence for real clients and its fix. Without admin credentials
 * the version is unknown and nothing is claimed about it.
 */
import type { Config } from '../../config/schema.js';
import { keycloakCall } from '../../keycloak/errors.js';
import { serverFeatures } from '../../realm/server-features.js';
import { MCP_FEATURES } from '../../local/features.js';
import { differencesFor, type VersionSetup } from '../../keycloak/versions.js';
import { desiredCimd } from '../../realm/cimd.js';
import { fail, pass, skip, warn, type Finding } from '../../findings.js';
import type { Check } from '../types.js';
import { blockedByAdminLogin } from '../verdicts.js';
import { KEYCLOAK_FIRST } from '../keycloak-hints.js';

const TITLE = 'Keycloak version';

/**
 * What about this configuration decides which version differences bite it. claude.ai's CIMD document
 * matters only where CIMD can run: not on a Keycloak known to run without the cimd feature (realm.cimd says that).
 */
function versionSetup(config: Config, features?: string[]): VersionSetup {
  const claudeCimd =
    Boolean(desiredCimd(config.cimd)?.clientIdDomains.includes('claude.ai')) &&
    (!features || features.includes('cimd'));
  return { dcrMode: config.dcr.mode, webOrigins: (config.dcr.webOrigins?.length ?? 0) > 0, claudeCimd };
}

/**
 * The findings for Keycloak `version` and this configuration: the version itself (naming the differences
 * that stop no client), then one warning per difference that can make a client of this setup fail.
 */
export function versionFindings(version: string, config: Config, features?: string[]): Finding[] {
  const all = differencesFor(version, versionSetup(config, features));
  const differences = all.filter((row) => row.stopsClients);
  const harmless = all.filter((row) => !row.stopsClients);
  let actual = `Keycloak ${version}`;
  // The experimental features the 2026-07-28 generation needs (26.6+): what the server runs with, not what the config wants.
  if (features) actual += ` (${MCP_FEATURES.map((f) => `${f} ${features.includes(f) ? 'on' : 'off'}`).join(', ')})`;
  if (differences.length)
    actual += `: ${differences.length} known difference${differences.length === 1 ? '' : 's'} can stop clients of this setup (below)`;
  if (harmless.length)
    actual += `; it also lacks, without stopping MCP clients: ${harmless.map((row) => `${row.what} (fixed in ${row.fixedIn})`).join('; ')}`;
  // The differences that stop no client still carry their consequence and fix (in --json, and for readers of the finding).
  const details = harmless.length
    ? {
        actual,
        why: harmless.map((row) => row.consequence).join(' '),
        fix: harmless.map((row) => `${row.fix} (${row.id})`).join('; '),
      }
    : { actual };
  const findings: Finding[] = [pass('keycloak.version', TITLE, details)];
  for (const row of differences) {
    findings.push(
      warn(`keycloak.version.${row.id}`, `Keycloak ${version} lacks a fix from ${row.fixedIn}`, {
        expected: `Keycloak ${row.fixedIn} or later`,
        actual: `Keycloak ${version}: ${row.what}`,
        why: row.consequence,
        fix: row.fix,
      }),
    );
  }
  return findings;
}

export const versionCheck: Check = {
  id: 'keycloak.version',
  title: 'Reading the Keycloak version',
  async run(input, state) {
    if (!input.admin) {
      const stopped = blockedByAdminLogin(input, 'keycloak.version', TITLE);
      if (stopped) return [stopped];
      return [
        skip(
          'keycloak.version',
          TITLE,
          `version unknown: ${input.adminMissing ?? 'no admin credentials'}, and the version is read from the admin API`,
          input.keycloakProblemKind === 'unreachable'
            ? KEYCLOAK_FIRST
            : 'Set KEYCLOAK_ADMIN_PASSWORD (or KEYCLOAK_ADMIN_CLIENT_ID/SECRET) to read it and the differences that matter to this setup.',
        ),
      ];
    }
    let version: string;
    let features: string[];
    try {
      const info = await keycloakCall(
        () => input.admin!.client.serverInfo.find(),
        undefined,
        'reading the Keycloak version (GET /admin/serverinfo)',
      );
      version = info.systemInfo?.version ?? 'unknown';
      features = serverFeatures(info);
    } catch (error) {
      // The admin login worked, so the admin API was meant to answer: a failure, not a skip.
      return [
        fail('keycloak.version', TITLE, {
          actual: `version unknown: ${error instanceof Error ? error.message : String(error)}`,
          why: 'The admin login worked but the admin API did not answer GET /admin/serverinfo.',
          fix: 'Check that the admin API is reachable at --keycloak-url (a proxy may block /admin/), then run doctor again.',
        }),
      ];
    }
    state.server = { version, features };
    if (version === 'unknown')
      return [skip('keycloak.version', TITLE, 'version unknown: Keycloak\u2019s serverinfo names none')];
    return versionFindings(version, input.config, features);
  },
};
