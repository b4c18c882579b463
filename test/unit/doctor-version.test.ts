/**
 * doctor's Keycloak version check (pure parts, no Keycloak): the version is named, each difference of
 * the table that the version has and the setup meets is one warning with consequence and fix, and
 * without admin credentials the version is "unknown", never guessed. The same findings on real
 * Keycloaks: test/integration/doctor.test.ts (the matrix runs it on 26.0.8, 26.4.7 and 26.7.3).
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { versionCheck, versionFindings } from '../../src/doctor/checks/version.js';
import type { DoctorInput } from '../../src/doctor/types.js';

const base = {
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp-demo',
  resources: [{ url: 'http://localhost:8000/mcp', scopes: ['mcp:run'] }],
};
const config = configSchema.parse(base);
const withWebOrigins = configSchema.parse({
  ...base,
  dcr: { mode: 'anonymous', trustedHosts: [], webOrigins: ['http://localhost:6274'] },
});
const summary = (version: string, c = config) => versionFindings(version, c).map((f) => `${f.status} ${f.id}`);

describe('versionFindings', () => {
  it('26.0.8 with registration on: the version, then one warning per difference that can stop a client', () => {
    expect(summary('26.0.8')).toEqual([
      'pass keycloak.version',
      'warn keycloak.version.rfc8414-path-inserted-metadata',
    ]);
    const line = versionFindings('26.0.8', config)[0]!.actual!;
    expect(line).toMatch(
      /^Keycloak 26\.0\.8: 1 known difference can stop clients of this setup \(below\); it also lacks, without stopping MCP clients: /,
    );
    // The differences that stop no client are named in the version line, each with the version that fixes it.
    for (const fixedIn of ['26.6.0', '26.8.0']) expect(line).toContain(`(fixed in ${fixedIn})`);
  });

  it('web origins on 26.4.7 add the CORS and policy rows, each with consequence and fix', () => {
    const findings = versionFindings('26.4.7', withWebOrigins);
    const cors = findings.find((f) => f.id === 'keycloak.version.registration-cors')!;
    expect(cors).toMatchObject({ status: 'warn', expected: 'Keycloak 26.5.0 or later' });
    expect(cors.why).toMatch(/browser-based clients .* cannot register/);
    expect(cors.fix).toMatch(/^upgrade Keycloak to 26\.5\.0 or later/);
    expect(findings.some((f) => f.id === 'keycloak.version.registration-web-origins-policy')).toBe(true);
    expect(findings.some((f) => f.id === 'keycloak.version.rfc8414-path-inserted-metadata')).toBe(false);
  });

  it('26.7.3: no warning, the scope row (fixed in 26.8.0) named in the version line; registration off: nothing left', () => {
    expect(summary('26.7.3')).toEqual(['pass keycloak.version']);
    expect(versionFindings('26.7.3', config)[0]!.actual).toMatch(
      /^Keycloak 26\.7\.3; it also lacks, without stopping MCP clients: a "scope" in a registration request .* \(fixed in 26\.8\.0\)$/,
    );
    // Its consequence for real clients and its fix travel with the version finding.
    expect(versionFindings('26.7.3', config)[0]).toMatchObject({
      why: expect.stringMatching(/loses the realm's other default scopes/),
      fix: expect.stringMatching(
        /^upgrade Keycloak to 26\.8\.0 or later.*\(registration-scope-shrinks-default-scopes\)$/,
      ),
    });
    const off = configSchema.parse({ ...base, dcr: { mode: 'off', trustedHosts: [] } });
    expect(summary('26.8.0')).toEqual(['pass keycloak.version']);
    expect(summary('26.7.3', off)).toEqual(['pass keycloak.version']);
  });

  it("claude.ai's CIMD document before 26.8.0: a warning where Keycloak runs with cimd (or the features are unknown), none where it runs without", () => {
    const cimd = configSchema.parse({ ...base, cimd: { enabled: true } });
    const id = 'keycloak.version.cimd-jwt-bearer-public-client';
    const ids = (features?: string[]) => versionFindings('26.7.3', cimd, features).map((f) => f.id);
    expect(ids(['cimd', 'resource-indicators'])).toContain(id);
    expect(ids(undefined)).toContain(id);
    // realm.cimd already says CIMD cannot run there; a warning about one client's document would be noise.
    expect(ids(['resource-indicators'])).not.toContain(id);
    expect(versionFindings('26.8.0', cimd, ['cimd']).map((f) => f.id)).not.toContain(id);
  });
});

describe('versionCheck', () => {
  it('without admin credentials says the version is unknown and how to read it, with no request', async () => {
    const input = { config, adminMissing: 'no admin credentials' } as DoctorInput;
    const [finding, ...rest] = await versionCheck.run(input, {});
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ id: 'keycloak.version', status: 'skip' });
    expect(finding!.why).toMatch(/^version unknown: no admin credentials/);
    expect(finding!.fix).toMatch(/KEYCLOAK_ADMIN_PASSWORD/);
  });
});
