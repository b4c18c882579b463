/**
 * The few HTTP requests doctor makes, reduced to what a finding needs: status, headers, parsed JSON or why
 * there is none. Each goes through the one room for requests (keycloak/http.ts: the --timeout bound, a
 * retried idempotent read after a reset or a 502/503/504, the run's deadline, and here a body cap of
 * MAX_DOCUMENT_BYTES: bounds.ts), to Keycloak and to the MCP server alike. Never
 * throws for network failures: an unreachable server is a finding, not a crash. Checks call it through
 * `DoctorInput.request` when one is given, so unit tests can feed the pure check logic canned answers.
 */
import { capBody, MAX_DOCUMENT_BYTES, runSignal, throwIfDeadlinePassed } from '../keycloak/bounds.js';
import { describeFetchFailure } from '../keycloak/errors.js';
import { NoAnswerError, requestTimeoutMs, sendToKeycloak } from '../keycloak/http.js';

export interface HttpResult {
  url: string;
  /** Undefined when no HTTP answer arrived (see `error`). */
  status?: number;
  headers?: Headers;
  json?: Record<string, unknown>;
  text?: string;
  /** "connection refused", "no answer within 10 s", "not JSON (text/html)"… */
  error?: string;
}

/** How doctor makes a request: `request` below, or canned answers in unit tests. */
export type HttpRequest = (url: string, init?: RequestInit) => Promise<HttpResult>;

/** One real request, without following redirects; its answer reduced to an `HttpResult`. */
export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  let response: Response;
  try {
    response = await sendToKeycloak(url, { redirect: 'manual', ...init }, { maxBytes: MAX_DOCUMENT_BYTES });
  } catch (error) {
    return { url, error: describeFetchFailure(error) };
  }
  const text = await response.text().catch(() => '');
  const result: HttpResult = { url, status: response.status, headers: response.headers, text };
  const type = response.headers.get('content-type') ?? '';
  if (text.length > 0) {
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) result.json = value as Record<string, unknown>;
      else result.error = 'JSON, but not an object';
    } catch {
      result.error = `not JSON (${type.split(';')[0] || 'no content type'})`;
    }
  }
  return result;
}

/**
 * A `fetch` for the MCP SDK's transport (doctor's tools/list call, the --e2e flow and its sign-in): the
 * answer, body included, within the --timeout and the run's deadline, its body capped at
 * MAX_DOCUMENT_BYTES, and not retried (MCP calls are POSTs). The SDK needs a live Response, which may be
 * an event stream, so it is not read ahead the way `request` reads Keycloak's answers.
 */
export async function boundedFetch(url: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const target = new URL(url instanceof Request ? url.url : String(url));
  const line = {
    method: (init.method ?? (url instanceof Request ? url.method : 'GET')).toUpperCase(),
    path: target.pathname,
  };
  throwIfDeadlinePassed(line);
  const timer = AbortSignal.timeout(requestTimeoutMs());
  const signals = [init.signal, timer, runSignal()].filter((s): s is AbortSignal => s instanceof AbortSignal);
  try {
    return capBody(await fetch(url, { ...init, signal: AbortSignal.any(signals) }), MAX_DOCUMENT_BYTES);
  } catch (error) {
    // Name the bound that cut the request off, rather than a bare "This operation was aborted".
    throwIfDeadlinePassed(line);
    // No cause: the e2e trace reports a cause's message first, and "aborted due to timeout" names no bound.
    if (timer.aborted && !init.signal?.aborted) throw new NoAnswerError(line, requestTimeoutMs());
    throw error;
  }
}

/** "HTTP 404", "connection refused", "HTTP 200 but not JSON (text/html)". */
export function describeResult(result: HttpResult): string {
  if (result.status === undefined) return result.error ?? 'no answer';
  if (result.error && result.status >= 200 && result.status < 300) return `HTTP ${result.status} but ${result.error}`;
  return `HTTP ${result.status}`;
}

/** The value when it is a string (a field of a JSON document). */
export const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
/** The strings of an array (a list field of a JSON document); undefined when it is no array. */
export const asStrings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
