/** What init settled on (flags, env, an existing config file, prompts): what files.ts writes and config-merge.ts merges. */
import type { Origin } from '../config/load.js';
import type { DcrMode } from '../config/schema.js';

export interface InitAnswers {
  keycloakUrl: string;
  realm: string;
  resource: string;
  /** Scopes of the MCP server (usually one: mcp:run). */
  scopes: string[];
  dcr: DcrMode;
  trustedHosts: string[];
  /** Allowed Registration Web Origins (clients that register from a browser page, such as MCP Inspector 0.x); undefined: not managed. */
  webOrigins?: string[];
  adminUsername: string;
  /** The `cimd` section (from --cimd, --cimd-domain, --cimd-allow-http, env or the file); undefined: not set up. */
  cimd?: Record<string, unknown>;
  testUser?: { username: string; password: string; generated: boolean };
  /** The MCP clients in use (--client, env-free: the flag or the file's `clients`); undefined: not named. */
  clients?: string[];
  /** Which flag or env variable set which config value, so that a refusal names it rather than the config file. */
  origins?: readonly Origin[];
}
