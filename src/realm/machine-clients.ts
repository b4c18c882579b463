/**
 * Machine clients (OAuth client credentials, the MCP `oauth-client-credentials` extension): a confidential
 * client with a service account per config entry, authenticating with `private_key_jwt` (RFC 7523; apply makes
 * the key pair, keeps the private key in a 0600 file and registers the public JWKS on the client) or
 * `client_secret_basic` (Keycloak makes the secret; apply copies it to a 0600 file). The file is what an
 * agent (and `doctor --machine-client`) reads; secrets never go into the plan, the output or a log.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Config, MachineClientAuth } from '../config/schema.js';
import { stateDir, writePrivateFile } from '../local/state.js';
import type { ChangeAction, FieldChange } from './change.js';

/**
 * Keycloak answers 500 to client_credentials with `resource` (resource indicators feature) for a client without
 * refresh tokens (keycloak#50251); this attribute (OIDCConfigAttributes.USE_REFRESH_TOKEN_FOR_CLIENT_CREDENTIALS_GRANT,
 * checked in Keycloak's source and against 26.7.3: the name often quoted, use.refresh.tokens.client_credentials,
 * does not exist) avoids it. The refresh token it adds is Keycloak's, RFC 6749 §4.4.3 asks for none.
 */
export const CLIENT_CREDENTIALS_REFRESH_ATTRIBUTE = 'client_credentials.use_refresh_token';
/** Marks a machine client and names the MCP server it calls (export and destroy tell it from a resource client). */
export const MACHINE_CLIENT_ATTRIBUTE = 'mcp-keycloak.machine-client';
const KEY_ALGORITHM = 'ES256';
/** desired.ts's CREATED_BY_ATTRIBUTE (desired.ts imports this module, so the name is repeated, not imported). */
const CREATED_BY = 'mcp-keycloak.created';

export interface DesiredMachineClient {
  clientId: string;
  auth: MachineClientAuth;
  /** The MCP server it calls: its scopes are realm defaults, so the service account's tokens carry them. */
  resource: string;
  /** Where its credentials live (mode 0600). */
  credentialsFile: string;
}

/** What the credentials file holds: enough for an agent to get a token with no other configuration. */
export interface MachineCredentials {
  clientId: string;
  auth: MachineClientAuth;
  tokenEndpoint: string;
  resource: string;
  clientSecret?: string;
  /** The private key (JWK, with `kid` and `alg`) for `private_key_jwt`. */
  privateKey?: JWK;
}

/** `<state dir>/machine-clients/<realm>/<clientId>.json`: beside the local Keycloak's own state, never in the project. */
export function machineCredentialsPath(realm: string, clientId: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'machine-clients', realm, `${clientId}.json`);
}

export function desiredMachineClients(config: Config): DesiredMachineClient[] {
  return (config.machineClients ?? []).map((entry) => ({
    clientId: entry.clientId,
    auth: entry.auth,
    resource: entry.resource ?? config.resources[0]!.url,
    credentialsFile: machineCredentialsPath(config.realm, entry.clientId),
  }));
}

/** The client as apply wants it; `jwks` only for private_key_jwt. */
export function machineClientRepresentation(desired: DesiredMachineClient, jwks?: { keys: JWK[] }) {
  const attributes: Record<string, string> = {
    [CLIENT_CREDENTIALS_REFRESH_ATTRIBUTE]: 'true',
    [MACHINE_CLIENT_ATTRIBUTE]: desired.resource,
    [CREATED_BY]: 'true',
  };
  if (jwks) {
    Object.assign(attributes, {
      'use.jwks.url': 'false',
      'use.jwks.string': 'true',
      'jwks.string': JSON.stringify(jwks),
      'token.endpoint.auth.signing.alg': KEY_ALGORITHM,
    });
  }
  return {
    clientId: desired.clientId,
    name: 'MCP machine client',
    description: `Calls ${desired.resource} with the client credentials grant (no user). Made by mcp-keycloak.`,
    protocol: 'openid-connect',
    enabled: true,
    publicClient: false,
    bearerOnly: false,
    standardFlowEnabled: false,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: true,
    clientAuthenticatorType: desired.auth === 'private_key_jwt' ? 'client-jwt' : 'client-secret',
    attributes,
  };
}

/**
 * The part of a live machine client that apply decides, for `export`: settings and the public JWKS (safe to
 * publish), never the secret Keycloak's admin API includes (a secret client gets a new one on import).
 */
export function machineClientExport(client: ClientRepresentation): ClientRepresentation {
  const keys = ['clientId', 'name', 'description', 'protocol', 'enabled', 'publicClient', 'bearerOnly'] as const;
  const flows = [
    'standardFlowEnabled',
    'implicitFlowEnabled',
    'directAccessGrantsEnabled',
    'serviceAccountsEnabled',
  ] as const;
  const out: ClientRepresentation = {};
  for (const key of [...keys, ...flows, 'clientAuthenticatorType'] as const) {
    if (client[key] !== undefined) (out as Record<string, unknown>)[key] = client[key];
  }
  const owned = [
    CLIENT_CREDENTIALS_REFRESH_ATTRIBUTE,
    MACHINE_CLIENT_ATTRIBUTE,
    CREATED_BY,
    'use.jwks.url',
    'use.jwks.string',
    'jwks.string',
    'token.endpoint.auth.signing.alg',
  ];
  out.attributes = Object.fromEntries(
    owned.filter((name) => client.attributes?.[name] !== undefined).map((name) => [name, client.attributes![name]]),
  );
  return out;
}

/** A machine client as read: the Keycloak client (if any), its secret when it uses one, and the local file. */
export interface LiveMachineClient {
  client?: ClientRepresentation;
  secret?: string;
  /** RFC 7638 thumbprints of the keys registered on the client (`jwks.string`). */
  registeredKeys: string[];
  credentials?: MachineCredentials;
}

/** The credentials file, or undefined when it is missing or not ours to read (a broken file is rewritten). */
export async function readMachineCredentials(path: string): Promise<MachineCredentials | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as MachineCredentials) : undefined;
  } catch {
    return undefined;
  }
}

/** The thumbprints of the keys registered on the client (`jwks.string`). */
export async function registeredThumbprints(client: ClientRepresentation): Promise<string[]> {
  try {
    const jwks = JSON.parse(String(client.attributes?.['jwks.string'] ?? '{}')) as { keys?: JWK[] };
    return await Promise.all((jwks.keys ?? []).map((key) => calculateJwkThumbprint(key)));
  } catch {
    return [];
  }
}

/** What differs between the live client (and file) and the desired one; secrets are never a field's value. */
export function machineClientDrift(desired: DesiredMachineClient, live: LiveMachineClient): FieldChange[] {
  const { client, credentials } = live;
  if (!client) return [];
  const wanted = machineClientRepresentation(desired);
  const fields: FieldChange[] = [];
  for (const field of [
    'serviceAccountsEnabled',
    'clientAuthenticatorType',
    'standardFlowEnabled',
    'publicClient',
  ] as const) {
    if (client[field] !== wanted[field]) fields.push({ field, from: client[field] ?? null, to: wanted[field] });
  }
  for (const field of [CLIENT_CREDENTIALS_REFRESH_ATTRIBUTE, MACHINE_CLIENT_ATTRIBUTE]) {
    const from: unknown = client.attributes?.[field];
    if (from !== wanted.attributes[field]) fields.push({ field, from: from ?? null, to: wanted.attributes[field] });
  }
  const fileMatches =
    credentials?.clientId === desired.clientId &&
    credentials.auth === desired.auth &&
    credentials.resource === desired.resource &&
    (desired.auth === 'client_secret_basic'
      ? credentials.clientSecret !== undefined && credentials.clientSecret === live.secret
      : credentials.privateKey?.kid !== undefined && live.registeredKeys.includes(credentials.privateKey.kid));
  if (!fileMatches) {
    const to = desired.auth === 'private_key_jwt' ? '(new key pair; public JWKS on the client)' : '(the client secret)';
    fields.push({
      field: 'credentials file',
      from: credentials ? '(stale)' : null,
      to: `${desired.credentialsFile} ${to}`,
    });
  }
  return fields;
}

/** The plan's action for one machine client, with its fields; none when it matches. */
export function planMachineClient(
  desired: DesiredMachineClient,
  live: LiveMachineClient | undefined,
): { action: ChangeAction; fields: FieldChange[] } | undefined {
  if (!live?.client) {
    const fields: FieldChange[] = [
      { field: 'serviceAccountsEnabled', from: null, to: true },
      { field: 'token_endpoint_auth_method', from: null, to: desired.auth },
      { field: 'credentials file', from: null, to: desired.credentialsFile },
    ];
    return { action: 'create', fields };
  }
  const fields = machineClientDrift(desired, live);
  return fields.length ? { action: 'update', fields } : undefined;
}

/** A fresh key pair: the private JWK for the file (kid = RFC 7638 thumbprint), the public JWKS for Keycloak. */
export async function newMachineKey(): Promise<{ privateKey: JWK; jwks: { keys: JWK[] } }> {
  const { publicKey, privateKey } = await generateKeyPair(KEY_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg: KEY_ALGORITHM, use: 'sig' };
  return { privateKey: { ...(await exportJWK(privateKey)), ...meta }, jwks: { keys: [{ ...publicJwk, ...meta }] } };
}

/** Writes the credentials file (0600, atomically: a reader never sees half a key). */
export async function writeMachineCredentials(path: string, credentials: MachineCredentials): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(credentials, null, 2)}\n`);
}
