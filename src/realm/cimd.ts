/**
 * Our client profiles and policies. Client ID Metadata Documents (CIMD, the MCP 2026-07-28 way for clients to identify themselves) on
 * Keycloak 26.6+ started with `--features=cimd`: a client profile with the `client-id-metadata-document`
 * executor and a client policy whose `client-id-uri` condition selects the clients whose `client_id` is
 * a document URL on a permitted domain. Keycloak fetches the document on the authorization request and
 * creates (persists) the client from it.
 *
 * Anonymous clients (whenever anonymous registration or CIMD is on, so on every realm apply sets up for DCR):
 *
 * PKCE: Keycloak 26.7.3 never applies a `pkce-enforcer` in the CIMD profile (keycloak#52795: the
 * `client-id-uri` condition only votes on the pre-authorization event, abstains on REGISTER and on the
 * authorization request, and an all-abstaining policy does not run). A second policy of ours, with the
 * `client-updater-context` condition "ByAnonymous" (Keycloak treats CIMD creation as anonymous: there is
 * no token), runs `pkce-enforcer` with auto-configure when such a client is created: the client gets
 * `pkce.code.challenge.method` = S256, and Keycloak then refuses its authorization requests without a
 * `code_challenge`. Anonymous DCR clients get the same, which MCP requires of them anyway.
 *
 * Grants: MCP uses the authorization code flow only, yet Keycloak gives an anonymously created client
 * whatever `grant_types` its registration or document names: `implicit` (a token in the URL fragment,
 * no PKCE) and `password` included. The same profile runs `reject-implicit-grant` and
 * `reject-ropc-grant` with auto-configure, which turn those flows off on the client as it is created
 * (a client that also named `authorization_code` keeps working); each only where the server declares it.
 * With `dpop` (apply --dpop) the profile also runs `dpop-bind-enforcer` with auto-configure: the client
 * must bind its tokens to a DPoP key (RFC 9449), so a token that leaks is useless without that key.
 *
 * Everything here is pure: the desired profiles and policies for a config (their diff against live is in
 * cimd-plan.ts).
 */
import type { CimdClientKey, CimdConfig } from '../config/schema.js';

/** A client known to use CIMD, with the hosts its document names (client_id, redirect URIs, logo). */
export interface KnownCimdClient {
  /** Its key in `cimd.clients`. */
  key: CimdClientKey;
  name: string;
  /** The `client_id` URL (its metadata document), when the client publishes a fixed one. */
  clientId?: string;
  /** Hosts of its client_id: what the `client-id-uri` condition admits. */
  clientIdDomains: string[];
  /** Hosts its document names besides (redirect URIs, logo_uri, client_uri): what the executor must also permit. */
  documentDomains: string[];
}

/**
 * The clients whose CIMD `client_id` is known (Keycloak's guide "Integrating with Model Context
 * Protocol", keycloak#50362, the clients' sources; November 2026). MCP Inspector takes the URL of a
 * document you host (`--client-metadata-url`): add that host with `--cimd-domain`.
 */
export const KNOWN_CIMD_CLIENTS: readonly KnownCimdClient[] = [
  {
    key: 'vscode',
    name: 'VS Code',
    clientId: 'https://vscode.dev/oauth/client-metadata.json',
    clientIdDomains: ['vscode.dev'],
    // Loopback redirects (http://127.0.0.1:<port>/), and its logo_uri / client_uri on code.visualstudio.com.
    documentDomains: ['127.0.0.1', 'code.visualstudio.com'],
  },
  {
    key: 'claude-code',
    name: 'Claude Code',
    clientId: 'https://claude.ai/oauth/claude-code-client-metadata',
    clientIdDomains: ['claude.ai'],
    documentDomains: ['localhost', '127.0.0.1'],
  },
  {
    key: 'claude-ai',
    name: 'claude.ai / Claude Desktop',
    clientId: 'https://claude.ai/oauth/mcp-oauth-client-metadata',
    clientIdDomains: ['claude.ai'],
    // Keycloak before 26.8.0 refuses its document (keycloak#50362): the version table's cimd-jwt-bearer-public-client row.
    documentDomains: [],
  },
  {
    key: 'inspector',
    name: 'MCP Inspector 2.x',
    clientIdDomains: [],
    documentDomains: ['127.0.0.1', 'localhost'],
  },
];

/** Our objects, found by name; everything else in the realm's client policies is the user's. */
export const CIMD_NAMES = {
  profile: 'mcp-keycloak-cimd',
  policy: 'mcp-keycloak-cimd',
  pkceProfile: 'mcp-keycloak-pkce',
  pkcePolicy: 'mcp-keycloak-pkce',
} as const;

export const CIMD_EXECUTOR = 'client-id-metadata-document';
export const CIMD_CONDITION = 'client-id-uri';
export const PKCE_EXECUTOR = 'pkce-enforcer';
/** Binds the tokens of the clients it configures to a DPoP key (RFC 9449); Keycloak 26.4+ supports DPoP. */
export const DPOP_EXECUTOR = 'dpop-bind-enforcer';
export const ANONYMOUS_CONDITION = 'client-updater-context';
/** Executors that keep anonymously created clients off the implicit and password grants (auto-configure). */
export const GRANT_EXECUTORS: readonly string[] = ['reject-implicit-grant', 'reject-ropc-grant'];
/** The property of each grant executor apply sets; a server whose executor lacks it gets no such executor. */
export const GRANT_EXECUTOR_PROPERTY = 'auto-configure';

/** A client policy executor's or condition's configuration as Keycloak stores it: strings, booleans, lists. */
export type ComponentConfig = Record<string, string | boolean | string[]>;

export interface ClientProfile {
  name: string;
  description?: string;
  executors: Array<{ executor: string; configuration: ComponentConfig }>;
}

export interface ClientPolicy {
  name: string;
  description?: string;
  enabled: boolean;
  conditions: Array<{ condition: string; configuration: ComponentConfig }>;
  profiles: string[];
}

export interface DesiredCimd {
  /** Hosts the `client-id-uri` condition admits (the document URLs' hosts). */
  clientIdDomains: string[];
  /** Hosts the executor permits: those, plus every host the admitted documents name. */
  permittedDomains: string[];
  allowHttp: boolean;
  /**
   * Executor options only some Keycloak versions declare (26.8.0: NEWER_EXECUTOR_OPTIONS), set from what
   * GET /admin/serverinfo declares once it has been read (server-version.ts); absent before.
   */
  serverOptions?: ComponentConfig;
}

/**
 * Options of the `client-id-metadata-document` executor that Keycloak 26.8.0 added (its source, keycloak#50362 /
 * PR #50411 and keycloak#51413; 26.8 is not served by the mirror these machines reach, so not run here): written only
 * where serverinfo declares them.
 * - `accept-public-client-with-confidential-client-only-grant`: a public client's document naming grants only
 *   confidential clients may use (jwt-bearer, client_credentials, token exchange, UMA, CIBA) is accepted with those
 *   grants dropped (RFC 7591 §3.2.1) instead of refused: what claude.ai's document (jwt-bearer) needs.
 * - `cimd-resource-indicator-allow-list`: the resources (RFC 8707) a CIMD client may ask for: our MCP URLs.
 */
export const NEWER_EXECUTOR_OPTIONS = {
  acceptPublicWithConfidentialGrants: 'accept-public-client-with-confidential-client-only-grant',
  resourceAllowList: 'cimd-resource-indicator-allow-list',
} as const;

/** The newer executor options this server declares, with our values; empty on a server that declares none. */
export function newerExecutorOptions(declared: ReadonlySet<string> | undefined, resources: string[]): ComponentConfig {
  const options: ComponentConfig = {};
  if (declared?.has(NEWER_EXECUTOR_OPTIONS.acceptPublicWithConfidentialGrants))
    options[NEWER_EXECUTOR_OPTIONS.acceptPublicWithConfidentialGrants] = true;
  if (declared?.has(NEWER_EXECUTOR_OPTIONS.resourceAllowList))
    options[NEWER_EXECUTOR_OPTIONS.resourceAllowList] = unique(resources);
  return options;
}

/**
 * What every anonymously created client gets (DCR without a token, and CIMD): PKCE S256 and no implicit or
 * password grant, and with `dpop` DPoP-bound tokens. Desired whenever anonymous registration or CIMD is on.
 */
export interface DesiredAnonymous {
  /** GRANT_EXECUTORS, narrowed to those the server declares once GET /admin/serverinfo has been read. */
  grantExecutors: readonly string[];
  /** Require DPoP (RFC 9449) of anonymously created clients: `dpop-bind-enforcer` with auto-configure. */
  dpop: boolean;
  /** Set once the executors were narrowed to what GET /admin/serverinfo declares (server-version.ts). */
  narrowed?: boolean;
}

/** The values once each, sorted: how lists are compared and written (Keycloak keeps no order). */
export const unique = (values: string[]) => [...new Set(values)].sort();

/**
 * The desired CIMD setup for `config.cimd`, or undefined when CIMD is not asked for. `named`: the domains the
 * clients the config names need (src/clients/provision.ts), on top of `cimd.clients` and `cimd.domains`.
 */
export function desiredCimd(
  cimd: CimdConfig | undefined,
  named: { clientIdDomains: string[]; documentDomains: string[] } = { clientIdDomains: [], documentDomains: [] },
): DesiredCimd | undefined {
  if (!cimd?.enabled) return undefined;
  const clients = KNOWN_CIMD_CLIENTS.filter((client) => cimd.clients.includes(client.key));
  const clientIdDomains = unique([
    ...clients.flatMap((c) => c.clientIdDomains),
    ...cimd.domains,
    ...named.clientIdDomains,
  ]);
  return {
    clientIdDomains,
    permittedDomains: unique([
      ...clientIdDomains,
      ...clients.flatMap((c) => c.documentDomains),
      ...named.documentDomains,
    ]),
    allowHttp: cimd.allowHttp,
  };
}

/** The anonymous-clients profile, when anonymous registration (`dcr.mode` anonymous or trusted-hosts) or CIMD is on. */
export function desiredAnonymous(
  anonymousRegistration: boolean,
  cimd: boolean,
  dpop: boolean,
): DesiredAnonymous | undefined {
  if (!anonymousRegistration && !cimd) return undefined;
  return { grantExecutors: GRANT_EXECUTORS, dpop };
}

/** The property names each provider must declare in /admin/serverinfo for apply to write its config. */
export const REQUIRED_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  [CIMD_EXECUTOR]: [
    'cimd-allow-http-scheme',
    'cimd-allow-permitted-domains',
    'cimd-restrict-same-domain',
    'only-allow-confidential-client',
  ],
  [CIMD_CONDITION]: ['client-id-uri-scheme', 'client-id-uri-allow-permitted-domains'],
  [PKCE_EXECUTOR]: ['auto-configure'],
  [ANONYMOUS_CONDITION]: ['update-client-source'],
};

/** The CIMD profile and policy, exactly as apply writes them. */
export function cimdObjects(desired: DesiredCimd): { profiles: ClientProfile[]; policies: ClientPolicy[] } {
  return {
    profiles: [
      {
        name: CIMD_NAMES.profile,
        description: 'MCP clients that identify themselves with a Client ID Metadata Document (made by mcp-keycloak)',
        executors: [
          {
            executor: CIMD_EXECUTOR,
            configuration: {
              'cimd-allow-http-scheme': desired.allowHttp,
              'cimd-allow-permitted-domains': desired.permittedDomains,
              'cimd-restrict-same-domain': false,
              'only-allow-confidential-client': false,
              ...desired.serverOptions,
            },
          },
        ],
      },
    ],
    policies: [
      {
        name: CIMD_NAMES.policy,
        description: 'Client ID Metadata Documents on the permitted domains (made by mcp-keycloak)',
        enabled: true,
        conditions: [
          {
            condition: CIMD_CONDITION,
            configuration: {
              'client-id-uri-scheme': desired.allowHttp ? ['https', 'http'] : ['https'],
              'client-id-uri-allow-permitted-domains': desired.clientIdDomains,
            },
          },
        ],
        profiles: [CIMD_NAMES.profile],
      },
    ],
  };
}

/** The anonymous-clients profile and policy (PKCE, the code flow only, DPoP when asked), exactly as apply writes them. */
export function anonymousObjects(desired: DesiredAnonymous): { profiles: ClientProfile[]; policies: ClientPolicy[] } {
  return {
    profiles: [
      {
        name: CIMD_NAMES.pkceProfile,
        description: `PKCE S256${desired.dpop ? ', DPoP-bound tokens' : ''} and no implicit or password grant for clients created anonymously: Dynamic Client Registration and CIMD (keycloak#52795; made by mcp-keycloak)`,
        executors: [
          { executor: PKCE_EXECUTOR, configuration: { 'auto-configure': true } },
          ...desired.grantExecutors.map((executor) => ({
            executor,
            configuration: { [GRANT_EXECUTOR_PROPERTY]: true },
          })),
          ...(desired.dpop ? [{ executor: DPOP_EXECUTOR, configuration: { 'auto-configure': true } }] : []),
        ],
      },
    ],
    policies: [
      {
        name: CIMD_NAMES.pkcePolicy,
        description:
          'PKCE and the code flow only for anonymously created clients: CIMD and Dynamic Client Registration (made by mcp-keycloak)',
        enabled: true,
        conditions: [{ condition: ANONYMOUS_CONDITION, configuration: { 'update-client-source': ['ByAnonymous'] } }],
        profiles: [CIMD_NAMES.pkceProfile],
      },
    ],
  };
}

/** Every client profile and policy of ours that `desired` asks for: profiles first, as a policy names its profiles. */
export function clientPolicyObjects(
  cimd: DesiredCimd | undefined,
  anonymous: DesiredAnonymous | undefined,
): { profiles: ClientProfile[]; policies: ClientPolicy[] } {
  const parts = [cimd && cimdObjects(cimd), anonymous && anonymousObjects(anonymous)].filter(
    (part) => part !== undefined,
  );
  return { profiles: parts.flatMap((part) => part.profiles), policies: parts.flatMap((part) => part.policies) };
}

/** `list` with `object` in place of the entry of the same name (or added at the end); the others untouched. */
export function withObject<T extends { name: string }>(list: T[], object: T): T[] {
  const at = list.findIndex((entry) => entry.name === object.name);
  return at === -1 ? [...list, object] : list.map((entry, i) => (i === at ? object : entry));
}
