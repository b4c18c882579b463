/**
 * The registration body doctor sends for a catalogued client: the real one from the probe (src/doctor/clients.ts)
 * where the probe knows the client, else one derived from the catalogue row (its redirect URIs, registration scope
 * and auth method; a loopback callback where the row lists none, as the SDKs use).
 */
import { PROBE_CLIENTS, type ProbeClient, type ProbeContext } from '../doctor/clients.js';
import type { CatalogueClient } from './catalogue.js';
import { registrationScopesOf, type ScopeFacts } from './scopes.js';

/** Catalogue rows whose registration the probe's body of another id sends (VS Code's body lists Insiders' redirect). */
const SAME_BODY_AS: Record<string, string> = { 'vscode-insiders': 'vscode' };

/** The probe client that sends this catalogued client's own body, if any. */
export function probeClientFor(client: CatalogueClient): ProbeClient | undefined {
  const id = SAME_BODY_AS[client.id] ?? client.id;
  return PROBE_CLIENTS.find((probe) => probe.id === id && probe.sentFrom !== 'browser');
}

const LOOPBACK_PORT = '53999';

/** A body derived from the catalogue row, for clients the probe does not know. */
export function derivedBody(client: CatalogueClient, facts: ScopeFacts): Record<string, unknown> {
  const redirects = client.redirectUris.length ? client.redirectUris : [`http://127.0.0.1:{port}/callback`];
  const scopes = registrationScopesOf(client, facts) ?? [];
  return {
    client_name: `${client.name} (mcp-keycloak doctor)`,
    redirect_uris: redirects.map((uri) => uri.replace('{port}', LOOPBACK_PORT).replace('{id}', 'mcp-keycloak-doctor')),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(scopes.length ? { scope: scopes.join(' ') } : {}),
    ...(client.dcr.authMethod ? { token_endpoint_auth_method: client.dcr.authMethod } : {}),
  };
}

/** The body and where it comes from: the probe's real body, or the derived one. */
export function registrationBodyFor(
  client: CatalogueClient,
  facts: ScopeFacts,
  ctx: ProbeContext,
): { body: Record<string, unknown>; from: 'probe' | 'derived' } {
  const probe = probeClientFor(client);
  return probe ? { body: probe.body(ctx), from: 'probe' } : { body: derivedBody(client, facts), from: 'derived' };
}
