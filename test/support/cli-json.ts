/**
 * The --json documents of plan and apply, as far as the tests read them: `JSON.parse(stdout) as ApplyJson`
 * instead of an untyped `any` (lint's no-unsafe-* rules, issue 22). The CLI's own types are spread over its
 * commands; these name only what the assertions use.
 */

/** One planned or applied change. */
export interface ChangeJson {
  action: string;
  kind: string;
  name: string;
  id?: string;
  fields?: Array<{ field: string; from: unknown; to: unknown }>;
  [key: string]: unknown;
}

/** Requests a command sent to Keycloak, by kind. */
export interface RequestCountsJson {
  reads: number;
  writes: number;
  other?: number;
}

/** `--json plan`. */
export interface PlanJson {
  realm: string;
  keycloakUrl: string;
  changes: ChangeJson[];
  requests: RequestCountsJson;
}

/** `--json apply` (and `init`'s and `doctor --fix`'s apply). */
export interface ApplyJson {
  applied: ChangeJson[];
  changes: ChangeJson[];
  requests: RequestCountsJson;
}

/** `--json init`. */
export interface InitJson extends ApplyJson {
  ok: boolean;
  realm: string;
  doctor: { ok: boolean; summary: { fail: number }; checks: Array<{ id: string; status: string }> };
  files: Array<{ path: string; status: string }>;
}

/** mcp-keycloak.json as init and apply --save write it. */
export interface ConfigFileJson {
  $schema: string;
  realm: string;
  keycloakUrl?: string;
  resources: Array<{ url: string; scopes?: string[]; toolScopes?: Record<string, string[]> }>;
  dcr?: Record<string, unknown>;
  server?: Record<string, unknown>;
  cimd?: Record<string, unknown>;
  testUser?: Record<string, unknown>;
}

/** .vscode/mcp.json. */
export interface VscodeJson {
  servers: Record<string, unknown>;
}
