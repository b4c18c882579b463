/**
 * Loopback MCP servers that attack the client examining them (issue #19): one that trickles its headers
 * (forever, or just under the client's timeout and then answers 503 so that reads are retried), one whose
 * metadata document never ends, one whose metadata carries terminal control sequences. Raw sockets where
 * node:http would finish the headers for us.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';

export interface HostileServer {
  /** The MCP endpoint to pass as --resource. */
  resource: string;
  origin: string;
  /** Requests received, as "METHOD path". */
  requests: string[];
  close(): Promise<void>;
}

const listen = (server: Server | ReturnType<typeof createHttpServer>) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

function closer(server: Server | ReturnType<typeof createHttpServer>, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/**
 * Every answer's headers arrive a line every 100 ms. With `finishAfterMs`, after that long the answer ends:
 * 401 with a challenge naming metadata on this server for a POST, 503 (which clients retry) for the rest.
 * Without it the headers never end.
 */
export async function trickleServer(options: { finishAfterMs?: number } = {}): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let origin = '';
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (data) => {
      const [method = '?', path = '?'] = data.toString('latin1').split(' ', 2);
      requests.push(`${method} ${path}`);
      const status = method === 'POST' ? '401 Unauthorized' : '503 Service Unavailable';
      socket.write(`HTTP/1.1 ${status}\r\n`);
      const started = Date.now();
      let line = 0;
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        if (options.finishAfterMs === undefined || Date.now() - started < options.finishAfterMs) {
          socket.write(`x-trickle-${line++}: 1\r\n`);
          return;
        }
        clearInterval(timer);
        const challenge = `www-authenticate: Bearer resource_metadata="${origin}/metadata/prm"\r\n`;
        socket.end(`${method === 'POST' ? challenge : ''}content-length: 0\r\nconnection: close\r\n\r\n`);
      }, 100);
      socket.on('close', () => clearInterval(timer));
    });
  });
  const port = await listen(server);
  origin = `http://127.0.0.1:${port}`;
  return { resource: `${origin}/mcp`, origin, requests, close: closer(server, sockets) };
}

/** A server whose 401 challenge names metadata answered by `metadata` (any other GET: 404). */
export async function challengingServer(
  metadata: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let origin = '';
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    request.resume();
    if (request.url === '/mcp') {
      response.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${origin}/metadata/prm"` }).end();
    } else if (request.url === '/metadata/prm') metadata(request, response);
    else response.writeHead(404).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  origin = `http://127.0.0.1:${port}`;
  return { resource: `${origin}/mcp`, origin, requests, close: closer(server, sockets) };
}

/** A server that answers every request with `answer` (posing as Keycloak, say). */
export async function answeringServer(
  answer: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    request.resume();
    answer(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const origin = `http://127.0.0.1:${await listen(server)}`;
  return { resource: `${origin}/mcp`, origin, requests, close: closer(server, sockets) };
}

/** Metadata of `totalBytes` (a JSON string that never closes in time), written as fast as the client reads it. */
export function endlessDocument(totalBytes: number) {
  return (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (
          !response.write(sent === chunk.length ? Buffer.from(`{"resource":"${'a'.repeat(chunk.length - 13)}`) : chunk)
        )
          return void response.once('drain', pump);
      }
      response.end('"}');
    };
    response.on('error', () => undefined);
    pump();
  };
}
