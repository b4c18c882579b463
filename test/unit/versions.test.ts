/**
 * The table of Keycloak version differences and its helpers (pure): versions compare by number, not
 * text; a row bites a version older than its fix and a setup that meets it; apply's refusal names the
 * version, the setting and the fix.
 */
import { describe, expect, it } from 'vitest';
import { versionRefusal, versionSensitive } from '../../src/realm/server-version.js';
import {
  compareVersions,
  differencesFor,
  olderThan,
  VERSION_DIFFERENCES,
  versionParts,
} from '../../src/keycloak/versions.js';
import type { DesiredRealm } from '../../src/realm/desired.js';

const ids = (version: string, setup: Parameters<typeof differencesFor>[1]) =>
  differencesFor(version, setup).map((row) => row.id);

describe('compareVersions', () => {
  it('compares numerically, part by part, and ignores qualifiers', () => {
    expect(compareVersions('26.10.0', '26.9.9')).toBeGreaterThan(0);
    expect(compareVersions('26.0.8', '26.4.0')).toBeLessThan(0);
    expect(compareVersions('25.0.6', '26.0.0')).toBeLessThan(0);
    expect(compareVersions('26.4.0', '26.4')).toBe(0);
    expect(compareVersions('26.2.5.redhat-00001', '26.2.5')).toBe(0);
    expect(compareVersions('26.5.0-SNAPSHOT', '26.4.7')).toBeGreaterThan(0);
    expect(() => compareVersions('unknown', '26.0.0')).toThrow('Not a Keycloak version: "unknown"');
    expect(versionParts('999.0.0-SNAPSHOT')).toEqual([999, 0, 0]);
  });

  it('olderThan is strict: the fix version itself is not older', () => {
    expect(olderThan('26.3.9', '26.4.0')).toBe(true);
    expect(olderThan('26.4.0', '26.4.0')).toBe(false);
  });
});

describe('the table of differences', () => {
  it('has unique ids, parseable fix versions and a consequence and fix for each row', () => {
    expect(new Set(VERSION_DIFFERENCES.map((row) => row.id)).size).toBe(VERSION_DIFFERENCES.length);
    for (const row of VERSION_DIFFERENCES) {
      expect(versionParts(row.fixedIn), row.id).toBeDefined();
      expect(row.consequence.length, row.id).toBeGreaterThan(20);
      expect(row.fix, row.id).toMatch(/upgrade Keycloak to \d+\.\d+\.\d+ or later/);
    }
  });

  it('26.0.8 with browser clients allowed meets every difference', () => {
    expect(ids('26.0.8', { dcrMode: 'anonymous', webOrigins: true })).toEqual([
      'rfc8414-path-inserted-metadata',
      'registration-cors',
      'registration-web-origins-policy',
      'token-endpoint-auth-method-ignored',
      'cimd-and-resource-indicators',
      'registration-scope-shrinks-default-scopes',
    ]);
  });

  it('26.4.7 has path-inserted metadata but not the web origins policy; 26.7.3 only the scope bug; 26.8.0 none', () => {
    expect(ids('26.4.7', { dcrMode: 'anonymous', webOrigins: true })).not.toContain('rfc8414-path-inserted-metadata');
    expect(ids('26.4.7', { dcrMode: 'anonymous', webOrigins: true })).toContain('registration-web-origins-policy');
    expect(ids('26.7.3', { dcrMode: 'anonymous', webOrigins: true })).toEqual([
      'registration-scope-shrinks-default-scopes',
    ]);
    expect(ids('26.8.0', { dcrMode: 'anonymous', webOrigins: true })).toEqual([]);
  });

  it('a setup that does not meet a difference is not told about it', () => {
    const noBrowser = ids('26.0.8', { dcrMode: 'anonymous', webOrigins: false });
    expect(noBrowser).not.toContain('registration-cors');
    expect(noBrowser).not.toContain('registration-web-origins-policy');
    expect(ids('26.0.8', { dcrMode: 'off', webOrigins: false })).toEqual([
      'rfc8414-path-inserted-metadata',
      'cimd-and-resource-indicators',
    ]);
  });

  it('claims nothing for a version it cannot read', () => {
    expect(ids('unknown', { dcrMode: 'anonymous', webOrigins: true })).toEqual([]);
  });
});

describe("apply's refusal", () => {
  const desired = (webOrigins?: string[]): DesiredRealm => ({
    realm: 'r',
    scopes: [{ name: 'mcp:run', audience: 'http://localhost:8000/mcp' }],
    resourceClients: [{ url: 'http://localhost:8000/mcp' }],
    dcr: { mode: 'anonymous', trustedHosts: [], ...(webOrigins ? { webOrigins } : {}) },
  });

  it('reads the version only when the desired state has web origins', () => {
    expect(versionSensitive(desired())).toBe(false);
    expect(versionSensitive(desired([]))).toBe(false);
    expect(versionSensitive(desired(['http://localhost:6274']))).toBe(true);
  });

  it('refuses web origins before 26.5.0 in one sentence naming the version and the fix', () => {
    expect(versionRefusal(desired(['http://localhost:6274']), '26.4.7')).toBe(
      'Keycloak 26.4.7 cannot hold dcr.webOrigins (--web-origin): it has no "registration-web-origins" client registration policy; ' +
        'upgrade Keycloak to 26.5.0 or later, or remove dcr.webOrigins (--web-origin). Nothing was changed.',
    );
    expect(versionRefusal(desired(['http://localhost:6274']), '26.5.0')).toBeUndefined();
    expect(versionRefusal(desired(), '26.0.8')).toBeUndefined();
    expect(versionRefusal(desired(['http://localhost:6274']), 'unknown')).toBeUndefined();
  });
});
