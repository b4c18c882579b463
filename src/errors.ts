/**
 * The errors the CLI knows how to print. Every failure a user can cause ends up as one of these, so
 * `cli.ts` can print one readable line and pick the exit code; anything else is a bug and shows its
 * stack only with --debug.
 */

/** Documented exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `plan --detailed-exitcode` when changes are pending (Terraform's convention). */
  changesPending: 2,
  /** `keycloak status`: the local Keycloak is not running (stopped, never started, or still starting). */
  notRunning: 3,
  /** Ctrl-C / SIGINT, as shells report it. */
  interrupted: 130,
} as const;

/** A failure with a message meant for the user: what went wrong and how to fix it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Bad flags, env or config: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
    this.name = 'UsageError';
  }
}

/** Keycloak answered with an error, or could not be reached; `status` is the HTTP status when there was one. */
export class KeycloakError extends CliError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, ExitCode.failure, options);
    this.name = 'KeycloakError';
  }
}
