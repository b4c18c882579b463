/**
 * What doctor trusts, enforced here and nowhere else (docs/security.md, "What doctor trusts"). The user's
 * own inputs (flags, env, config file, `.env`) name the Keycloak origin; everything the MCP server under
 * examination says (its 401 challenge, its Protected Resource Metadata) and every remote document is data
 * to check, never a destination. Admin credentials, the test user's password, tokens, registration probes
 * and their registration access tokens go only to that origin: a server that names another authorization
 * server (even a proxy in front of the same Keycloak, where every page looks right) would otherwise
 * receive them. curl's `--location-trusted` exists for the same reason: credentials follow no one by default.
 *
 * Every secret-bearing request of doctor goes through `keycloakOnlyRequest` (doctor's own probes) or
 * `keycloakOnlyFetch` (the MCP SDK client of `--e2e`). Checks ask `untrustedDestination` first, so that a
 * check that would send a secret elsewhere is reported as not run because of the check that found the
 * foreign origin; the wrappers are the backstop that holds even if a check forgets to ask.
 */
import type { Config } from '../config/schema.js';
import { sendToKeycloak } from '../keycloak/http.js';
import { request, type HttpRequest } from './http.js';
import type { DoctorInput, DoctorState } from './types.js';

/** Thrown instead of sending a secret or a write to an origin the user did not configure as Keycloak. */
export class UntrustedDestinationError extends Error {
  constructor(
    readonly url: string,
    readonly keycloakOrigin: string,
  ) {
    super(
      `refused to send credentials or a write to ${originOf(url) ?? url}: doctor sends them only to the configured Keycloak ${keycloakOrigin}`,
    );
    this.name = 'UntrustedDestinationError';
  }
}

function originOf(url: string | URL): string | undefined {
  try {
    return new URL(String(url)).origin;
  } catch {
    return undefined;
  }
}

/** The origin the user's inputs name for Keycloak (--keycloak-url, KEYCLOAK_URL, the config file). */
export function keycloakOrigin(config: Pick<Config, 'keycloakUrl'>): string {
  return new URL(config.keycloakUrl).origin;
}

/** Whether `url` is on the configured Keycloak origin (scheme, host and port, compared exactly). */
export function isKeycloakOrigin(url: string | URL, config: Pick<Config, 'keycloakUrl'>): boolean {
  return originOf(url) === keycloakOrigin(config);
}

/** Throws UntrustedDestinationError unless `url` is on the configured Keycloak origin. */
export function requireKeycloakOrigin(url: string | URL, config: Pick<Config, 'keycloakUrl'>): void {
  if (!isKeycloakOrigin(url, config)) throw new UntrustedDestinationError(String(url), keycloakOrigin(config));
}

/** Doctor's request (or a unit test's canned one) that refuses, before sending anything, every URL off the Keycloak origin. */
export function keycloakOnlyRequest(input: Pick<DoctorInput, 'config' | 'request'>): HttpRequest {
  const send = input.request ?? request;
  return async (url, init) => {
    requireKeycloakOrigin(url, input.config);
    return send(url, init);
  };
}

/** A request that reads without credentials: it carries no secret, so it may go wherever discovery leads. */
function isPlainRead(method: string, headers: Headers, body: unknown): boolean {
  const read = method === 'GET' || method === 'HEAD';
  return read && body == null && !headers.has('authorization') && !headers.has('cookie');
}

/**
 * The `fetch` for `doctor --e2e`'s MCP client. It lets through: anything to the Keycloak origin (sent with
 * the --timeout bound of `sendToKeycloak`; a request with a secret follows no redirect, which could lead it
 * elsewhere, as curl's `--location-trusted` is off by default); plain reads anywhere (the PRM, metadata: data to check); and the
 * MCP calls themselves, i.e. JSON-RPC to exactly the MCP URL the user named (they carry the access token
 * Keycloak issued for that resource, which is where a client sends it). A login form, a token request or a
 * registration anywhere else is refused with UntrustedDestinationError, so the sign-in step fails and says so.
 */
export function keycloakOnlyFetch(
  config: Pick<Config, 'keycloakUrl'>,
  mcpUrl: string,
  /** How what the guard lets through to other origins is sent (a bounded fetch composes here). */
  elsewhere: typeof fetch = fetch,
): typeof fetch {
  const mcp = new URL(mcpUrl);
  return async (target, init = {}) => {
    const url = new URL(target instanceof Request ? target.url : String(target));
    const method = (init.method ?? (target instanceof Request ? target.method : 'GET')).toUpperCase();
    const headers = new Headers(init.headers ?? (target instanceof Request ? target.headers : undefined));
    const body = init.body ?? (target instanceof Request ? target.body : undefined);
    const plainRead = isPlainRead(method, headers, body);
    if (isKeycloakOrigin(url, config)) return sendToKeycloak(url, plainRead ? init : { ...init, redirect: 'manual' });
    const toMcpEndpoint = url.origin === mcp.origin && url.pathname === mcp.pathname;
    const form = (headers.get('content-type') ?? '').includes('application/x-www-form-urlencoded');
    if (plainRead || (toMcpEndpoint && !form)) return elsewhere(target, init);
    throw new UntrustedDestinationError(url.href, keycloakOrigin(config));
  };
}

/** Why a check may not send its secret where it would have to, and the finding that explains it. */
export interface Blocked {
  /** The id of the finding that found the foreign origin (it fails, or warns when Keycloak itself did not answer). */
  blockedBy: string;
  why: string;
}

/**
 * Whether a check that sends a secret or a write to the authorization server clients are pointed at must
 * not run, and because of which finding: Keycloak announcing its issuer, and so its endpoints, on another
 * origin than the configured one (`keycloak.origin`), or the PRM naming another origin
 * (`prm.authorization_servers`). Undefined when both are on the configured Keycloak origin.
 */
export function untrustedDestination(
  input: Pick<DoctorInput, 'config' | 'expectedIssuer'>,
  state: Pick<DoctorState, 'authorizationServer'>,
): Blocked | undefined {
  const origin = keycloakOrigin(input.config);
  // Keycloak's own issuer first: when it is elsewhere, the PRM naming it is right and keycloak.origin is what fails.
  if (!isKeycloakOrigin(input.expectedIssuer, input.config))
    return {
      blockedBy: 'keycloak.origin',
      why: `not run: Keycloak announces its endpoints on ${originOf(input.expectedIssuer)}, not on the configured ${origin}, and doctor sends no password, token or registration there`,
    };
  const server = state.authorizationServer;
  if (server && !isKeycloakOrigin(server, input.config))
    return {
      blockedBy: 'prm.authorization_servers',
      why: `not run: the PRM names the authorization server ${server}, which is not on the configured Keycloak ${origin}, and doctor sends no password, token or registration there`,
    };
  return undefined;
}
