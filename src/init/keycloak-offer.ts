/**
 * What init does when nothing answers at the Keycloak URL: on loopback it offers (or, with --yes /
 * --start-keycloak, starts) the local dev Keycloak of `mcp-keycloak keycloak start`, and says so;
 * anywhere else it stops with the reason. It also finds the admin password of a local Keycloak that
 * mcp-keycloak started, so the user never has to copy it.
 */
import { KeycloakError, UsageError } from '../errors.js';
import { interruptible } from '../local/interrupt.js';
import { isLoopbackUrl, portOf } from '../addresses.js';
import { keycloakAnswers, localAdminPassword, startLocalKeycloak } from '../local/local-keycloak.js';
import { command } from '../ui/invocation.js';
import { confirm } from '../ui/prompt.js';
import type { Ui } from '../ui/output.js';

export interface OfferOutcome {
  /** True when init started a Keycloak just now. */
  started: boolean;
  startupMs?: number;
  /** The local Keycloak's admin password, when the URL is the Keycloak mcp-keycloak started. */
  adminPassword?: string;
  passwordFile?: string;
}

/** Makes sure a Keycloak answers at `url`: when a loopback one does not, offers (or, with --yes, starts) a local one. */
export async function ensureKeycloak(
  url: string,
  options: {
    ui: Ui;
    asking: boolean;
    yes: boolean;
    startKeycloak?: boolean;
    /** The config file's keycloakFeatures (the env and flags win inside startLocalKeycloak). */ features?: string[];
  },
): Promise<OfferOutcome> {
  const { ui } = options;
  const outcome: OfferOutcome = { started: false };
  if (!(await keycloakAnswers(url, 5000))) {
    const hint = `start one with \`${command(`keycloak start${portOf(url) === 8080 ? '' : ` --port ${portOf(url)}`}`)}\`, or fix --keycloak-url / KEYCLOAK_URL`;
    if (!isLoopbackUrl(url)) throw new KeycloakError(`Nothing answers at ${url}: ${hint}. Nothing was written.`);
    if (options.startKeycloak === false)
      throw new KeycloakError(`Nothing answers at ${url}: ${hint}. Nothing was written.`);
    let start = Boolean(options.startKeycloak) || options.yes;
    if (!start && options.asking) {
      start = await confirm(
        `Nothing answers at ${url}. Start a local dev Keycloak there (Docker, or Keycloak's server distribution; the first start takes a few minutes)?`,
        true,
      );
    }
    if (!start) {
      throw new UsageError(
        `Nothing answers at ${url}: ${hint}, or rerun init with --start-keycloak. Nothing was written.`,
      );
    }
    ui.info(
      `Starting a local Keycloak on port ${portOf(url)} (it keeps running after init; stop it with \`${command('keycloak stop')}\`).`,
    );
    const result = await interruptible(
      (signal) =>
        startLocalKeycloak({
          port: portOf(url),
          runtime: 'auto',
          ...(options.features && !process.env.MCP_KEYCLOAK_FEATURES ? { features: options.features } : {}),
          signal,
          onProgress: (message) => ui.warn(`  ${message}`),
        }),
      'Interrupted: the local Keycloak init was starting was stopped; nothing was written.',
    );
    ui.info(`  Keycloak runs at ${result.state.url}; admin password in ${result.passwordFile} (not printed).`);
    outcome.started = !result.alreadyRunning;
    outcome.startupMs = result.startupMs;
    outcome.passwordFile = result.passwordFile;
  }
  const password = await localAdminPassword(url);
  if (password) outcome.adminPassword = password;
  return outcome;
}
