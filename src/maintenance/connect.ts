/** Config + admin session for the maintenance commands (no test-user password needed, unlike apply). */
import { loadConfig, type ConfigFlags } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { resolveSecrets } from '../commands/context.js';
import { KeycloakError } from '../errors.js';
import { keycloakCall } from '../keycloak/errors.js';
import { connectAdmin, type AdminSession } from '../keycloak/session.js';
import type { Ui } from '../ui/output.js';

export interface MaintenanceContext {
  config: Config;
  session: AdminSession;
  realmId: string;
}

export async function openMaintenance(flags: ConfigFlags, ui: Ui): Promise<MaintenanceContext> {
  const { config } = await loadConfig(flags);
  const secrets = await resolveSecrets(config, ui);
  const session = await ui.step(`Connecting to ${config.keycloakUrl}`, () => connectAdmin(config, secrets));
  const realm = await keycloakCall(() => session.client.realms.findOne({ realm: config.realm }), undefined, `Reading realm "${config.realm}"`);
  if (!realm?.id) throw new KeycloakError(`Realm "${config.realm}" does not exist at ${config.keycloakUrl}: check --realm / the config file.`, 404);
  return { config, session, realmId: realm.id };
}
