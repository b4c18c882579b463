/**
 * Every HTTP request this tool sends to Keycloak goes through here, so each one is bounded by the same
 * timeout, idempotent reads survive one bad moment, and the requests are counted.
 *
 * - Timeout: one answer, body included, within `--timeout` seconds (env MCP_KEYCLOAK_TIMEOUT, default
 *   10 s); past it a NoAnswerError names the request. Without it a stalled Keycloak hangs a command for
 *   undici's 300 s header timeout, and a stalled write forever.
 * - Retries: GET and HEAD are sent again (at most RETRIES times, short backoff) after a connection
 *   reset or a 502/503/504, which is what a restarting Keycloak or a proxy in front of it produces.
 *   Nothing else is retried: a write that got no answer may have been made, and only a fresh read can
 *   tell (that is what re-running apply does). A request that timed out is not retried either: a
 *   stalled Keycloak rarely recovers within seconds, and the command should fail within the timeout.
 * - Counting: plan/apply report how many requests they made; the counts prove claims such as "a no-op
 *   apply makes zero writes".
 *
 * The admin client (@keycloak/keycloak-admin-client) calls the global `fetch` and offers no way to
 * pass another one, so `meterRequests` wraps the global `fetch` once: requests under a metered
 * Keycloak base URL take the path above, every other request is left alone. Direct calls use
 * `sendToKeycloak` (fetch's Response) or `requestKeycloak` (answer.ts: node:http, no fetch at all).
 */
import { printable } from '../config/rules.js';
import { UsageError } from '../errors.js';
import * as bounds from './bounds.js';
import type { RequestLine } from './bounds.js';
import { trimBase } from './urls.js';

export const DEFAULT_TIMEOUT_SECONDS = 10;
/** How many times an idempotent read is sent again after a reset or a 502/503/504. */
export const RETRIES = 2;
const BACKOFF_MS = [200, 600];
/** Statuses a restarting Keycloak or the proxy in front of it answers; worth one more try for a read. */
export const RETRY_STATUSES = new Set([502, 503, 504]);
/** Network error codes meaning the connection died under a request, as opposed to never being made. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
/** Undici's own clocks (300 s) only fire when --timeout is longer; they mean the same thing. */
const NO_ANSWER_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;

/** The most --timeout accepts: an hour a request. */
const MAX_TIMEOUT_SECONDS = 3600;
/**
 * Seconds as people write them: digits, an optional fraction. `Number()` would also take `0x10` (16),
 * `1e1`, ` 5` and `Infinity`, so a typo could silently become another timeout.
 */
const PLAIN_SECONDS = /^[0-9]{1,10}(?:\.[0-9]{1,10})?$/;

/**
 * Sets the time Keycloak gets to answer each request: `--timeout <seconds>`, else env
 * MCP_KEYCLOAK_TIMEOUT, else 10 s. The CLI calls it once, before any command runs.
 */
export function setRequestTimeout(flag?: string, env: string | undefined = process.env.MCP_KEYCLOAK_TIMEOUT): void {
  const [raw, source] =
    flag !== undefined ? [flag, '--timeout'] : env ? [env, 'MCP_KEYCLOAK_TIMEOUT'] : [undefined, ''];
  if (raw === undefined) {
    timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
    return;
  }
  const example = source === '--timeout' ? '--timeout 30' : 'MCP_KEYCLOAK_TIMEOUT=30';
  const shown = printable(raw, 40);
  if (!PLAIN_SECONDS.test(raw)) {
    throw new UsageError(
      `${source} must be a plain number of seconds, digits with an optional fraction (e.g. ${example} or 2.5), not "${shown}".`,
    );
  }
  const ms = Math.round(Number(raw) * 1000);
  if (ms < 1 || ms > MAX_TIMEOUT_SECONDS * 1000) {
    throw new UsageError(
      `${source} must be more than 0 and at most ${MAX_TIMEOUT_SECONDS} seconds (e.g. ${example}), not "${shown}".`,
    );
  }
  timeoutMs = ms;
}

/** The current per-request timeout in milliseconds. */
export function requestTimeoutMs(): number {
  return timeoutMs;
}

/** "10 s", "2.5 s": a duration in the words the messages use. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

// The request line type lives with the deadline and cap errors that carry it (bounds.ts).
export type { RequestLine };

/** Keycloak did not answer (headers and body) within the timeout. */
export class NoAnswerError extends Error {
  constructor(
    readonly request: RequestLine,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`no answer within ${formatSeconds(timeoutMs)} (${request.method} ${request.path})`, options);
    this.name = 'NoAnswerError';
  }
}

/** The connection failed: never made (refused, unknown host) or died under the request (reset). */
export class ConnectionError extends Error {
  constructor(
    readonly request: RequestLine,
    /** In words: "connection refused", "the connection was reset"… */
    readonly reason: string,
    /** The request may have reached Keycloak: the connection died after it was sent. */
    readonly mayHaveArrived: boolean,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`${reason} (${request.method} ${request.path})`, options);
    this.name = 'ConnectionError';
  }
}

/** Why a fetch failed, in words: "connection refused", "host not found", "the connection was reset"… */
export function networkReason(error: unknown): string {
  if (error instanceof bounds.DeadlineError || error instanceof bounds.BodyTooLargeError) return error.message;
  if (error instanceof NoAnswerError) return `no answer within ${formatSeconds(error.timeoutMs)}`;
  if (error instanceof ConnectionError) return error.reason;
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (error as { code?: string })?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'the connection closed before an answer came';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connecting timed out';
  }
  if (code && NO_ANSWER_CODES.has(code)) return 'no answer';
  if (answeredPlainHttp(error)) return 'it answered plain HTTP to a TLS handshake';
  if (code?.includes('CERT') || code?.startsWith('ERR_TLS'))
    return `its TLS certificate was refused (${oneLine(cause?.message ?? code)})`;
  if ((error as Error)?.name === 'TimeoutError') return `no answer within ${formatSeconds(timeoutMs)}`;
  return oneLine(cause?.message ?? (error as Error)?.message ?? String(error));
}

/** OpenSSL's messages end in a newline and name its source file: a reason is one line, whatever the library says. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
/** An https:// request to a port that speaks plain HTTP (OpenSSL: "wrong version number"): https:// typed for an http port. */
export const answeredPlainHttp = (error: unknown): boolean =>
  /wrong version number|WRONG_VERSION_NUMBER|answered plain HTTP/.test(
    `${codeOf(error)} ${(error as Error)?.message} ${(error as { cause?: Error })?.cause?.message}`,
  );

function codeOf(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
}

const requestLines = new WeakMap<object, RequestLine>();

/** The method and path an answer answered (answers from `sendToKeycloak` and `requestKeycloak`). */
export function requestLineOf(answer: unknown): RequestLine | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  return requestLines.get(answer) ?? (answer as { request?: RequestLine }).request;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The `fetch` as Node provides it, before `meterRequests` wraps it. */
const plainFetch = globalThis.fetch;

export interface SendOptions {
  /** Overrides the per-request timeout (e.g. a short one for a probe that has a fallback). */
  timeoutMs?: number;
  /** The most bytes the answer's body may hold (default bounds.ts MAX_BODY_BYTES); past it, BodyTooLargeError. */
  maxBytes?: number;
}

/**
 * The rules every request to Keycloak follows, whichever way it is sent: counted, bounded by the
 * timeout and the run's deadline (bounds.ts; `once` must read the whole answer within `signal`), sent
 * again when it is an idempotent read that met a reset or a 502/503/504. Resolves with the answer
 * whatever its status; rejects with NoAnswerError, DeadlineError, BodyTooLargeError or ConnectionError.
 */
export async function underPolicy<T extends { status: number }>(
  url: URL,
  method: string,
  callerSignal: AbortSignal | null | undefined,
  options: SendOptions,
  once: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const line: RequestLine = { method, path: url.pathname };
  const idempotent = method === 'GET' || method === 'HEAD';
  const limit = options.timeoutMs ?? timeoutMs;
  for (let attempt = 0; ; attempt++) {
    bounds.throwIfDeadlinePassed(line);
    count(url.href, method);
    const timer = AbortSignal.timeout(limit);
    const signals = [callerSignal, timer, bounds.runSignal()].filter((s): s is AbortSignal => s instanceof AbortSignal);
    let answer: T;
    try {
      answer = await once(AbortSignal.any(signals));
    } catch (error) {
      if (callerSignal?.aborted || error instanceof bounds.BodyTooLargeError) throw error;
      bounds.throwIfDeadlinePassed(line);
      const code = codeOf(error);
      if (timer.aborted || (code && NO_ANSWER_CODES.has(code))) throw new NoAnswerError(line, limit, { cause: error });
      const reset = code !== undefined && RESET_CODES.has(code);
      if (reset && idempotent && attempt < RETRIES) {
        await sleep(BACKOFF_MS[attempt]!);
        continue;
      }
      throw new ConnectionError(line, networkReason(error), reset, attempt + 1, { cause: error });
    }
    if (RETRY_STATUSES.has(answer.status) && idempotent && attempt < RETRIES) {
      await sleep(BACKOFF_MS[attempt]!);
      continue;
    }
    requestLines.set(answer, line);
    return answer;
  }
}

/**
 * Sends one request to Keycloak with `fetch`, under the rules above, and resolves with a `Response`
 * whose body has been read already. For callers that want fetch's types; `requestKeycloak`
 * (answer.ts) does the same without loading fetch's machinery (about 70 ms of CPU on first use).
 */
export function sendToKeycloak(
  input: string | URL,
  init: RequestInit = {},
  options: SendOptions = {},
): Promise<Response> {
  const url = new URL(String(input));
  const method = (init.method ?? 'GET').toUpperCase();
  return underPolicy(url, method, init.signal, options, async (signal) => {
    const answer = await plainFetch(url, { ...init, signal });
    const noBody = NULL_BODY_STATUSES.has(answer.status) || method === 'HEAD';
    const body = noBody ? null : await bounds.readCapped(answer.body, options.maxBytes ?? bounds.MAX_BODY_BYTES, url);
    const response = new Response(body, {
      status: answer.status,
      statusText: answer.statusText,
      headers: answer.headers,
    });
    Object.defineProperties(response, { url: { value: answer.url }, redirected: { value: answer.redirected } });
    return response;
  });
}

/** Requests sent to Keycloak, by kind. */
export interface RequestCounts {
  /** GET/HEAD requests. */
  reads: number;
  /** Non-GET requests to the admin API: the ones that change the realm. */
  writes: number;
  /** Token and other non-admin POSTs (logging in, checking the test user's password). */
  other: number;
}

const prefixes = new Set<string>();
const counts: RequestCounts = { reads: 0, writes: 0, other: 0 };

function meteredPrefix(href: string): string | undefined {
  for (const prefix of prefixes) if (href === prefix || href.startsWith(`${prefix}/`)) return prefix;
  return undefined;
}

function count(href: string, method: string): void {
  const prefix = meteredPrefix(href);
  if (prefix === undefined) return;
  if (method === 'GET' || method === 'HEAD') counts.reads++;
  else if (href.startsWith(`${prefix}/admin/`)) counts.writes++;
  else counts.other++;
}

let installed = false;

/** Routes the admin client's requests (global `fetch`) to a metered Keycloak through `sendToKeycloak`. */
function installFetchWrapper(): void {
  if (installed) return;
  installed = true;
  globalThis.fetch = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    // A Request object carries its own method, headers and body; the admin client never passes one.
    if (input instanceof Request || meteredPrefix(href) === undefined) return plainFetch(input, init);
    return sendToKeycloak(href, init);
  };
}

/**
 * Puts every request to `baseUrl` (the admin client's included) under the timeout, retry and count
 * rules above; returns a function that reads the counts since this call.
 */
export function meterRequests(baseUrl: string): () => RequestCounts {
  installFetchWrapper();
  prefixes.add(trimBase(baseUrl));
  const start = { ...counts };
  return () => ({
    reads: counts.reads - start.reads,
    writes: counts.writes - start.writes,
    other: counts.other - start.other,
  });
}
