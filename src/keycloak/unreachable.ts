/**
 * What to say when nothing answers at the Keycloak URL. The first real cause comes first: the URL
 * (https:// typed for Keycloak's http port), else that nothing answers, with the fix that fits: the local
 * Keycloak that `keycloak start` ran on that port is stopped (start it again with the features it had),
 * or no Keycloak at all. Loaded only on that failure path: it reads the local Keycloak's state file.
 */
import { isLoopbackUrl, portOf } from '../addresses.js';
import { CliError, KeycloakError, UsageError } from '../errors.js';
import { command } from '../ui/invocation.js';
import { answeredPlainHttp, networkReason } from './http.js';

/** Nothing answers at the URL: `fix` is the sentence that says what to do, for doctor's finding. */
export class KeycloakUnreachableError extends KeycloakError {
  constructor(
    message: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(message, undefined, options);
    this.name = 'KeycloakUnreachableError';
  }
}

/**
 * The fix when the local Keycloak recorded in the state directory (`keycloak start`, `init --yes`) is the
 * one at `base` and does not answer: start it again with the same port, runtime, version and features,
 * so that a realm set up with CIMD does not come back without it. Undefined when `base` is not it.
 */
async function localKeycloakFix(base: string): Promise<string | undefined> {
  if (!isLoopbackUrl(base)) return undefined;
  const { localStatus } = await import('../local/local-keycloak.js');
  const { startArguments } = await import('../local/features.js');
  const { state, running } = await localStatus().catch(() => ({ state: undefined, running: false }));
  if (!state || state.port !== portOf(base)) return undefined;
  const start = `\`${command(startArguments(state))}\``;
  if (running)
    return `the local Keycloak that \`${command('keycloak start')}\` ran at ${base} is still starting or has failed: see its log ${state.logFile}, or run \`${command('keycloak stop')}\` and then ${start}.`;
  return `the local Keycloak that \`${command('keycloak start')}\` ran at ${base} is stopped (its admin password and realms are kept): start it again with ${start}.`;
}

/** The error for a Keycloak URL where the connection failed: a usage error for https:// on an http port. */
export async function unreachableError(base: string, error: unknown): Promise<CliError> {
  if (base.startsWith('https://') && answeredPlainHttp(error)) {
    const plain = base.replace(/^https:/, 'http:');
    return new UsageError(
      `${base} answers plain HTTP, not TLS: use --keycloak-url ${plain} (or KEYCLOAK_URL / keycloakUrl in the config file).`,
      { cause: error },
    );
  }
  const fix =
    (await localKeycloakFix(base)) ??
    `is Keycloak running there? Check --keycloak-url / KEYCLOAK_URL, or start one with \`${command('keycloak start')}\`.`;
  return new KeycloakUnreachableError(`Nothing answers at ${base} (${networkReason(error)}): ${fix}`, fix, {
    cause: error,
  });
}
