/**
 * The HTTP adapter: routes a `node:http` request to the metadata document or, after bearer
 * verification (and the step-up check of a `tools/call`), to the MCP handler; maps `BearerError`s to
 * 401/403/503 with a `WWW-Authenticate` challenge; logs one line per request. It never logs a token,
 * a header or a query string.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_MAX_REQUEST_BODY_SIZE, type AuthInfo } from '@modelcontextprotocol/server';
import { printable } from '../config/rules.js';
import { bearerChallenge, metadataPaths, metadataUrl, type ProtectedResourceMetadata } from './metadata.js';
import { describeStepUp, stepUpFor, type StepUp, type ToolScopes } from './step-up.js';
import { BearerError, type TokenVerifier, type VerifiedToken } from './verify.js';

export interface RequestLog {
  method: string;
  path: string;
  status: number;
  ms: number;
  sub?: string;
  azp?: string;
  /** Why a request was refused, from the verifier (safe to log: no token content). */
  reason?: string;
}

export interface AdapterOptions {
  resource: string;
  scopes: string[];
  metadata: ProtectedResourceMetadata;
  /** `undefined` switches authentication off (benchmarks, local experiments), and step-up with it. */
  verifier: TokenVerifier | undefined;
  /** Step-up: extra scopes per tool, checked on `tools/call` before the MCP handler runs. */
  toolScopes?: ToolScopes;
  /** `body`: the request body when the step-up check read it from the stream (the handler must use it). */
  mcp: (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body?: Buffer) => Promise<void>;
  /** Host-header guard against DNS rebinding; returns false when it has answered already. */
  guard?: (req: IncomingMessage, res: ServerResponse) => boolean;
  log?: (entry: RequestLog) => void;
}

const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID';
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version';

/** `Authorization: Bearer <token>` only (RFC 6750 §2.1); the scheme is case-insensitive. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return match?.[1];
}

/** The HTTP listener: Protected Resource Metadata, the 401 challenge, bearer checks, then the MCP handler. */
export function createRequestListener(options: AdapterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { resource, scopes, verifier } = options;
  const resourcePath = new URL(resource).pathname;
  const prmPaths = new Set(metadataPaths(resource));
  const prmBody = JSON.stringify(options.metadata);
  const resourceMetadata = metadataUrl(resource);
  const resourceUrl = new URL(resource);
  const routes = new Set([resourcePath, ...prmPaths]);
  const toolScopes = options.toolScopes ?? {};
  const stepUpOn = Object.values(toolScopes).some((extra) => extra.length > 0);

  function challenge(res: ServerResponse, status: number, error?: BearerError): void {
    const header = bearerChallenge({
      resourceMetadata,
      scopes,
      ...(error && error.code !== 'temporarily_unavailable' ? { error: error.code, description: error.message } : {}),
    });
    const body = error
      ? { error: error.code, error_description: error.message }
      : { error: 'unauthorized', error_description: 'Bearer token required' };
    res.writeHead(status, {
      'content-type': 'application/json',
      'www-authenticate': header,
      'cache-control': 'no-store',
    });
    res.end(JSON.stringify(body));
  }

  /** 403 for a tool call without the tool's extra scopes: `scope` names every scope the call needs (RFC 6750 §3.1). */
  function stepUpChallenge(res: ServerResponse, stepUp: StepUp): void {
    const description = describeStepUp(stepUp);
    const header = bearerChallenge({
      resourceMetadata,
      scopes: stepUp.needed,
      error: 'insufficient_scope',
      description,
    });
    res.writeHead(403, { 'content-type': 'application/json', 'www-authenticate': header, 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: 'insufficient_scope', error_description: description }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, entry: RequestLog): Promise<void> {
    if (options.guard && !options.guard(req, res)) return;
    const method = req.method ?? 'GET';
    if (prmPaths.has(path)) {
      res.setHeader('access-control-allow-origin', '*');
      if (method === 'OPTIONS')
        return void res.writeHead(204, { 'access-control-allow-methods': 'GET, OPTIONS' }).end();
      if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, OPTIONS' }).end();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      return void res.end(method === 'HEAD' ? undefined : prmBody);
    }
    if (path !== resourcePath) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'not_found', error_description: `the MCP endpoint is ${resource}` }));
    }
    // Bearer tokens are not ambient credentials (unlike cookies), so any origin may call with one.
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': '600',
      });
      return void res.end();
    }
    let verified: VerifiedToken | undefined;
    if (verifier) {
      const token = bearerTokenOf(req.headers.authorization);
      if (!token) {
        // A token in ?access_token= is deliberately not read (bearer_methods_supported: header).
        entry.reason = req.headers.authorization ? 'Authorization header is not a Bearer token' : 'no bearer token';
        return challenge(res, 401);
      }
      try {
        verified = await verifier.verify(token);
      } catch (error) {
        const bearer =
          error instanceof BearerError
            ? error
            : new BearerError('temporarily_unavailable', 'verification failed', { cause: error });
        entry.reason = bearer.message;
        const status =
          bearer.code === 'insufficient_scope' ? 403 : bearer.code === 'temporarily_unavailable' ? 503 : 401;
        return challenge(res, status, bearer);
      }
      if (verified.sub) entry.sub = verified.sub;
      if (verified.clientId) entry.azp = verified.clientId;
    }
    const request = req as IncomingMessage & { auth?: AuthInfo };
    if (verified) {
      // The tools never call other APIs with the caller's token (MCP forbids passthrough), so they do not get it.
      request.auth = {
        token: '[withheld]',
        clientId: verified.clientId,
        scopes: verified.scopes,
        resource: resourceUrl,
        resourceMetadataUrl: resourceMetadata,
      };
      if (verified.expiresAt !== undefined) request.auth.expiresAt = verified.expiresAt;
      if (verified.sub) request.auth.extra = { sub: verified.sub };
    }
    if (verified && stepUpOn && method === 'POST') {
      // Only when some tool needs more: the body is read here, checked, and handed on to the SDK as read.
      const body = await readBody(req, DEFAULT_MAX_REQUEST_BODY_SIZE);
      if (body === undefined) {
        // The SDK's own answer to a body over its limit, which it would have given.
        entry.reason = 'request body too large';
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        const message = `Payload Too Large: Request body must not exceed ${DEFAULT_MAX_REQUEST_BODY_SIZE} bytes`;
        return void res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
      }
      const stepUp = stepUpFor(parseJson(body), verified.scopes, scopes, toolScopes);
      if (stepUp) {
        entry.reason = describeStepUp(stepUp);
        return stepUpChallenge(res, stepUp);
      }
      return options.mcp(request, res, body);
    }
    await options.mcp(request, res);
  }

  return (req, res) => {
    const started = performance.now();
    const path = pathOf(req.url);
    const entry: RequestLog = {
      method: printable(req.method ?? 'GET', 20),
      path: routes.has(path) ? path : redactPath(path),
      status: 0,
      ms: 0,
    };
    res.once('close', () => {
      entry.status = res.statusCode;
      entry.ms = Math.round((performance.now() - started) * 10) / 10;
      options.log?.(entry);
    });
    handle(req, res, path, entry).catch((error: unknown) => {
      entry.reason = `internal error: ${(error as Error)?.message ?? String(error)}`;
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error' }));
    });
  };
}

/** The whole body, or undefined past `limit` bytes (then the rest is not read). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length']) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as the SDK reads it (UTF-8, then JSON.parse), so both see the same message; undefined when not JSON. */
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

/** The path only: query strings may carry tokens and are never logged or routed on. */
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

/** Longest path the log shows; the rest is cut. */
const MAX_LOGGED_PATH = 200;

/**
 * True for a path segment that may be a secret: long, or long-ish and mixing digits or cases the way
 * tokens, client secrets and ids do (`eyJhbGciOi…`, hex, base64url, UUIDs). Readable words such as
 * `oauth-authorization-server`, which clients probe for, stay readable.
 */
function tokenShaped(segment: string): boolean {
  if (segment.length > 64) return true;
  return segment.length >= 16 && /[^a-z._-]/.test(segment);
}

/**
 * What the log shows of a path that is not one of the server's routes: clients put tokens in paths
 * by mistake (`GET /mcp/eyJ…`), and the log must never hold one. Token-shaped segments become
 * `<redacted>`; the path is cut at MAX_LOGGED_PATH characters.
 */
function redactPath(path: string): string {
  const redacted = path
    .split('/')
    .map((segment) => (tokenShaped(segment) ? '<redacted>' : segment))
    .join('/');
  return printable(redacted, MAX_LOGGED_PATH);
}

/** One line per request: `POST /mcp 200 2.1ms sub=… azp=…`. */
export function formatRequestLog(entry: RequestLog): string {
  const parts = [entry.method, entry.path, String(entry.status), `${entry.ms}ms`];
  if (entry.sub) parts.push(`sub=${entry.sub}`);
  if (entry.azp) parts.push(`azp=${entry.azp}`);
  if (entry.reason) parts.push(`reason="${entry.reason}"`);
  return parts.join(' ');
}
