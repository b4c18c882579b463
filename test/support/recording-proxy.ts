/**
 * A loopback reverse proxy in front of the test Keycloak that records every request whole (method, path,
 * headers, body) and keeps the client's Host header, so Keycloak announces the proxy's own origin as its
 * issuer: every page served through it looks right. Tests use it two ways:
 *
 * - as the authorization server a hostile MCP server names: the record proves what doctor sent there;
 * - as the configured Keycloak, with `reset(match)` resetting matching requests (e.g. the probes' DELETEs)
 *   without forwarding them, so a clean-up fails while Keycloak keeps the client.
 *
 * It never imitates Keycloak: everything not reset is forwarded unchanged to the real one.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  /** Path with its query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ResetMatch {
  method: string;
  path: RegExp;
}

export interface RecordingProxy {
  url: string;
  log: RecordedRequest[];
  /** Resets (TCP RST, unforwarded) every request that matches from now on. */
  reset(match: ResetMatch): void;
  close(): Promise<void>;
}

function forward(upstream: URL, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const outgoing = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  outgoing.on('error', () => req.socket.destroy());
  outgoing.end(body);
}

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target`, e.g. http://127.0.0.1:18080. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const log: RecordedRequest[] = [];
  const resets: ResetMatch[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = (req.method ?? 'GET').toUpperCase();
      const url = req.url ?? '/';
      log.push({ method, url, headers: { ...req.headers }, body: body.toString('utf8') });
      const path = new URL(url, 'http://x').pathname;
      if (resets.some((r) => r.method === method && r.path.test(path))) {
        req.socket.resetAndDestroy();
        return;
      }
      forward(upstream, req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    reset: (match) => void resets.push(match),
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
