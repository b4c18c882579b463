/** Maps the admin client's NetworkError and fetch failures to one-line KeycloakErrors. */
import { CliError, KeycloakError } from '../errors.js';

interface NetworkErrorLike {
  response?: { status?: number };
  responseData?: unknown;
}

export function statusOf(error: unknown): number | undefined {
  return (error as NetworkErrorLike)?.response?.status;
}

/** Keycloak's own words from an error body (errorMessage, error_description or error). */
export function keycloakMessage(error: unknown): string {
  const data = (error as NetworkErrorLike)?.responseData;
  if (data && typeof data === 'object') {
    const record = data as Record<string, unknown>;
    for (const key of ['errorMessage', 'error_description', 'error']) {
      if (typeof record[key] === 'string') return record[key] as string;
    }
  }
  if (typeof data === 'string' && data.length > 0 && data.length < 200) return data;
  return error instanceof Error ? error.message : String(error);
}

export function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if (cause?.code) return cause.code;
  if ((error as Error)?.name === 'TimeoutError') return 'no answer within 10 s';
  return (error as Error)?.message ?? String(error);
}

/**
 * Runs one admin-client call. `explain` may turn a status into a precise sentence; otherwise the error
 * says what failed with Keycloak's own message.
 */
export async function keycloakCall<T>(
  call: () => Promise<T>,
  explain?: (status: number | undefined, message: string) => string | undefined,
  what = 'Keycloak request',
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const status = statusOf(error);
    const message = keycloakMessage(error);
    const custom = explain?.(status, message);
    if (custom) throw new KeycloakError(custom, status, { cause: error });
    if (status === undefined) {
      throw new KeycloakError(`${what} failed: ${describeFetchFailure(error)}.`, undefined, { cause: error });
    }
    if (status === 403) {
      throw new KeycloakError(`${what} was forbidden (403): the admin account lacks the realm-management roles it needs.`, status, { cause: error });
    }
    throw new KeycloakError(`${what} failed: Keycloak answered ${status} (${message}).`, status, { cause: error });
  }
}
