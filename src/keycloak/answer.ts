/**
 * Requests to Keycloak over node:http instead of `fetch`. Node's `fetch` builds its machinery (undici,
 * its WebAssembly HTTP parser) on first use, about 70 ms of CPU: more than a no-op apply spends on
 * anything of its own. The login, the admin reads that `plan` needs, the password check and the
 * connect probe come through here; they need no more than a status, a few headers and a text body.
 * Same rules as every request (http.ts `underPolicy`): timeout, retries of idempotent reads, counting.
 */
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { BodyTooLargeError, MAX_BODY_BYTES } from './bounds.js';
import { underPolicy, type RequestLine, type SendOptions } from './http.js';

/** An answer read in full. */
export interface KeycloakAnswer {
  url: string;
  status: number;
  statusText: string;
  ok: boolean;
  /** The request it answers, as messages name it. */
  request: RequestLine;
  /** A header's value (several joined with ", "), by case-insensitive name. */
  header(name: string): string | undefined;
  /** The body as UTF-8 text. */
  text(): string;
}

export interface PlainRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Form fields (sent as application/x-www-form-urlencoded unless `headers` say otherwise) or text. */
  body?: URLSearchParams | string;
  signal?: AbortSignal;
}

type Send = (
  url: URL,
  options: RequestOptions,
  callback: (response: IncomingMessage) => void,
) => ReturnType<typeof httpRequest>;

/** node:https (and with it TLS) loads only for an https:// Keycloak. */
async function transport(url: URL): Promise<Send> {
  if (url.protocol === 'http:') return httpRequest;
  if (url.protocol === 'https:') return (await import('node:https')).request;
  throw new TypeError(`unsupported protocol ${url.protocol}`);
}

function once(
  send: Send,
  url: URL,
  init: PlainRequest,
  method: string,
  signal: AbortSignal,
  maxBytes: number,
): Promise<KeycloakAnswer> {
  const body = init.body === undefined ? undefined : Buffer.from(String(init.body));
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (body) {
    headers['content-length'] = String(body.length);
    if (init.body instanceof URLSearchParams) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  return new Promise((resolve, reject) => {
    const outgoing = send(url, { method, headers, signal }, (incoming) => {
      const chunks: Buffer[] = [];
      let received = 0;
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received <= maxBytes) chunks.push(chunk);
        else {
          // Past the cap: stop reading and drop the connection; what arrived so far is let go.
          chunks.length = 0;
          reject(new BodyTooLargeError(url.href, maxBytes));
          outgoing.destroy();
        }
      });
      incoming.on('error', reject);
      // A body cut short (the connection died, or the timeout aborted it) ends in 'close' without 'end'.
      incoming.on('close', () => {
        if (!incoming.complete)
          reject(
            Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }),
          );
      });
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = incoming.statusCode ?? 0;
        resolve({
          url: url.href,
          status,
          statusText: incoming.statusMessage ?? '',
          ok: status >= 200 && status < 300,
          request: { method, path: url.pathname },
          header: (name) => {
            const value = incoming.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          text: () => text,
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Sends one request to Keycloak and resolves with its answer, whatever the status; redirects are
 * not followed. Rejects with NoAnswerError or ConnectionError (http.ts).
 */
export async function requestKeycloak(
  input: string | URL,
  init: PlainRequest = {},
  options: SendOptions = {},
): Promise<KeycloakAnswer> {
  const url = new URL(String(input));
  const method = (init.method ?? 'GET').toUpperCase();
  const send = await transport(url);
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  return underPolicy(url, method, init.signal, options, (signal) => once(send, url, init, method, signal, maxBytes));
}

/** The parts of an answer that say what sent it (a KeycloakAnswer, or a fetch Response read by the caller). */
export type AnswerShape = Pick<KeycloakAnswer, 'status' | 'ok' | 'header' | 'text'>;

/**
 * What a server that is not Keycloak answered, in the words every command uses: `GET <path> answered
 * 200 (text/html, page title "Welcome to nginx!")` — content type, an HTML page's title, a redirect's target.
 */
export function describeNotKeycloak(path: string, response: AnswerShape): string {
  const type = response.header('content-type')?.split(';')[0]?.trim() || 'no content type';
  const details = [type];
  const body = response.text();
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.replace(/\s+/g, ' ').trim();
  if (title) details.push(`page title "${title.slice(0, 80)}"`);
  else if (type.includes('json') && response.ok) details.push('no issuer');
  const location = response.header('location');
  if (location && response.status >= 300 && response.status < 400) details.push(`redirecting to ${location}`);
  return `GET ${path} answered ${response.status} (${details.join(', ')})`;
}
