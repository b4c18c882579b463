/** What the reference server is started with (index.ts) and what its running settings are (auth-setup.ts reads them too). */
import type { DpopSettings } from './authenticate.js';
import type { RequestLog } from './http.js';
import type { ToolScopes } from './step-up.js';

export type AuthMode = 'jwt' | 'introspection' | 'off';
export const AUTH_MODES: readonly AuthMode[] = ['jwt', 'introspection', 'off'];

export interface ReferenceServerOptions {
  keycloakUrl: string;
  realm: string;
  /** The MCP endpoint URL clients use; it is also the token audience and the PRM `resource`. */
  resource: string;
  scopes: string[];
  /**
   * Step-up: tool name → scopes that tool needs beside one of `scopes` (default none). A `tools/call`
   * without them gets 403 `insufficient_scope` naming every scope it needs. Not checked with auth `off`.
   */
  toolScopes?: ToolScopes;
  /** Client ids whose service-account tokens (client credentials, no end user) may call; default none. */
  machineClients?: string[];
  host: string;
  port: number;
  /** Default `jwt`: local validation. `off` is for benchmarks and only allowed on a loopback host. */
  auth?: AuthMode;
  /** DPoP-bound tokens (RFC 9449): `off` (default), `allowed` beside Bearer, or `required`; `nonce` asks for server nonces. */
  dpop?: DpopSettings;
  introspection?: {
    clientId: string;
    clientSecret: string;
    /** default 30 s; 0 = every request */ cacheTtlMs?: number;
  };
  /** One line per request; nothing is logged when absent. */
  log?: (line: string) => void;
  /** Structured form of the same entries (e.g. for `--json`). */
  onRequest?: (entry: RequestLog) => void;
  /** The command that creates what the realm lacks, for start-up errors (default: a bare `apply`; `serve` passes its own target). */
  applyCommand?: string;
}

/** What `update` may change while the server runs: the rest (issuer, audience, address, auth) needs a new server. */
export interface ScopeSettings {
  scopes: string[];
  toolScopes: ToolScopes;
}
