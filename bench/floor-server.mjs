#!/usr/bin/env node
/**
 * The floor for bench/serve.mjs: a bare node:http handler that does the least an authenticated MCP
 * `tools/call` needs, with the same token check `serve` runs (createJwtVerifier, its cache of verified
 * tokens) but no MCP SDK: read the body, parse the JSON-RPC message, add, answer JSON. It checks no MCP
 * header, protocol version or schema, so it is a lower bound, not a server to copy.
 *
 *   node bench/floor-server.mjs <issuer> <audience (the resource URL)> <port>
 */
import { createServer } from 'node:http';
import { createJwtVerifier, remoteKeys } from '../dist/server/index.js';

const [issuer, audience, port] = process.argv.slice(2);
const keys = remoteKeys(`${issuer}/protocol/openid-connect/certs`);
const verifier = createJwtVerifier({ issuer, audience, scopes: ['mcp:run'], keys });

async function answer(req, res) {
  const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  try {
    if (!token) throw new Error('no token');
    await verifier.verify(token);
  } catch {
    return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const { a, b } = message.params.arguments;
  const result = { content: [{ type: 'text', text: String(a + b) }], structuredContent: { result: a + b } };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
}

createServer((req, res) => {
  answer(req, res).catch(() => res.writeHead(400).end());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('{"event":"listening"}\n'));
process.on('SIGTERM', () => process.exit(0));
