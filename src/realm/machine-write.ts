/**
 * Writes one planned machine-client change: the client (created, or given the settings apply owns), then the
 * credentials file. private_key_jwt: the new key is written to the file before its public half goes to
 * Keycloak, so a run cut short leaves a key that the next plan finds unregistered and replaces, never a
 * registered key nobody has. client_secret_basic: Keycloak makes the secret; it is read back and written.
 */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type { JWK } from 'jose';
import { keycloakCall } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import { realmUrls } from '../keycloak/urls.js';
import type { MachineClientChange } from './change.js';
import type { DesiredRealm } from './desired.js';
import type { Outcome, Written } from './outcome.js';
import type { LiveRealm } from './live.js';
import {
  machineClientRepresentation,
  newMachineKey,
  writeMachineCredentials,
  type DesiredMachineClient,
  type MachineCredentials,
} from './machine-clients.js';

type Write = <T>(call: () => Promise<T>, expected: number[]) => Promise<Written<T>>;

/** Creates or repairs the client and (re)writes its credentials file. */
export async function writeMachineClient(
  session: AdminSession,
  desired: DesiredRealm,
  live: LiveRealm,
  change: MachineClientChange,
  write: Write,
): Promise<Outcome> {
  const { client } = session;
  const realm = desired.realm;
  const machine = desired.machineClients?.find((m) => m.clientId === change.name);
  if (!machine) throw new Error(`planned machine client "${change.name}", which the desired state does not name`);
  const credentials: MachineCredentials = {
    clientId: machine.clientId,
    auth: machine.auth,
    tokenEndpoint: realmUrls(session.baseUrl, realm).token,
    resource: machine.resource,
  };
  const current = live.machineClients?.get(machine.clientId);
  let jwks: { keys: JWK[] } | undefined;
  if (machine.auth === 'private_key_jwt') {
    const fileFits = current?.credentials?.privateKey?.kid !== undefined && !needsNewKey(change);
    if (fileFits && current?.credentials?.privateKey) credentials.privateKey = current.credentials.privateKey;
    else {
      const key = await newMachineKey();
      credentials.privateKey = key.privateKey;
      jwks = key.jwks;
      await writeMachineCredentials(machine.credentialsFile, credentials);
    }
  }
  const id = await upsertClient(session, realm, machine, change, current?.client, jwks, write);
  if (id === undefined) return 'replan';
  if (machine.auth === 'client_secret_basic') {
    const secret = await keycloakCall(
      () => client.clients.getClientSecret({ realm, id }),
      undefined,
      `reading the secret of machine client "${machine.clientId}"`,
    );
    if (!secret.value) return 'replan';
    await writeMachineCredentials(machine.credentialsFile, { ...credentials, clientSecret: secret.value });
  }
  return 'done';
}

/** A new key when the file is missing, stale or its key is not the registered one (the plan said so). */
function needsNewKey(change: MachineClientChange): boolean {
  return change.action === 'create' || change.fields.some((field) => field.field === 'credentials file');
}

/** The client's id after creating it or updating the settings apply owns (the user's other settings stay). */
async function upsertClient(
  session: AdminSession,
  realm: string,
  machine: DesiredMachineClient,
  change: MachineClientChange,
  current: ClientRepresentation | undefined,
  jwks: { keys: JWK[] } | undefined,
  write: Write,
): Promise<string | undefined> {
  const { client } = session;
  const wanted = machineClientRepresentation(machine, jwks);
  if (change.action === 'create') {
    const written = await write(() => client.clients.create({ realm, ...wanted }), [404, 409]);
    return written.ok ? written.value.id : undefined;
  }
  if (!current || current.id !== change.id) return undefined;
  // The attribute `mcp-keycloak.created` stays as it was: a client the user made is not ours to destroy.
  const { 'mcp-keycloak.created': _created, ...owned } = wanted.attributes;
  const update = { ...current, ...wanted, attributes: { ...current.attributes, ...owned } };
  const written = await write(() => client.clients.update({ realm, id: change.id }, update), [404]);
  return written.ok ? change.id : undefined;
}
