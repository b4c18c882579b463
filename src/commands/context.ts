/** What every provisioning command starts with: validated config, secrets, an admin session, the desired realm. */
import { loadConfig, type ConfigFlags } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { SECRET_ENV, secretsFromEnv, type Secrets } from '../config/secrets.js';
import { UsageError } from '../errors.js';
import { connectAdmin, type AdminSession } from '../keycloak/session.js';
import { localAdminPassword } from '../local/local-keycloak.js';
import type { RealmContext } from '../realm/converge.js';
import { desiredRealm } from '../realm/desired.js';
import { askHidden } from '../ui/prompt.js';
import type { Ui } from '../ui/output.js';

export interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
}

/**
 * Secrets from env; when the admin password is missing and the URL is mcp-keycloak's own local Keycloak
 * (`keycloak start`, `init --yes`), the password from its 0600 state file, so nobody has to copy it.
 */
export async function envOrLocalSecrets(config: Config): Promise<Secrets> {
  const secrets = secretsFromEnv();
  if (!secrets.adminPassword && !config.admin.clientId) {
    const local = await localAdminPassword(config.keycloakUrl);
    if (local) secrets.adminPassword = local;
  }
  return secrets;
}

/** `envOrLocalSecrets`, and on a terminal a hidden prompt for an admin password still missing. */
export async function resolveSecrets(config: Config, ui: Ui): Promise<Secrets> {
  const secrets = await envOrLocalSecrets(config);
  if (!config.admin.clientId && !secrets.adminPassword && ui.interactive) {
    secrets.adminPassword = await askHidden(`Password of Keycloak admin "${config.admin.username}"`);
  }
  return secrets;
}

export async function openRealmContext(flags: ConfigFlags, ui: Ui): Promise<RealmContext> {
  const { config } = await loadConfig(flags);
  const secrets = await resolveSecrets(config, ui);
  if (config.testUser && !secrets.testUserPassword) {
    // Without it we could create the user but not let anyone log in as them.
    throw new UsageError(`--test-user ${config.testUser.username} needs its password in ${SECRET_ENV.testUserPassword}.`);
  }
  const session = await ui.step(`Connecting to ${config.keycloakUrl}`, () => connectAdmin(config, secrets));
  return { config, secrets, session, desired: desiredRealm(config, secrets.testUserPassword) };
}
