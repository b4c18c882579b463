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
import { didYouMeanRealm } from './keycloak/realm-names.js';
import { connectAdmin, probeKeycloak, type AdminSession, type ConnectOptions } from './keycloak/session.js';
import type { RealmContext } from './realm/converge.js';
import type { Change } from './realm/plan.js';
import { desiredRealm } from './realm/desired.js';
import { checkPasswordEarly } from './realm/live.js';
import type { Ui } from './ui/output.js';
import { command } from './ui/invocation.js';
import { askHidden } from './ui/prompt.js';

/** Config, admin session and the live realm's id: what `clients` and `export` need (no test-user password). */
export interface MaintenanceContext {
  config: Config;
  session: AdminSession;
  realmId: string;
}

const hasAdminCredentials = (config: Config, secrets: Secrets) =>
  Boolean(config.admin.clientId ? secrets.adminClientSecret : secrets.adminPassword);

/**
 * The config and its secrets. Reachability comes before credentials: when the admin password is missing,
 * Keycloak is probed first (before a prompt asks for it, or an error says it is not set), so that nothing
 * at --keycloak-url is reported as that, not as a missing password the user would then set in vain.
 */
async function configAndSecrets(flags: ConfigFlags, ui: Ui): Promise<{ config: Config; secrets: Secrets }> {
  const { config } = await loadConfig(flags);
  let probe: Promise<unknown> | undefined;
  const reachable = () => (probe ??= probeKeycloak(config.keycloakUrl, config.admin.realm));
  const ask = ui.interactive
    ? async (question: string) => {
        await reachable();
        return askHidden(question);
      }
    : undefined;
  const secrets = await resolveSecrets(config, ask);
  if (!hasAdminCredentials(config, secrets)) await reachable();
  return { config, secrets };
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
  if (!realm?.id) {
    const meant = await didYouMeanRealm(session, config.realm);
    throw new KeycloakError(
      `Realm "${config.realm}" does not exist at ${config.keycloakUrl}.${meant} Check --realm / MCP_KEYCLOAK_REALM / the config file.`,
      404,
    );
  }
  return { config, session, realmId: realm.id };
}

/**
 * What a plan may hide, said before it is shown (plan, apply): a realm it creates whose name is a typo of
 * one that exists, and a resource URL with a trailing slash. Both are planned as asked; neither is refused,
 * because a new realm and a URL with a slash can be meant.
 */
export async function planWarnings(context: RealmContext, changes: readonly Change[]): Promise<string[]> {
  const { config, session } = context;
  const warnings: string[] = [];
  if (changes.some((change) => change.kind === 'realm' && change.action === 'create')) {
    const meant = await didYouMeanRealm(session, config.realm);
    if (meant)
      warnings.push(
        `warning: realm "${config.realm}" does not exist at ${config.keycloakUrl}, so this plan creates it.${meant} (--realm / MCP_KEYCLOAK_REALM / the config file)`,
      );
  }
  for (const { url } of config.resources) {
    const { pathname } = new URL(url);
    if (pathname.length > 1 && pathname.endsWith('/'))
      warnings.push(
        `warning: the resource URL ${url} ends in a slash. It is the token audience, and MCP clients compare it byte for byte with the URL they connect to and with the PRM's resource (RFC 9728 §3.3): ${url.slice(0, -1)} is another server to them. Keep the slash only if clients connect with it; \`${command('doctor')}\` compares the two.`,
      );
  }
  return warnings;
}
