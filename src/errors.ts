/**
 * The errors the CLI knows how to print. Every failure a user can cause ends up as one of these, so
 * `cli.ts` can print one readable line and pick the exit code; anything else is a bug and shows its
 * stack only with --debug.
 */

/** Documented exit codes (docs/configuration.md "Exit codes"; why these numbers: docs/decisions.md). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  /**
   * Bad flags, env or config: sysexits.h's EX_USAGE, so that no usage error can be read as
   * `plan --detailed-exitcode`'s "changes pending" by a CI job that gates on the plan.
   */
  usage: 64,
  /** `plan --detailed-exitcode` when changes are pending (Terraform's convention: 0 none, 1 error, 2 changes). */
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

/** Bad flags, env or config: exit code 64 (EX_USAGE). */
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
