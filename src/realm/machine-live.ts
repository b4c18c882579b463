/**
 * Reads the machine clients the desired state names: each client by exact clientId, its secret when it uses
 * one (to compare with the credentials file, never shown), the keys registered on it, and the local file.
 */
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type { AdminSession } from '../keycloak/session.js';
import {
  readMachineCredentials,
  registeredThumbprints,
  type DesiredMachineClient,
  type LiveMachineClient,
} from './machine-clients.js';

/** One or two reads per machine client (two with a secret), all at once. */
export async function readLiveMachineClients(
  session: AdminSession,
  realm: string,
  desired: DesiredMachineClient[],
): Promise<Map<string, LiveMachineClient>> {
  const path = encodeURIComponent(realm);
  const entries = await Promise.all(
    desired.map(async (machine): Promise<[string, LiveMachineClient]> => {
      const [found, credentials] = await Promise.all([
        session.read<ClientRepresentation[]>(
          `${path}/clients`,
          `looking up the machine client "${machine.clientId}" in realm "${realm}"`,
          { clientId: machine.clientId },
        ),
        readMachineCredentials(machine.credentialsFile),
      ]);
      const client = (found ?? []).find((c) => c.clientId === machine.clientId);
      const live: LiveMachineClient = { registeredKeys: [] };
      if (credentials) live.credentials = credentials;
      if (!client?.id) return [machine.clientId, live];
      live.client = client;
      live.registeredKeys = await registeredThumbprints(client);
      if (client.clientAuthenticatorType === 'client-secret') {
        const secret = await session.read<{ value?: string }>(
          `${path}/clients/${encodeURIComponent(client.id)}/client-secret`,
          `reading the secret of machine client "${machine.clientId}"`,
        );
        if (secret?.value) live.secret = secret.value;
      }
      return [machine.clientId, live];
    }),
  );
  return new Map(entries);
}
