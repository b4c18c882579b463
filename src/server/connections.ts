/**
 * Connection-level limits of the reference server, against clients that are slow, huge or malformed
 * on purpose: how long a request may take to arrive, how big its headers may be, and how such a
 * client is answered. Everything here happens before a request reaches the router.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** All request headers must arrive within this time (slowloris). Real clients send them in milliseconds. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request, body included, must arrive within this time. MCP requests are small JSON bodies. */
const REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this; clients reconnect transparently. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node checks the two timeouts above; their precision. Node's default (30 s) makes a 10 s limit a 40 s one. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Header bytes per request (Node's default, set explicitly). Keycloak access tokens are 1–4 KB. */
const MAX_HEADER_BYTES = 16 * 1024;
/** How long a refused client may keep sending before its connection is cut. */
const LINGER_MS = 5_000;

/** The `createServer` options that carry the limits. */
export function serverLimits(): {
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
  maxHeaderSize: number;
} {
  return {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    maxHeaderSize: MAX_HEADER_BYTES,
  };
}

const STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

function rawResponse(status: string, error: string): string {
  const body = JSON.stringify({ error, error_description: status.slice(4) });
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Answers requests Node's parser refused, then closes gently. Node's own handler writes the status and
 * destroys the socket at once; a client still sending (a 100 KB header, a body) then gets a TCP reset
 * and never reads the answer. Here the socket is half-closed after the answer and what the client
 * still sends is read and dropped, for at most LINGER_MS (what nginx calls a lingering close).
 */
export function answerClientErrors(server: Server): void {
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The parser reports again for every chunk that arrives after the first error: answer once.
    if (answered.has(socket)) return;
    answered.add(socket);
    // A response already under way on this socket must not be corrupted by a second status line.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const status = (error.code && STATUS[error.code]) ?? '400 Bad Request';
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A client too slow to send its headers gets no extra time to keep trickling.
      socket.end(rawResponse(status, 'request_timeout'), () => socket.destroy());
      return;
    }
    socket.end(rawResponse(status, 'invalid_request'));
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  });
}
