/**
 * What doctor's checks share: the input they examine, the facts they discover for one another, and the
 * shape of a check. The findings they return are src/findings.ts's, shared with the end-to-end chain.
 */
import type { DpopSession } from '@modelcontextprotocol/client';
import type { Config, ResourceConfig } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import type { ClientVerdict } from '../clients/verdict.js';
import type { Finding } from '../findings.js';
import type { AdminSession } from '../keycloak/session.js';
import type { RealmClients } from './dcr.js';
import type { HttpRequest } from './http.js';

/** Where the token to analyse came from. The value itself is never reported. */
export type TokenSource = 'stdin' | 'env' | 'test-user';

/** What every check may read: the validated configuration and the optional inputs. */
export interface DoctorInput {
  config: Config;
  /** The config file that was read, to suggest `--config FILE` in fixes. */
  configFile?: string;
  /** The flags this run gave on top of the config file, as typed (`applyOverrideArgs`), repeated in fixes. */
  overrides?: string[];
  /** The MCP server under examination (the first configured resource, or --resource). */
  resource: ResourceConfig;
  secrets: Secrets;
  token?: { value: string; source: Exclude<TokenSource, 'test-user'> };
  /** Present when admin credentials were given and worked. */
  admin?: AdminSession;
  /** Why there is no admin session (no credentials, or they failed). */
  adminMissing?: string;
  /** Admin credentials were given and the login failed (rejected, or the admin API did not answer): why, in one line. */
  adminFailed?: string;
  /** The realm issuer as Keycloak itself announces it at config.keycloakUrl (falls back to the computed URL). */
  expectedIssuer: string;
  /** Why Keycloak's discovery document for the realm could not be read at config.keycloakUrl, if it could not. */
  keycloakProblem?: string;
  /** What kind of problem that is, when known: the fix differs (correct the URL, or create the realm). */
  keycloakProblemKind?: KeycloakProblemKind;
  /** For `unreachable`: what to do (start the local Keycloak again with its features, or check the URL). */
  keycloakProblemFix?: string;
  /** How the checks make HTTP requests; real ones (`request` in http.ts) unless a unit test feeds canned answers. */
  request?: HttpRequest;
}

/** Facts later checks build on, discovered "from the outside in" by earlier ones. */
export interface DoctorState {
  challenge?: { status: number; resourceMetadata?: string; scope?: string };
  prm?: { url: string; document: Record<string, unknown> };
  /** The authorization server clients will use: PRM's first entry, else the expected issuer. */
  authorizationServer?: string;
  asMetadata?: { url: string; document: Record<string, unknown> };
  /** The token under analysis, given or obtained for the test user (bound to `dpop`'s key when the realm requires DPoP). */
  token?: { value: string; source: TokenSource; dpop?: DpopSession };
  /** Why no token is available (for skips). */
  tokenMissing?: string;
  /** What GET /admin/serverinfo said (admin credentials only): the version and the enabled features in kc.sh spelling. */
  server?: { version: string; features: string[] };
  /** The realm's clients, read once by the realm audit (Max Clients) for registration.iss too. */
  realmClients?: RealmClients;
  /** What the realm and the MCP server require of DPoP (checks/dpop.ts): `--e2e` sends proofs when either does. */
  dpop?: { realmRequires: boolean; serverRequires: boolean };
  /** The findings of the checks run so far (the per-client verdicts read --e2e's). */
  findings?: readonly Finding[];
  /** The per-client verdicts (clients.* findings), for the JSON document's `clients` matrix. */
  clientVerdicts?: ClientVerdict[];
  /** Decoded token, for the JSON document (never the signature). */
  decodedToken?: { header: Record<string, unknown>; claims: Record<string, unknown> };
}

/** One check: a small module with an id, a title for the spinner, and a run function. */
export interface Check {
  id: string;
  title: string;
  run(input: DoctorInput, state: DoctorState): Promise<Finding[]>;
}

/**
 * `not-keycloak`: another server answers at the URL; `realm-missing`: Keycloak answers without the realm;
 * `unreachable`: nothing answers at the URL.
 */
export type KeycloakProblemKind = 'not-keycloak' | 'realm-missing' | 'unreachable';
