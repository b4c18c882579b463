/**
 * Registers the way VS Code does: with every scope the Protected Resource Metadata lists (`scopes_supported`).
 *
 * Both SDK lines put the scope they are about to request into the registration body (the 401 challenge's,
 * plus `offline_access` for v2), overriding any `scope` in the client metadata. VS Code registers with the
 * PRM's `scopes_supported` instead (`fetchDynamicRegistration(serverMetadata, appName,
 * resourceMetadata?.scopes_supported)` in microsoft/vscode). With Keycloak that difference decides step-up:
 * a registration's `scope` becomes the client's only optional client scopes, so a client registered with
 * `mcp:run` alone gets `invalid_scope` when it later asks for `mcp:run mcp:admin`. This fetch wrapper adds the
 * PRM's scopes to the SDK's registration body (keeping the SDK's own, such as `offline_access`, which it will
 * request), so the registered client can step up as VS Code's can. When the PRM lists nothing the SDK does not
 * already send, the body goes out untouched.
 */
import type { ClientStore } from './provider.js';

/** What the wrapper did to the one registration request of a run, for `e2e.register`. */
export interface RegistrationScope {
  /** The scope the SDK put in the body. */
  sdk?: string;
  /** The scope sent: the SDK's plus the PRM's `scopes_supported` it lacked. */
  sent?: string;
  /** The scopes the wrapper added. */
  added: string[];
  /** Which way the run registers (flow.ts `E2eOptions.registration`). */
  strategy?: 'prm-scopes' | 'challenge';
}

function scopeList(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [];
}

function sameUrl(a: string, b: string | undefined): boolean {
  if (b === undefined) return false;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/** The registration POST's JSON body when `url`/`init` are one (to the AS's registration endpoint), else undefined. */
function registrationBody(
  store: ClientStore,
  input: Parameters<typeof fetch>[0],
  init: Parameters<typeof fetch>[1],
): Record<string, unknown> | undefined {
  const endpoint = store.discovery?.authorizationServerMetadata?.registration_endpoint;
  const url = input instanceof Request ? input.url : String(input);
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  if (method !== 'POST' || !sameUrl(url, endpoint) || typeof init?.body !== 'string') return undefined;
  try {
    return JSON.parse(init.body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Wraps `inner` so that the registration POST carries the PRM's `scopes_supported` too; `seen` records what it did. */
export function registerWithPrmScopes(store: ClientStore, seen: RegistrationScope, inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const supported = store.discovery?.resourceMetadata?.scopes_supported ?? [];
    const body = supported.length > 0 ? registrationBody(store, input, init) : undefined;
    if (!body) return inner(input, init);
    const sdk = scopeList(body.scope);
    const added = supported.filter((scope) => !sdk.includes(scope));
    if (typeof body.scope === 'string') seen.sdk = body.scope;
    seen.added = added;
    if (added.length === 0) return inner(input, init);
    const sent = [...sdk, ...added].join(' ');
    seen.sent = sent;
    return inner(input, { ...init, body: JSON.stringify({ ...body, scope: sent }) });
  };
}

/** Wraps `inner` only to record the scope the SDK registers with (the `challenge` strategy sends it untouched). */
export function recordRegistrationScope(
  store: ClientStore,
  seen: RegistrationScope,
  inner: typeof fetch,
): typeof fetch {
  return async (input, init) => {
    const body = registrationBody(store, input, init);
    if (body && typeof body.scope === 'string') seen.sdk = body.scope;
    return inner(input, init);
  };
}
