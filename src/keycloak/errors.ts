/**
 * The one place that turns a failed request to Keycloak into a sentence: what was being done, what
 * happened (in words, not undici or Keycloak codes), which request (METHOD path), and what to do.
 */
import { STATUS_CODES } from 'node:http';
import { CliError, KeycloakError } from '../errors.js';
import { DeadlineError } from './bounds.js';
import {
  ConnectionError,
  formatSeconds,
  networkReason,
  NoAnswerError,
  requestLineOf,
  RETRIES,
  RETRY_STATUSES,
  type RequestLine,
} from './http.js';

/** What the admin client's NetworkError carries. */
interface NetworkErrorLike {
  response?: { status: number };
  responseData?: unknown;
}

/** The HTTP status of a failed admin-client call, if Keycloak answered at all. */
export function statusOf(error: unknown): number | undefined {
  return (error as NetworkErrorLike)?.response?.status;
}

/** A bare code such as "unknown_error" says nothing a user can act on; the status text says as much. */
const isCode = (text: string) => /^[\w.-]+$/.test(text);

/** Keycloak's own words from an error body (errorMessage, error_description or error), if it gave any. */
export function keycloakMessage(error: unknown): string | undefined {
  const data = (error as NetworkErrorLike)?.responseData;
  if (data && typeof data === 'object') {
    const record = data as Record<string, unknown>;
    for (const key of ['errorMessage', 'error_description', 'error']) {
      const value = record[key];
      if (typeof value === 'string' && value.trim() && !isCode(value)) return value.trim();
    }
    return undefined;
  }
  // Plain-text bodies are Keycloak's own short messages; HTML is some proxy's error page.
  if (
    typeof data === 'string' &&
    data.trim() &&
    data.length < 200 &&
    !data.trimStart().startsWith('<') &&
    !isCode(data.trim())
  )
    return data.trim();
  return undefined;
}

/**
 * Whether the token endpoint refused the credentials themselves: RFC 6749 §5.2's error answer (400 or 401
 * with a JSON `error`, e.g. invalid_grant "Invalid user credentials", unauthorized_client), as opposed
 * to a server that is not Keycloak, a proxy's page or a 5xx.
 */
export function credentialsRefused(error: unknown): boolean {
  const status = statusOf(error);
  const data = (error as NetworkErrorLike)?.responseData;
  const oauthError =
    typeof data === 'object' && data !== null && typeof (data as { error?: unknown }).error === 'string';
  return (status === 400 || status === 401) && oauthError;
}

/** Why a request got no answer, in words ("connection refused", "no answer within 10 s"…). */
export function describeFetchFailure(error: unknown): string {
  return networkReason(error);
}

const REPEAT =
  'Running the same command again completes it: it reads Keycloak afresh and makes only the changes still missing.';

/**
 * `what` is a phrase such as `creating client scope "mcp:run"`; older callers pass `Could not create …`
 * or a capitalised `Reading realm "x"`. Returns it as a sentence's subject and as a "while …" clause.
 */
function phrase(what: string): { failed: string; during: string } {
  const couldNot = /^could not (.*)$/i.exec(what);
  if (couldNot) return { failed: `Could not ${couldNot[1]}:`, during: `trying to ${couldNot[1]}` };
  return {
    failed: `${what.charAt(0).toUpperCase()}${what.slice(1)} failed:`,
    during: `${what.charAt(0).toLowerCase()}${what.slice(1)}`,
  };
}

const isRead = (line: RequestLine | undefined) => line?.method === 'GET' || line?.method === 'HEAD';
/** A request that changes the realm: not a read, to the admin API (a login POST changes nothing). */
const isAdminWrite = (line: RequestLine) => !isRead(line) && /\/admin\//.test(line.path);
const requestText = (line: RequestLine | undefined) => (line ? ` (${line.method} ${line.path})` : '');

/** The sentence for a request that failed: no answer, a dead connection or an error status. */
export function failureMessage(error: unknown, what: string): string {
  const { failed, during } = phrase(what);
  if (error instanceof DeadlineError) {
    // Cut off like a request past its timeout: a write may still be made once Keycloak gets to it.
    const unknown = error.request && isAdminWrite(error.request);
    return `${failed} ${error.message}${unknown ? `, so Keycloak may or may not have made this change. ${REPEAT}` : ': raise --timeout.'}`;
  }
  if (error instanceof NoAnswerError) {
    const unanswered = `Keycloak did not answer within ${formatSeconds(error.timeoutMs)} while ${during}${requestText(error.request)}`;
    const advice = 'check that Keycloak is healthy (its log, CPU, database) or raise --timeout.';
    // A write without an answer may still be made once Keycloak gets to it.
    if (isAdminWrite(error.request))
      return `${unanswered}, so it may or may not have made this change: ${advice} ${REPEAT}`;
    return `${unanswered}: ${advice}`;
  }
  if (error instanceof ConnectionError) {
    const where = requestText(error.request);
    if (!error.mayHaveArrived)
      return `Could not reach Keycloak while ${during}${where}: ${error.reason}. Is it running? Check --keycloak-url / KEYCLOAK_URL.`;
    // Only an admin write may have been made; a read or a login changes nothing (issue 19: a failed login said it might have).
    if (!isAdminWrite(error.request)) {
      return `${failed} ${error.reason}${where}${error.attempts > 1 ? `, ${error.attempts} times in a row` : ''}: check Keycloak's log and any proxy in front of it.`;
    }
    return `${failed} ${error.reason}${where}, so Keycloak may or may not have made this change. ${REPEAT}`;
  }
  const status = statusOf(error);
  if (status === undefined) return `${failed} ${networkReason(error)}.`;
  const line = requestLineOf((error as NetworkErrorLike).response);
  if (status === 403)
    return `${failed} Keycloak refused it (403 Forbidden): the admin account lacks the realm-management roles it needs.`;
  const message = keycloakMessage(error);
  const answered = `Keycloak answered ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
  const base = `${failed} ${answered}${message ? ` (${message})` : ''}${line ? ` to ${line.method} ${line.path}` : ''}`;
  if (status >= 500 && line && isAdminWrite(line)) return `${base}. ${REPEAT}`;
  if (isRead(line) && RETRY_STATUSES.has(status))
    return `${base}, ${RETRIES + 1} times in a row: check that Keycloak is healthy (its log, CPU, database).`;
  return `${base}.`;
}

/**
 * Whether a failed write may nonetheless have been made: Keycloak answered 5xx, the connection died
 * after the request was sent, or no answer came in time. Only reading the object back can tell.
 */
export function outcomeUnknown(error: unknown): boolean {
  const cause = error instanceof KeycloakError ? error.cause : error;
  if (cause instanceof NoAnswerError) return isAdminWrite(cause.request);
  if (cause instanceof DeadlineError) return cause.request !== undefined && isAdminWrite(cause.request);
  if (cause instanceof ConnectionError) return cause.mayHaveArrived && isAdminWrite(cause.request);
  const status = statusOf(cause);
  const line = requestLineOf((cause as NetworkErrorLike).response);
  return status !== undefined && status >= 500 && (line === undefined || isAdminWrite(line));
}

/**
 * Runs one call to Keycloak (an admin-client method or a `sendToKeycloak` request). `explain` may turn
 * a status into a precise sentence; otherwise the error says what failed, why, and what to do.
 * `what` names the action in words, e.g. `creating client scope "mcp:run"`.
 */
export async function keycloakCall<T>(
  call: () => Promise<T>,
  explain?: (status: number | undefined, message: string) => string | undefined,
  what = 'talking to Keycloak',
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const status = statusOf(error);
    const custom = explain?.(status, keycloakMessage(error) ?? '');
    if (custom) throw new KeycloakError(custom, status, { cause: error });
    throw new KeycloakError(failureMessage(error, what), status, { cause: error });
  }
}
