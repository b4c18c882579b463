/**
 * The few HTTP requests doctor makes, reduced to what a finding needs: status, headers, parsed JSON or why
 * there is none. Each goes through the one room for requests (keycloak/http.ts: the --timeout bound, a
 * retried idempotent read after a reset or a 502/503/504), to Keycloak and to the MCP server alike. Never
 * throws for network failures: an unreachable server is a finding, not a crash. Checks call it through
 * `DoctorInput.request` when one is given, so unit tests can feed the pure check logic canned answers.
 */
import { describeFetchFailure } from '../keycloak/errors.js';
import { requestTimeoutMs, sendToKeycloak } from '../keycloak/http.js';

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
    response = await sendToKeycloak(url, { redirect: 'manual', ...init });
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
 * A `fetch` for the MCP SDK's transport (doctor's tools/list call): the answer, body included, within
 * the --timeout, and not retried (MCP calls are POSTs). The SDK needs a live Response, which may be an
 * event stream, so it is not read ahead the way `request` reads Keycloak's answers.
 */
export function boundedFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const timer = AbortSignal.timeout(requestTimeoutMs());
  return fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timer]) : timer });
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
