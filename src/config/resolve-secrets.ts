/**
 * Where a command's secrets come from: the environment first; for mcp-keycloak's own local Keycloak
 * (`keycloak start`, `init --yes`) the admin password from its 0600 state file, so nobody has to copy it;
 * last, when the caller can ask someone, a hidden prompt. Apart from secrets.ts because cli.ts loads that
 * on every run and this one brings src/local along.
 */
import { localAdminPassword } from '../local/local-keycloak.js';
import type { Config } from './schema.js';
import { secretsFromEnv, type Secrets } from './secrets.js';

/** Secrets from env, plus the local Keycloak's admin password when env has none and the URL is that Keycloak's. */
export async function envOrLocalSecrets(config: Config): Promise<Secrets> {
  const secrets = secretsFromEnv();
  if (!secrets.adminPassword && !config.admin.clientId) {
    const local = await localAdminPassword(config.keycloakUrl);
    if (local) secrets.adminPassword = local;
  }
  return secrets;
}

/** `envOrLocalSecrets`, then `askHidden` (a terminal's hidden prompt, when there is one) for an admin password still missing. */
export async function resolveSecrets(
  config: Config,
  askHidden?: (question: string) => Promise<string>,
): Promise<Secrets> {
  const secrets = await envOrLocalSecrets(config);
  if (!config.admin.clientId && !secrets.adminPassword && askHidden) {
    secrets.adminPassword = await askHidden(`Password of Keycloak admin "${config.admin.username}"`);
  }
  return secrets;
}
