/**
 * The MCP clients people connect, as data: how each identifies itself to an authorization server, which scopes it
 * registers with and asks for, and how it steps up. One row per client and version line. Every row names where its
 * facts come from and when they were read: a client's own source or docs ("primary"), or a third party's reading of
 * them ("secondary", kept only where no primary source was found here). Facts marked `unknown` were not confirmed.
 * docs/clients.md is the reader's view of this table (test/unit/client-catalogue.test.ts keeps the two in step).
 *
 * This is a catalogue of behaviour, not of bodies: doctor's registration probe (src/doctor/clients.ts) sends the
 * exact registration bodies, and realm/cimd.ts holds the CIMD documents' client_id domains apply permits.
 */
/* eslint-disable max-lines -- a table of rows, one per client: splitting it would split one idea, not make two */

/** Where a client's scope comes from, in the order the MCP spec's scope-selection strategy names (SEP-835). */
export type ScopeSource =
  /** the 401 challenge's `scope`, else PRM `scopes_supported` (the spec's strategy: the SDKs, Claude Code) */
  | 'challenge-then-prm'
  /** every scope PRM `scopes_supported` lists (VS Code) */
  | 'prm'
  /** no `scope` at all: Keycloak then gives the realm's default scopes */
  | 'none'
  | 'unknown';

export interface CatalogueSource {
  url: string;
  /** The day the source was read (YYYY-MM-DD). */
  read: string;
  kind: 'primary' | 'secondary';
  /** Which facts of the row it supports. */
  supports: string;
}

export interface CatalogueClient {
  id: string;
  name: string;
  /** The version line the row describes, e.g. "2.x" or "1.107+". */
  versions: string;
  /** Dynamic Client Registration: does it register, and with which scope. */
  dcr: { registers: boolean | 'unknown'; scope: ScopeSource; authMethod?: string };
  /** Client ID Metadata Document: its client_id URL (`user-hosted`: a URL the user configures), or none. */
  cimd?: { clientId: string; authMethod: string; note?: string };
  /** When it uses CIMD instead of DCR. */
  prefersCimd: 'when-advertised' | 'when-advertised-with-none' | 'never' | 'unknown';
  /** Falls back to DCR when CIMD is not offered. */
  fallsBackToDcr: boolean | 'unknown';
  /** The redirect URIs it registers or its document lists (`{port}`: an ephemeral port). */
  redirectUris: string[];
  /** The scope it asks for at sign-in. */
  signInScope: ScopeSource;
  /** Adds `offline_access`: when the AS metadata lists it, always, never. */
  offlineAccess: 'when-as-lists-it' | 'always' | 'never' | 'unknown';
  /** Sends RFC 8707 `resource` on the authorization and token requests. */
  sendsResource: boolean | 'unknown';
  /** On a 403 insufficient_scope: signs in again for the union of scopes (SEP-835), or not. */
  stepUp: 'union-reauthorize' | 'none' | 'unknown';
  /** Where the registration or document fetch comes from (Trusted Hosts judges this host). */
  registersFrom: 'user-machine' | 'vendor-backend' | 'browser';
  sources: CatalogueSource[];
}

const READ = '2026-12-07';

export const CLIENT_CATALOGUE: readonly CatalogueClient[] = [
  {
    id: 'vscode',
    name: 'VS Code (GitHub Copilot agent)',
    versions: '1.107+',
    dcr: { registers: true, scope: 'prm', authMethod: 'none' },
    cimd: { clientId: 'https://vscode.dev/oauth/client-metadata.json', authMethod: 'none' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'unknown',
    sendsResource: true,
    stepUp: 'union-reauthorize',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'https://github.com/microsoft/vscode/pull/271403',
        read: READ,
        kind: 'primary',
        supports: 'uses the client-metadata URL from product.json when the AS supports CIMD (merged 2025-10-14)',
      },
      {
        url: 'https://github.com/microsoft/vscode/issues/298300',
        read: READ,
        kind: 'primary',
        supports: 'the document lives at https://vscode.dev/oauth/client-metadata.json',
      },
      {
        url: 'https://code.visualstudio.com/api/extension-guides/ai/mcp',
        read: READ,
        kind: 'secondary',
        supports:
          'redirect URIs 127.0.0.1:33418 and vscode.dev/redirect; OAuth with DCR (as transcribed by a client catalogue read 2026-09-15)',
      },
      {
        url: 'src/vs/workbench/api/common/extHostAuthentication.ts (microsoft/vscode)',
        read: '2026-11-20',
        kind: 'primary',
        supports:
          'the DCR body: PRM scopes_supported as scope, grant types ∩ AS grant_types_supported (../shared facts file)',
      },
    ],
  },
  {
    id: 'vscode-insiders',
    name: 'VS Code Insiders',
    versions: '1.107+',
    dcr: { registers: true, scope: 'prm', authMethod: 'none' },
    cimd: { clientId: 'https://insiders.vscode.dev/oauth/client-metadata.json', authMethod: 'none' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: ['http://127.0.0.1:33418/', 'https://insiders.vscode.dev/redirect'],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'unknown',
    sendsResource: true,
    stepUp: 'union-reauthorize',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'https://github.com/microsoft/vscode/pull/271403',
        read: READ,
        kind: 'primary',
        supports: 'the CIMD URL comes from product.json, which differs per quality (stable, insiders)',
      },
      {
        url: 'a public CIMD allow-list in a Ruby code base (ALLOWED_CLIENT_IDS), found by code search',
        read: READ,
        kind: 'secondary',
        supports: 'the Insiders client_id https://insiders.vscode.dev/oauth/client-metadata.json',
      },
    ],
  },
  {
    id: 'claude-code',
    name: 'Claude Code',
    versions: '2.1+',
    dcr: { registers: true, scope: 'challenge-then-prm', authMethod: 'none' },
    cimd: { clientId: 'https://claude.ai/oauth/claude-code-client-metadata', authMethod: 'none' },
    prefersCimd: 'when-advertised-with-none',
    fallsBackToDcr: true,
    redirectUris: ['http://localhost:{port}/callback', 'http://127.0.0.1:{port}/callback'],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'when-as-lists-it',
    sendsResource: true,
    stepUp: 'unknown',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'https://code.claude.com/docs/en/mcp',
        read: READ,
        kind: 'secondary',
        supports:
          'DCR by default, CIMD discovered automatically, loopback callback on an ephemeral port (catalogue read 2026-09-15)',
      },
      {
        url: 'https://claude.com/docs/connectors/building/authentication',
        read: READ,
        kind: 'secondary',
        supports:
          'CIMD only when the AS advertises it and `none`; the document lists localhost and 127.0.0.1 /callback; PKCE S256',
      },
      {
        url: 'anthropics/claude-code#82096, #4540',
        read: '2026-11-20',
        kind: 'primary',
        supports: 'older versions register without scope (src/doctor/clients.ts probes that body)',
      },
    ],
  },
  {
    id: 'claude-ai',
    name: 'claude.ai and Claude Desktop connectors',
    versions: '2026',
    dcr: { registers: true, scope: 'none', authMethod: 'client_secret_post' },
    cimd: {
      clientId: 'https://claude.ai/oauth/mcp-oauth-client-metadata',
      authMethod: 'none',
      note: 'the document names the jwt-bearer grant: Keycloak before 26.8.0 refuses it (keycloak#50362)',
    },
    prefersCimd: 'when-advertised-with-none',
    fallsBackToDcr: true,
    redirectUris: ['https://claude.ai/api/mcp/auth_callback'],
    signInScope: 'unknown',
    offlineAccess: 'unknown',
    sendsResource: true,
    stepUp: 'unknown',
    registersFrom: 'vendor-backend',
    sources: [
      {
        url: 'https://claude.com/docs/connectors/building/authentication',
        read: READ,
        kind: 'secondary',
        supports:
          'DCR and CIMD, callback https://claude.ai/api/mcp/auth_callback, from 160.79.104.0/21, resource parameter',
      },
      {
        url: 'anthropics/claude-ai-mcp#1043',
        read: '2026-11-20',
        kind: 'primary',
        supports: 'registers a confidential client from the vendor backend',
      },
    ],
  },
  {
    id: 'chatgpt',
    name: 'ChatGPT (developer mode connectors)',
    versions: '2026',
    dcr: { registers: true, scope: 'unknown' },
    cimd: {
      clientId: 'https://chatgpt.com/oauth/client.json',
      authMethod: 'private_key_jwt',
      note: "Keycloak's CIMD executor does not accept private_key_jwt (keycloak#51039); per-connector URLs when the AS lacks RFC 9207 iss",
    },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: ['https://chatgpt.com/connector_platform_oauth_redirect', 'https://chatgpt.com/connector/oauth/{id}'],
    signInScope: 'unknown',
    offlineAccess: 'unknown',
    sendsResource: true,
    stepUp: 'unknown',
    registersFrom: 'vendor-backend',
    sources: [
      {
        url: 'https://developers.openai.com/apps-sdk/build/auth',
        read: READ,
        kind: 'secondary',
        supports: 'PKCE S256 required, CIMD preferred with chatgpt.com URLs, DCR alternative, resource, RFC 9207 iss',
      },
    ],
  },
  {
    id: 'cursor',
    name: 'Cursor',
    versions: '2026',
    dcr: { registers: true, scope: 'none', authMethod: 'none' },
    prefersCimd: 'never',
    fallsBackToDcr: true,
    redirectUris: [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'https://www.cursor.com/agents/mcp/oauth/callback',
      'http://localhost:8787/callback',
    ],
    signInScope: 'unknown',
    offlineAccess: 'unknown',
    sendsResource: 'unknown',
    stepUp: 'unknown',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'https://cursor.com/docs/context/mcp',
        read: READ,
        kind: 'secondary',
        supports: 'OAuth with DCR, fixed redirect URLs; no CIMD found (catalogue read 2026-09-15)',
      },
    ],
  },
  {
    id: 'goose',
    name: 'Goose',
    versions: '1.32+',
    dcr: { registers: true, scope: 'challenge-then-prm' },
    cimd: { clientId: 'https://goose-docs.ai/oauth/client-metadata.json', authMethod: 'none' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: 'unknown',
    redirectUris: [], // not confirmed here
    signInScope: 'challenge-then-prm',
    offlineAccess: 'unknown',
    sendsResource: 'unknown',
    stepUp: 'unknown',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'https://github.com/block/goose/blob/main/crates/goose/src/oauth/mod.rs',
        read: READ,
        kind: 'primary',
        supports:
          'CLIENT_METADATA_URL https://goose-docs.ai/oauth/client-metadata.json; a pre-registered client for servers with neither',
      },
      {
        url: 'https://goose-docs.ai/docs/getting-started/using-extensions/',
        read: READ,
        kind: 'secondary',
        supports: 'CIMD and DCR both named; whether it falls back to DCR after a refused CIMD sign-in is not confirmed',
      },
    ],
  },
  {
    id: 'copilot-cli',
    name: 'GitHub Copilot CLI',
    versions: '2026',
    dcr: { registers: 'unknown', scope: 'unknown' },
    cimd: { clientId: 'https://github.com/copilot/cli/client-metadata.json', authMethod: 'none' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: 'unknown',
    redirectUris: [],
    signInScope: 'unknown',
    offlineAccess: 'unknown',
    sendsResource: 'unknown',
    stepUp: 'unknown',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'public CIMD allow-lists in two code bases (Go and Ruby), found by code search',
        read: READ,
        kind: 'secondary',
        supports: 'the client_id https://github.com/copilot/cli/client-metadata.json; nothing else confirmed here',
      },
    ],
  },
  {
    id: 'zed',
    name: 'Zed',
    versions: '2026 (PR #51768 on)',
    dcr: { registers: true, scope: 'unknown' },
    cimd: { clientId: 'https://zed.dev/oauth/client-metadata.json', authMethod: 'none' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: ['http://127.0.0.1/callback'], // as its document listed on 2026-09-24; it prefers port 27523
    signInScope: 'unknown',
    offlineAccess: 'unknown',
    sendsResource: 'unknown',
    stepUp: 'unknown',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'https://github.com/zed-industries/zed/pull/51768',
        read: READ,
        kind: 'secondary',
        supports: 'CIMD at zed.dev first, DCR fallback, PKCE, loopback port 27523 (catalogue read 2026-09-15)',
      },
      {
        url: 'a public plan of an MCP server that fetched the known CIMD documents on 2026-09-24, found by code search',
        read: READ,
        kind: 'secondary',
        supports:
          "the document's redirect_uris and auth method none (also for Claude Code, VS Code, claude.ai, ChatGPT)",
      },
    ],
  },
  {
    id: 'inspector',
    name: 'MCP Inspector',
    versions: '2.x (Node ≥ 22.19)',
    dcr: { registers: true, scope: 'challenge-then-prm', authMethod: 'none' },
    cimd: { clientId: 'user-hosted', authMethod: 'none', note: '--client-metadata-url, a document you host' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: ['http://127.0.0.1:6274/oauth/callback', 'http://127.0.0.1:6276/oauth/callback'],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'unknown',
    sendsResource: true,
    stepUp: 'unknown',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'modelcontextprotocol/inspector core/auth',
        read: '2026-11-20',
        kind: 'primary',
        supports: 'registers from its backend as a public native client on 127.0.0.1 (src/doctor/clients.ts)',
      },
    ],
  },
  {
    id: 'sdk-ts-v2',
    name: 'TypeScript SDK v2 (@modelcontextprotocol/client)',
    versions: '2.4',
    dcr: { registers: true, scope: 'challenge-then-prm' },
    cimd: { clientId: 'user-hosted', authMethod: 'none', note: 'clientMetadataUrl, https only' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: [],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'when-as-lists-it',
    sendsResource: true,
    stepUp: 'union-reauthorize',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'node_modules/@modelcontextprotocol/client 2.4.0, determineScope and authInternal',
        read: READ,
        kind: 'primary',
        supports:
          'scope = challenge || PRM scopes_supported || clientMetadata.scope, + offline_access when the AS lists it and refresh_token is a grant; the same scope in the DCR body; CIMD when advertised and clientMetadataUrl is set',
      },
    ],
  },
  {
    id: 'sdk-ts-v1',
    name: 'TypeScript SDK v1 (@modelcontextprotocol/sdk)',
    versions: '1.32',
    dcr: { registers: true, scope: 'challenge-then-prm' },
    cimd: { clientId: 'user-hosted', authMethod: 'none' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: [],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'never',
    sendsResource: true,
    stepUp: 'union-reauthorize',
    registersFrom: 'user-machine',
    sources: [
      {
        url: 'node_modules/@modelcontextprotocol/sdk 1.32.2, dist/esm/client/auth.js',
        read: READ,
        kind: 'primary',
        supports: 'resolvedScope = challenge || PRM scopes_supported || clientMetadata.scope, used for DCR and sign-in',
      },
    ],
  },
  {
    id: 'sdk-python',
    name: 'Python SDK (mcp)',
    versions: '2.3',
    dcr: { registers: true, scope: 'challenge-then-prm', authMethod: 'client_secret_basic' },
    prefersCimd: 'when-advertised',
    fallsBackToDcr: true,
    redirectUris: [],
    signInScope: 'challenge-then-prm',
    offlineAccess: 'when-as-lists-it',
    sendsResource: true,
    stepUp: 'union-reauthorize',
    registersFrom: 'user-machine',
    sources: [
      {
        url: '../shared/reference/keycloak-mcp-facts.md ("Clients, as observed", Nov 2026)',
        read: '2026-11-20',
        kind: 'primary',
        supports:
          'registers scope "mcp:run offline_access" from the challenge, no token_endpoint_auth_method (Keycloak makes client_secret_basic), sends resource, prompt=consent',
      },
    ],
  },
];

/** The catalogue's row for an id, or undefined. */
export function catalogueClient(id: string): CatalogueClient | undefined {
  return CLIENT_CATALOGUE.find((client) => client.id === id);
}
