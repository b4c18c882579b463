/**
 * What Keycloak versions differ in, for MCP: one table, the only place these differences are written
 * down (apply's refusals and, later, doctor's findings read it), and pure helpers to compare versions
 * and pick the rows that bite a given version and setup. Each row says where its fix version comes from.
 */
import type { DcrMode } from '../config/schema.js';

/** What about a setup decides whether a difference matters to it (derived from the config). */
export interface VersionSetup {
  /** How dynamic client registration is configured: anything but `off` means clients register. */
  dcrMode: DcrMode;
  /** Browser-based clients are allowed to register (dcr.webOrigins is set and not empty). */
  webOrigins: boolean;
  /** CIMD is set up and admits claude.ai's client_id domain (config cimd). */
  claudeCimd?: boolean;
}

export interface VersionDifference {
  /** Stable identity, for doctor findings and tests. */
  id: string;
  /** The first version that behaves well; every earlier version has the problem. */
  fixedIn: string;
  /** What the older versions do (or lack). */
  what: string;
  /** What that means for real MCP clients. */
  consequence: string;
  /** What to do about it: upgrade to `fixedIn`, or the workaround. */
  fix: string;
  /** Where the fix version comes from (a Keycloak issue, release, or what this project measured). */
  source: string;
  /** Whether this setup meets the difference at all. */
  bites: (setup: VersionSetup) => boolean;
  /**
   * Whether an MCP client this setup serves can fail because of it: doctor warns. When false (known clients
   * fall back, or only non-MCP claims change), doctor names it in the version line instead: a warning on
   * every healthy setup would teach people to ignore warnings.
   */
  stopsClients: boolean;
}

const clientsRegister = (setup: VersionSetup) => setup.dcrMode !== 'off';

/** The differences that matter to MCP, oldest fix first. */
export const VERSION_DIFFERENCES: readonly VersionDifference[] = [
  {
    id: 'rfc8414-path-inserted-metadata',
    fixedIn: '26.4.0',
    what: 'no RFC 8414 path-inserted metadata (/.well-known/oauth-authorization-server/realms/<realm> answers 404)',
    consequence:
      'MCP clients that look only there (the MCP spec tries it first) find no authorization server; those that fall back to /realms/<realm>/.well-known/openid-configuration work',
    fix: 'upgrade Keycloak to 26.4.0 or later, or serve that path from a reverse proxy',
    source: 'keycloak 26.4.0 release (issue #10 of this project)',
    bites: () => true,
    stopsClients: true,
  },
  {
    id: 'registration-cors',
    fixedIn: '26.5.0',
    what: 'no CORS headers on the client registration endpoint',
    consequence:
      'browser-based clients (MCP Inspector 0.x in a browser) cannot register: the browser blocks the answer',
    fix: 'upgrade Keycloak to 26.5.0 or later, or register such clients from a native or server-side client',
    source: 'keycloak#43625 (closes keycloak#8863), in 26.5.0',
    bites: (setup) => clientsRegister(setup) && setup.webOrigins,
    stopsClients: true,
  },
  {
    id: 'registration-web-origins-policy',
    fixedIn: '26.5.0',
    what: 'no "registration-web-origins" client registration policy',
    consequence: 'dcr.webOrigins cannot be configured: apply refuses it before writing anything',
    fix: 'upgrade Keycloak to 26.5.0 or later, or remove dcr.webOrigins (--web-origin)',
    source:
      'measured: RegistrationWebOriginsPolicyFactory is absent from keycloak-services 26.4.7 and present in 26.5.0; creating one on 26.0.8 answers 400 "Invalid provider type or no such provider"',
    bites: (setup) => setup.webOrigins,
    stopsClients: true,
  },
  {
    id: 'token-endpoint-auth-method-ignored',
    fixedIn: '26.6.0',
    what: 'token_endpoint_auth_method in a registration request is ignored for confidential clients (client_secret_post is answered with client_secret_basic; "none" is honoured)',
    consequence:
      'a confidential client gets client_secret_basic, not the method it asked for: one that insists on its own method may reject the registration (Keycloak accepts the secret either way at the token endpoint); public clients such as VS Code and Claude, which ask for "none", are unaffected',
    fix: 'upgrade Keycloak to 26.6.0 or later',
    source:
      'keycloak#44403, fixed in 26.6.0; measured: client_secret_post answered with client_secret_basic on 26.0.8 and 26.4.7, "none" honoured on 26.0.8, 26.4.7 and 26.7.3',
    bites: clientsRegister,
    stopsClients: false,
  },
  {
    id: 'cimd-and-resource-indicators',
    fixedIn: '26.6.0',
    what: 'no Client ID Metadata Documents (CIMD) and no RFC 8707 resource indicators (from 26.6.0: experimental, --features=cimd,resource-indicators)',
    consequence:
      'clients that identify themselves by a metadata URL instead of registering cannot sign in, and tokens cannot be bound to one MCP server by the resource parameter',
    fix: 'upgrade Keycloak to 26.6.0 or later; until then clients must use dynamic registration and the audience comes from the client scope',
    source: 'keycloak 26.6.0 release (issue #10 of this project)',
    bites: () => true,
    stopsClients: false,
  },
  {
    id: 'cimd-jwt-bearer-public-client',
    fixedIn: '26.8.0',
    what: 'a public client\'s metadata document may not name the jwt-bearer grant ("JWT authorization grant cannot be enabled in a public client")',
    consequence:
      'claude.ai and Claude Desktop (client_id https://claude.ai/oauth/mcp-oauth-client-metadata) name urn:ietf:params:oauth:grant-type:jwt-bearer: Keycloak refuses their document and the browser shows "invalid request". VS Code and Claude Code are not affected',
    fix: 'upgrade Keycloak to 26.8.0 or later and run apply again: the fix is an option of its CIMD executor ("Accept Public Client with Confidential-only Grant Types"), which apply turns on where the server declares it; until then claude.ai cannot sign in through CIMD on this Keycloak',
    source: 'keycloak#50362, fixed in 26.8.0 (PR #50411)',
    bites: (setup) => Boolean(setup.claudeCimd),
    stopsClients: true,
  },
  {
    id: 'registration-scope-shrinks-default-scopes',
    fixedIn: '26.8.0',
    what: 'a "scope" in a registration request leaves "basic" the client\'s only default scope and makes the requested scopes optional ones',
    consequence:
      "a client that registers with a scope (VS Code sends one) loses the realm's other default scopes (profile, email, roles): its tokens lack those claims unless it asks for them; the MCP scope and audience still come, because the client asks for that scope at sign-in",
    fix: 'upgrade Keycloak to 26.8.0 or later, or have clients request the scopes they need',
    source:
      'keycloak#50807, fixed in 26.8.0; measured on 26.0.8, 26.4.7 and 26.7.3: default scopes [basic], the requested scope optional',
    bites: clientsRegister,
    stopsClients: false,
  },
];

/** A version's numeric parts (26.0.8 → [26, 0, 8]); a qualifier (-SNAPSHOT, .redhat-00001) is ignored. */
export function versionParts(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** Negative when `a` is older than `b`, 0 when they are the same release, positive when newer; throws on a non-version. */
export function compareVersions(a: string, b: string): number {
  const left = versionParts(a);
  const right = versionParts(b);
  if (!left || !right) throw new Error(`Not a Keycloak version: ${JSON.stringify(left ? b : a)}`);
  for (let i = 0; i < 3; i++) if (left[i] !== right[i]) return left[i]! - right[i]!;
  return 0;
}

/** Whether Keycloak `version` is older than `fixedIn`, i.e. still has the difference. */
export function olderThan(version: string, fixedIn: string): boolean {
  return compareVersions(version, fixedIn) < 0;
}

/**
 * The differences Keycloak `version` has that this setup meets. A version that cannot be read (a
 * custom build's "unknown") meets none: nothing is claimed without knowing.
 */
export function differencesFor(version: string, setup: VersionSetup): VersionDifference[] {
  if (!versionParts(version)) return [];
  return VERSION_DIFFERENCES.filter((row) => olderThan(version, row.fixedIn) && row.bites(setup));
}

/** The row with `id`; throws on an unknown id (a typo in code, not a user's mistake). */
export function versionDifference(id: string): VersionDifference {
  const row = VERSION_DIFFERENCES.find((r) => r.id === id);
  if (!row) throw new Error(`No version difference "${id}"`);
  return row;
}
