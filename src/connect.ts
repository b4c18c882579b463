/**
 * What the commands that work on the realm start from: the validated config, its secrets (see
 * config/resolve-secrets.ts) and an admin session; for provisioning also the desired realm, for
 * maintenance the live realm's id. Commands share this opener instead of importing each other.
 */
import { loadConfig, type ConfigFlags } from './config/load.js';
import { resolveSecrets } from './config/resolve-secrets.js';
import type { Config } from './config/schema.js';
import { SECRET_ENV, type Secrets } from './config/secrets.js';
import { KeycloakError, UsageError } from './errors.js';
import { keycloakCall } from './keycloak/errors.js';
import { connectAdmin, type AdminSession, type ConnectOptions } from './keycloak/session.js';
import type { RealmContext } from './realm/converge.js';
import { desiredRealm } from './realm/desired.js';
import { checkPasswordEarly } from './realm/live.js';
import type { Ui } from './ui/output.js';
import { askHidden } from './ui/prompt.js';

/** Config, admin session and the live realm's id: what `clients` and `export` need (no test-user password). */
export interface MaintenanceContext {
  config: Config;
  session: AdminSession;
  realmId: string;
}

async function configAndSecrets(flags: ConfigFlags, ui: Ui): Promise<{ config: Config; secrets: Secrets }> {
  const { config } = await loadConfig(flags);
  return { config, secrets: await resolveSecrets(config, ui.interactive ? askHidden : undefined) };
}

function connect(config: Config, secrets: Secrets, ui: Ui, options?: ConnectOptions): Promise<AdminSession> {
  return ui.step(`Connecting to ${config.keycloakUrl}`, () => connectAdmin(config, secrets, options));
}

/** Config and an admin session, whether or not the realm exists (`destroy`). */
export async function openAdmin(flags: ConfigFlags, ui: Ui): Promise<{ config: Config; session: AdminSession }> {
  const { config, secrets } = await configAndSecrets(flags, ui);
  return { config, session: await connect(config, secrets, ui) };
}

/** Everything `plan` and `apply` work with; refuses a test user without its password before connecting. */
export async function openRealmContext(flags: ConfigFlags, ui: Ui): Promise<RealmContext> {
  const { config, secrets } = await configAndSecrets(flags, ui);
  if (config.testUser && !secrets.testUserPassword) {
    // Without it we could create the user but not let anyone log in as them.
    throw new UsageError(
      `--test-user ${config.testUser.username} needs its password in ${SECRET_ENV.testUserPassword}.`,
    );
  }
  const desired = desiredRealm(config, secrets.testUserPassword);
  // The realm read that follows checks the test user's password: that needs no admin token, so it
  // goes out with the login instead of after it.
  const session = await connect(config, secrets, ui, {
    alongsideLogin: (baseUrl) => checkPasswordEarly(baseUrl, desired),
  });
  return { config, secrets, session, desired };
}

/** Config, admin session and the id of a realm that must exist (404 with a readable line when it does not). */
export async function openMaintenance(flags: ConfigFlags, ui: Ui): Promise<MaintenanceContext> {
  const { config, session } = await openAdmin(flags, ui);
  const realm = await keycloakCall(
    () => session.client.realms.findOne({ realm: config.realm }),
    undefined,
    `Reading realm "${config.realm}"`,
  );
  if (!realm?.id)
    throw new KeycloakError(
      `Realm "${config.realm}" does not exist at ${config.keycloakUrl}: check --realm / the config file.`,
      404,
    );
  return { config, session, realmId: realm.id };
}
