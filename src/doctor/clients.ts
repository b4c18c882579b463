/**
 * The registration requests real MCP clients send (RFC 7591 bodies), so the probe meets the same
 * registration policies they meet. Sources are listed in docs/commands/doctor.md; each body is a function
 * of what the client learns from discovery (PRM scopes, AS grant types), as the client computes it.
 */
export interface ProbeContext {
  /** The scopes the client would request: the challenge's `scope`, else PRM `scopes_supported`. */
  scopes: string[];
  /** AS `grant_types_supported`, when known. */
  grantTypesSupported?: string[];
  /** The origin a browser-based client runs on: one the configuration allows (`dcr.webOrigins`). */
  webOrigin?: string;
}

export interface ProbeClient {
  id: string;
  name: string;
  /** Where the registration request comes from; Trusted Hosts judges this host. */
  sentFrom: 'user-machine' | 'browser' | 'vendor-backend';
  body(ctx: ProbeContext): Record<string, unknown>;
  /** An `Origin` header, for clients that register from a browser page (CORS applies). */
  origin?(ctx: ProbeContext): string | undefined;
}

const CODE_AND_REFRESH = ['authorization_code', 'refresh_token'];

/** Where MCP Inspector 2.x's web UI receives the authorization code (its UI runs at http://127.0.0.1:6274). */
const INSPECTOR_REDIRECT_URI = 'http://127.0.0.1:6274/oauth/callback';

/** MCP Inspector 0.x's browser page, the Origin its registration carries. */
export const INSPECTOR_0X_ORIGIN = 'http://localhost:6274';

/** What both Inspector lines register (0.x from the page, 2.x from its backend): a public client, no secret. */
function inspectorBody(redirectUris: string[], scopes: string[]): Record<string, unknown> {
  return {
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
    grant_types: CODE_AND_REFRESH,
    response_types: ['code'],
    client_name: 'MCP Inspector',
    client_uri: 'https://github.com/modelcontextprotocol/inspector',
    scope: scopes.join(' '),
  };
}

export const PROBE_CLIENTS: ProbeClient[] = [
  {
    // microsoft/vscode, src/vs/workbench/api/common/extHostAuthentication.ts (dynamic auth provider).
    id: 'vscode',
    name: 'VS Code',
    sentFrom: 'user-machine',
    body: ({ scopes, grantTypesSupported }) => {
      const wanted = [...CODE_AND_REFRESH, 'urn:ietf:params:oauth:grant-type:device_code'];
      const grants = grantTypesSupported ? wanted.filter((g) => grantTypesSupported.includes(g)) : wanted;
      return {
        client_name: 'Visual Studio Code',
        client_uri: 'https://code.visualstudio.com',
        grant_types: grants,
        response_types: ['code'],
        redirect_uris: [
          'https://insiders.vscode.dev/redirect',
          'https://vscode.dev/redirect',
          'http://127.0.0.1/',
          'http://127.0.0.1:33418/',
        ],
        ...(scopes.length ? { scope: scopes.join(' ') } : {}),
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      };
    },
  },
  {
    // Claude Code registers its loopback callback on `localhost` with an ephemeral port, no
    // application_type and (in the versions reported) no scope: anthropics/claude-code#82096, #4540.
    id: 'claude-code',
    name: 'Claude Code',
    sentFrom: 'user-machine',
    body: () => ({
      client_name: 'Claude Code (mcp-keycloak doctor probe)',
      redirect_uris: ['http://localhost:53999/callback'],
      grant_types: CODE_AND_REFRESH,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  },
  {
    // claude.ai / Claude Desktop connectors register from Anthropic's backend with the hosted callback
    // and ask for a confidential client (anthropics/claude-ai-mcp#1043; Anthropic's connector docs).
    id: 'claude-ai',
    name: 'claude.ai connectors',
    sentFrom: 'vendor-backend',
    body: () => ({
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      grant_types: CODE_AND_REFRESH,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }),
  },
  {
    // Cursor sends three redirect URIs, including its private-use scheme, as a public client.
    id: 'cursor',
    name: 'Cursor',
    sentFrom: 'user-machine',
    body: () => ({
      client_name: 'Cursor',
      redirect_uris: [
        'cursor://anysphere.cursor-mcp/oauth/callback',
        'https://www.cursor.com/agents/mcp/oauth/callback',
        'http://localhost:8787/callback',
      ],
      grant_types: CODE_AND_REFRESH,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  },
  {
    // MCP Inspector 2.x (Node >= 22.19), core/auth: the web UI's backend registers (no browser Origin
    // reaches Keycloak) a public native client whose redirect is the UI's own /oauth/callback on
    // 127.0.0.1:6274 (its CLI and TUI use 127.0.0.1:6276/oauth/callback: the same policies apply).
    id: 'inspector',
    name: 'MCP Inspector',
    sentFrom: 'user-machine',
    body: ({ scopes }) => ({ ...inspectorBody([INSPECTOR_REDIRECT_URI], scopes), application_type: 'native' }),
  },
  {
    // MCP Inspector 0.x (what an unpinned npx installs on Node < 22.19), client/src/lib/auth.ts: registers from the
    // browser page, so the request carries an Origin and Keycloak applies Allowed Registration Web Origins.
    // Probed only when the configuration allows a browser origin (--web-origin).
    id: 'inspector-0x',
    name: 'MCP Inspector 0.x (browser)',
    sentFrom: 'browser',
    origin: ({ webOrigin }) => webOrigin,
    body: ({ scopes, webOrigin }) =>
      inspectorBody([`${webOrigin}/oauth/callback`, `${webOrigin}/oauth/callback/debug`], scopes),
  },
];
