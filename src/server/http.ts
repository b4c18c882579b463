/**
 * The HTTP adapter: routes a `node:http` request to the metadata document or, after bearer
 * verification (and the step-up check of a `tools/call`), to the MCP handler; maps `BearerError`s to
 * 401/403/503 with `WWW-Authenticate` challenges (authenticate.ts decides); logs one line per request. It never logs a token,
 * a header or a query string.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_MAX_REQUEST_BODY_SIZE, type AuthInfo } from '@modelcontextprotocol/server';
import { printable } from '../config/rules.js';
import { bearerChallenge, metadataPaths, metadataUrl, type ProtectedResourceMetadata } from './metadata.js';
import { createAuthenticator, credentialsOf, type DpopSettings, type Refusal } from './authenticate.js';
import { describeStepUp, stepUpFor, type ToolScopes } from './step-up.js';
import type { TokenVerifier, VerifiedToken } from './verify.js';

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
  /** DPoP (RFC 9449): off by default; `allowed` accepts bound tokens beside Bearer, `required` only them. */
  dpop?: DpopSettings;
  /** Step-up: extra scopes per tool, checked on `tools/call` before the MCP handler runs. */
  toolScopes?: ToolScopes;
  /** Client ids whose service-account tokens may call (default none; see authenticate.ts). */
  machineClients?: readonly string[];
  /** `body`: a POST's body, read from the stream here (the handler must use it, parsed when it parsed). */
  mcp: (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body?: RequestBody) => Promise<void>;
  /** Host-header guard against DNS rebinding; returns false when it has answered already. */
  guard?: (req: IncomingMessage, res: ServerResponse) => boolean;
  log?: (entry: RequestLog) => void;
}

/** A POST body, read once: its bytes and, when they are JSON, the value (parsed as the SDK parses it). */
export interface RequestBody {
  bytes: Buffer;
  json?: { value: unknown };
}

const CORS_ALLOW_HEADERS =
  'Authorization, DPoP, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID';
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, DPoP-Nonce, Mcp-Session-Id, Mcp-Protocol-Version';

/** `Authorization: Bearer <token>` only (RFC 6750 §2.1); the scheme is case-insensitive. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const credentials = credentialsOf(header);
  return credentials?.scheme === 'Bearer' ? credentials.token : undefined;
}

type McpRequest = IncomingMessage & { auth?: AuthInfo };

/** The HTTP listener: Protected Resource Metadata, the 401 challenge, token checks, then the MCP handler. */
export function createRequestListener(options: AdapterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { resource, verifier } = options;
  const resourcePath = new URL(resource).pathname;
  const prmPaths = new Set(metadataPaths(resource));
  const routes = new Set([resourcePath, ...prmPaths]);
  const servePrm = metadataResponder(JSON.stringify(options.metadata));
  const resourceMetadata = metadataUrl(resource);
  const authenticate = verifier && authenticatorFor(options, verifier, resourceMetadata);
  const stepUpGate = createStepUpGate(options, resourceMetadata);

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, entry: RequestLog): Promise<void> {
    if (options.guard && !options.guard(req, res)) return;
    const method = req.method ?? 'GET';
    if (prmPaths.has(path)) return servePrm(method, res);
    if (path !== resourcePath) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'not_found', error_description: `the MCP endpoint is ${resource}` }));
    }
    if (answerCors(method, res)) return;
    const request = req as McpRequest;
    if (authenticate) {
      const outcome = await authenticate({ method, headers: req.headers });
      if ('refusal' in outcome) return send(res, outcome.refusal, entry);
      const { verified } = outcome;
      if (verified.sub) entry.sub = verified.sub;
      if (verified.clientId) entry.azp = verified.clientId;
      request.auth = authInfoOf(verified, resource, resourceMetadata);
    }
    // The body is read (after authentication) and parsed once, for step-up and the SDK alike.
    const body = method === 'POST' ? await readBody(req, DEFAULT_MAX_REQUEST_BODY_SIZE) : undefined;
    if (body === TOO_LARGE) return refuseTooLarge(res, entry);
    if (stepUpGate && body && request.auth && stepUpGate(res, request.auth.scopes, body, entry)) return;
    await options.mcp(request, res, body);
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

/** The token check of this server: Bearer, DPoP when on, service-account tokens of the named machine clients only. */
function authenticatorFor(options: AdapterOptions, verifier: TokenVerifier, resourceMetadata: string) {
  return createAuthenticator({
    verifier,
    resource: options.resource,
    resourceMetadata,
    scopes: options.scopes,
    ...(options.dpop ? { dpop: options.dpop } : {}),
    ...(options.machineClients ? { machineClients: options.machineClients } : {}),
  });
}

/** The Protected Resource Metadata, to anyone (CORS), GET and HEAD only. */
function metadataResponder(body: string): (method: string, res: ServerResponse) => void {
  return (method, res) => {
    res.setHeader('access-control-allow-origin', '*');
    if (method === 'OPTIONS') return void res.writeHead(204, { 'access-control-allow-methods': 'GET, OPTIONS' }).end();
    if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, OPTIONS' }).end();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(method === 'HEAD' ? undefined : body);
  };
}

/** CORS for the MCP endpoint; answers a preflight itself (true). Tokens are not ambient credentials, so any origin may call. */
function answerCors(method: string, res: ServerResponse): boolean {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
  if (method !== 'OPTIONS') return false;
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': CORS_ALLOW_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
  return true;
}

function send(res: ServerResponse, refusal: Refusal, entry: RequestLog): void {
  entry.reason = refusal.reason;
  res.writeHead(refusal.status, refusal.headers);
  res.end(JSON.stringify(refusal.body));
}

/** What the MCP handler learns of the caller. The tools never call other APIs with the token (MCP forbids passthrough), so they do not get it. */
function authInfoOf(verified: VerifiedToken, resource: string, resourceMetadataUrl: string): AuthInfo {
  const auth: AuthInfo = {
    token: '[withheld]',
    clientId: verified.clientId,
    scopes: verified.scopes,
    resource: new URL(resource),
    resourceMetadataUrl,
  };
  if (verified.expiresAt !== undefined) auth.expiresAt = verified.expiresAt;
  if (verified.sub) auth.extra = { sub: verified.sub };
  return auth;
}

/**
 * Step-up, only when some tool needs more: checks the parsed body of a `tools/call`. A call without the
 * tool's scopes gets 403 whose `scope` names every scope it needs (RFC 6750 §3.1); true when it answered.
 */
function createStepUpGate(options: AdapterOptions, resourceMetadata: string) {
  const toolScopes = options.toolScopes ?? {};
  if (!Object.values(toolScopes).some((extra) => extra.length > 0)) return undefined;
  return (res: ServerResponse, granted: string[], body: RequestBody, entry: RequestLog): boolean => {
    const stepUp = stepUpFor(body.json?.value, granted, options.scopes, toolScopes);
    if (!stepUp) return false;
    const description = describeStepUp(stepUp);
    const header = bearerChallenge({
      resourceMetadata,
      scopes: stepUp.needed,
      error: 'insufficient_scope',
      description,
    });
    const body403 = { error: 'insufficient_scope', error_description: description };
    send(
      res,
      {
        status: 403,
        headers: { 'content-type': 'application/json', 'www-authenticate': header, 'cache-control': 'no-store' },
        body: body403,
        reason: description,
      },
      entry,
    );
    return true;
  };
}

/** The SDK's own answer to a body over its limit, which it would have given. */
function refuseTooLarge(res: ServerResponse, entry: RequestLog): void {
  entry.reason = 'request body too large';
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  const message = `Payload Too Large: Request body must not exceed ${DEFAULT_MAX_REQUEST_BODY_SIZE} bytes`;
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

const TOO_LARGE = Symbol('too large');

/** The whole body with its JSON value, or TOO_LARGE past `limit` bytes (then the rest is not read). */
async function readBody(req: IncomingMessage, limit: number): Promise<RequestBody | typeof TOO_LARGE> {
  if (Number(req.headers['content-length']) > limit) return TOO_LARGE;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return TOO_LARGE;
    chunks.push(chunk);
  }
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const json = parseJson(bytes);
  return json === undefined ? { bytes } : { bytes, json };
}

/**
 * The body as the SDK reads it (UTF-8, then JSON.parse; an empty body is no JSON), so both see the same
 * message; undefined when not JSON.
 */
function parseJson(body: Buffer): { value: unknown } | undefined {
  const text = new TextDecoder().decode(body);
  if (text.length === 0) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
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
