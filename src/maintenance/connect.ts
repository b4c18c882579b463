/** Config + admin session for the maintenance commands (no test-user password needed, unlike apply). */
import { loadConfig, type ConfigFlags } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { secretsFromEnv, type Secrets } from '../config/secrets.js';
import { resolveSecrets } from '../commands/context.js';
import { KeycloakError } from '../errors.js';
import { keycloakCall } from '../keycloak/errors.js';
import { connectAdmin, type AdminSession } from '../keycloak/session.js';
import { localAdminPassword } from '../local/local-keycloak.js';
import type { Ui } from '../ui/output.js';

export interface MaintenanceContext {
  config: Config;
  session: AdminSession;
  realmId: string;
}

/** Env (or a prompt) as everywhere, but the password of mcp-keycloak's own local Keycloak comes from its state file. */
export async function adminSecrets(config: Config, ui: Ui): Promise<Secrets> {
  const fromEnv = secretsFromEnv();
  if (!fromEnv.adminPassword && !config.admin.clientId) {
    const local = await localAdminPassword(config.keycloakUrl);
    if (local) return { ...fromEnv, adminPassword: local };
  }
  return resolveSecrets(config, ui);
}

export async function openMaintenance(flags: ConfigFlags, ui: Ui): Promise<MaintenanceContext> {
  const { config } = await loadConfig(flags);
  // Right after `keycloak start` / `init --yes`, the local Keycloak's password is in its state file.
  const secrets = await adminSecrets(config, ui);
  const session = await ui.step(`Connecting to ${config.keycloakUrl}`, () => connectAdmin(config, secrets));
  const realm = await keycloakCall(() => session.client.realms.findOne({ realm: config.realm }), undefined, `Reading realm "${config.realm}"`);
  if (!realm?.id) throw new KeycloakError(`Realm "${config.realm}" does not exist at ${config.keycloakUrl}: check --realm / the config file.`, 404);
  return { config, session, realmId: realm.id };
}
