/**
 * The bounds on what a remote server can make this tool spend: one deadline for a whole run (doctor sets
 * it from --timeout) and a cap on the bytes of every answer body read. Both exist because doctor reads
 * servers it does not trust: without them a server that trickles its headers held `doctor --e2e` for
 * 142–327 s, and a 600 MB metadata document took 2.56 GB of memory (issue #19).
 *
 * Every request to Keycloak takes the run's deadline in http.ts `underPolicy`; `fetch`-style callers
 * (the MCP SDK's transport in doctor) combine `runSignal()` into their own signal and wrap the body with
 * `capBody`. Answers read in full use `readCapped` (fetch) or count bytes as they arrive (answer.ts).
 */
/** The request a failure happened to, as messages show it: method and path, never the query (it may hold secrets). */
export interface RequestLine {
  method: string;
  path: string;
}

/** The most any answer read in full may hold (Keycloak's): an admin list of a realm with thousands of clients fits. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** The most a document doctor examines may hold (metadata, JWKS, MCP responses): real ones are a few KB. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** "1 MiB", "32 MiB", "512 KiB": a cap as messages name it. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** Origin and path of a URL: what messages name (a query may carry codes or secrets). */
function where(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return String(url);
  }
}

/** An answer body grew past its cap; reading stopped there and the connection was dropped. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly url: string,
    readonly capBytes: number,
  ) {
    super(`the answer from ${where(url)} is larger than ${formatBytes(capBytes)}; reading stopped at the cap`);
    this.name = 'BodyTooLargeError';
  }
}

interface RunDeadline {
  controller: AbortController;
  ms: number;
  /** Whose deadline and where it comes from, as messages name them: "doctor's deadline", "6 × --timeout". */
  label: string;
  basis: string;
  timer: NodeJS.Timeout;
}

let deadline: RunDeadline | undefined;

/** The run's deadline passed while a request was under way (or before it started). */
export class DeadlineError extends Error {
  constructor(
    readonly ms: number,
    readonly label: string,
    readonly basis: string,
    readonly request?: RequestLine,
  ) {
    const line = request ? ` (${request.method} ${request.path})` : '';
    super(`${label} of ${Number((ms / 1000).toFixed(3))} s (${basis}) passed${line}`);
    this.name = 'DeadlineError';
  }
}

/**
 * Starts the deadline of this run: every request after this call, and any still under way, is aborted
 * `ms` from now. The timer does not keep the process alive.
 */
export function startRunDeadline(ms: number, label: string, basis: string): AbortSignal {
  if (deadline) clearTimeout(deadline.timer);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineError(ms, label, basis)), ms);
  timer.unref();
  deadline = { controller, ms, label, basis, timer };
  return controller.signal;
}

/**
 * Ends the run: what is still under way is aborted, and so is any request a check abandoned at the
 * deadline would still start (its result is no longer reported). Nothing runs after the run but the exit.
 */
export function endRunDeadline(): void {
  if (!deadline) return;
  clearTimeout(deadline.timer);
  deadline.controller.abort(new DeadlineError(deadline.ms, deadline.label, deadline.basis));
}

/** The signal of the run's deadline, when one runs. */
export function runSignal(): AbortSignal | undefined {
  return deadline?.controller.signal;
}

/** Throws the deadline's error for `request` when the deadline has passed. */
export function throwIfDeadlinePassed(request: RequestLine): void {
  const passed = deadlinePassed(request);
  if (passed) throw passed;
}

/** The deadline's error for `request`, when the deadline has passed. */
export function deadlinePassed(request?: RequestLine): DeadlineError | undefined {
  if (!deadline?.controller.signal.aborted) return undefined;
  return new DeadlineError(deadline.ms, deadline.label, deadline.basis, request);
}

/** `signal` combined with the run's deadline (either aborts). */
export function withRunSignal(signal: AbortSignal | null | undefined): AbortSignal | undefined {
  const run = runSignal();
  if (!run) return signal ?? undefined;
  return signal ? AbortSignal.any([signal, run]) : run;
}

/** Reads a body to its end, or throws BodyTooLargeError once it passes `capBytes` (the rest is never read). */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  capBytes: number,
  url: string | URL,
): Promise<ArrayBuffer> {
  if (!body) return new ArrayBuffer(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > capBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(String(url), capBytes);
    }
    chunks.push(value);
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined.buffer;
}

/** Statuses whose Response must have no body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The same answer, its body a live stream that errors with BodyTooLargeError once it passes `capBytes`
 * (for a reader that needs the Response itself, such as the MCP SDK reading an event stream).
 */
export function capBody(response: Response, capBytes: number): Response {
  if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
  let total = 0;
  const url = response.url;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > capBytes) controller.error(new BodyTooLargeError(url, capBytes));
      else controller.enqueue(chunk);
    },
  });
  const capped = new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperties(capped, { url: { value: url }, redirected: { value: response.redirected } });
  return capped;
}
