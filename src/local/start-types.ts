/** What starting the local Keycloak takes and gives (local-keycloak.ts, and distribution-start.ts for the distribution). */
import type { LocalKeycloakState } from './state.js';

export type Runtime = 'auto' | 'docker' | 'distribution';

export interface StartRequest {
  port: number;
  runtime: Runtime;
  /** The Keycloak version to run (the image tag or distribution); default the pinned KEYCLOAK_VERSION. */
  version?: string;
  /**
   * Keycloak features to start it with (`--features`; [] = none). Absent: MCP_KEYCLOAK_FEATURES, else no
   * features and no opinion about those of a Keycloak that already runs.
   */
  features?: string[];
  env?: NodeJS.ProcessEnv;
  onProgress?: (message: string) => void;
  timeoutMs?: number;
  /** Ctrl-C: stop downloading, spawn nothing, stop what was spawned (see interrupt.ts). */
  signal?: AbortSignal;
}

export interface StartResult {
  state: LocalKeycloakState;
  alreadyRunning: boolean;
  startupMs: number;
  passwordFile: string;
}
