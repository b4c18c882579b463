/**
 * The SDK's MCP handler (`createMcpHandler`) behind `node:http`, for a body that http.ts has already read
 * and parsed. It does what `toNodeHandler` from @modelcontextprotocol/node does (abort on client close,
 * `authInfo` and `parsedBody` handed on, the response streamed with backpressure, a 500 JSON-RPC error
 * when the handler throws) minus two costs measured per call (docs/benchmarks.md): the web `Request`
 * gets no body, since the SDK reads `parsedBody` and never the body when it has one; and the response
 * headers leave in one write with the first chunks (corked for one event-loop turn), not in one each.
 * Every protocol check (Content-Type, Accept, protocol version, JSON-RPC shape, input schema) stays the SDK's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler, type NodeIncomingMessageLike } from '@modelcontextprotocol/node';
import type { RequestBody } from './http.js';

type McpRequest = IncomingMessage & { auth?: AuthInfo };

/**
 * http.ts's `mcp`: a body it parsed goes to the SDK as parsed, so the SDK serves what step-up checked;
 * bytes that are not JSON go through the SDK's own adapter byte for byte, for its own error answer.
 */
export function mcpNodeHandler(
  handler: McpHttpHandler,
): (req: McpRequest, res: ServerResponse, body?: RequestBody) => Promise<void> {
  const serveParsed = nodeEntry(handler);
  const serveBytes = toNodeHandler(handler);
  return (req, res, body) =>
    body === undefined || body.json
      ? serveParsed(req, res, body?.json?.value)
      : serveBytes(replay(req, body.bytes), res);
}

/** The request with its body already read: what `toNodeHandler` reads (method, url, headers, auth, the body stream). */
function replay(req: McpRequest, body: Buffer): NodeIncomingMessageLike {
  return {
    method: req.method,
    url: req.url,
    headers: req.headers,
    ...(req.auth ? { auth: req.auth } : {}),
    // eslint-disable-next-line @typescript-eslint/require-await -- the reader wants an async iterable; the body is here already
    async *[Symbol.asyncIterator]() {
      if (body.length > 0) yield body;
    },
  };
}

/** Headers the body-less `Request` must not claim: the bytes they describe are not in it (as `toWebRequest` does for a parsed body). */
const BODY_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding']);

/** A handler for requests whose body is `parsedBody` (POST) or that have none (GET, DELETE). */
export function nodeEntry(
  handler: Pick<McpHttpHandler, 'fetch'>,
): (req: McpRequest, res: ServerResponse, parsedBody?: unknown) => Promise<void> {
  return async (req, res, parsedBody) => {
    const abort = new AbortController();
    let finished = false;
    res.once('close', () => {
      if (!finished) abort.abort();
    });
    let response: Response;
    try {
      response = await handler.fetch(bodylessRequest(req, abort.signal), {
        ...(req.auth !== undefined ? { authInfo: req.auth } : {}),
        ...(parsedBody !== undefined ? { parsedBody } : {}),
      });
    } catch {
      response = Response.json(
        { jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: echoableId(parsedBody) },
        { status: 500 },
      );
    }
    await writeResponse(response, res, abort.signal);
    finished = true;
  };
}

function bodylessRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':') || BODY_HEADERS.has(name)) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const host = req.headers.host ?? 'localhost';
  return new Request(`http://${host}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, signal });
}

/** The response to `res`: status and headers, then the body as it streams (SSE), honouring backpressure. */
async function writeResponse(response: Response, res: ServerResponse, aborted: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  res.cork();
  res.writeHead(response.status, headers);
  if (response.body === null) return void res.end();
  // One turn of the event loop: what the handler writes at once (headers, event, end) leaves in one write.
  setImmediate(() => {
    if (!res.writableEnded) while (res.writableCorked > 0) res.uncork();
  });
  const closed = new Promise<void>((resolve) => aborted.addEventListener('abort', () => resolve(), { once: true }));
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (aborted.aborted) break;
      if (!res.write(chunk)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), closed]);
    }
  } catch {
    // The stream failed or the client left: end what was sent, as toNodeHandler does.
  }
  res.end();
}

/** The JSON-RPC id an error answer may echo: a single request's string or number id, else null. */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { method, id } = body as { method?: unknown; id?: unknown };
  if (typeof method !== 'string') return null;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
