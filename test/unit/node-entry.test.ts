/**
 * serve's way into the MCP SDK (src/server/node-entry.ts, tools.ts): the body read and parsed once by
 * http.ts, a body-less web Request, the tool schemas converted to JSON Schema once. The official SDK
 * clients (v1, and v2 on the 2026-07-28 protocol) still list and call the tools, the SDK's own header and
 * body checks still answer, and a failing handler or a client that leaves is handled as toNodeHandler does.
 */
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createRequestListener } from '../../src/server/http.js';
import { protectedResourceMetadata } from '../../src/server/metadata.js';
import { mcpNodeHandler, nodeEntry } from '../../src/server/node-entry.js';
import { createToolServer, withJsonSchemaOnce } from '../../src/server/tools.js';

const CALL = {
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'add_numbers', arguments: { a: 2, b: 3 } },
};
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

describe('serve behind the SDK handler, auth off', () => {
  const mcp = createMcpHandler(() => createToolServer('test'));
  const listener = createRequestListener({
    resource: 'http://127.0.0.1/mcp',
    scopes: ['mcp:run'],
    metadata: protectedResourceMetadata('http://127.0.0.1/mcp', 'http://127.0.0.1:1/realms/test', ['mcp:run']),
    verifier: undefined,
    mcp: mcpNodeHandler(mcp),
  });
  const server = createServer(listener);
  let url: string;
  beforeAll(async () => void (url = await listen(server)));
  afterAll(async () => {
    await mcp.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves the SDK clients: v1, and v2 pinned to 2026-07-28', async () => {
    const v1 = new ClientV1({ name: 'node-entry-v1', version: '1.0.0' });
    await v1.connect(new TransportV1(new URL(url)));
    const { tools } = await v1.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['add_numbers', 'multiply_numbers', 'divide_numbers']);
    // The schemas converted once are the ones zod converts.
    expect(tools[0]!.inputSchema).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number', description: 'first operand' } },
      required: ['a', 'b'],
    });
    expect(tools[0]!.outputSchema).toMatchObject({ type: 'object', properties: { result: { type: 'number' } } });
    expect((await v1.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } })).structuredContent).toEqual({
      result: 5,
    });
    await v1.close();
    const v2 = new ClientV2(
      { name: 'node-entry-v2', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await v2.connect(new TransportV2(new URL(url)));
    expect((await v2.callTool({ name: 'divide_numbers', arguments: { a: 7, b: 2 } })).structuredContent).toEqual({
      result: 3.5,
    });
    await v2.close();
  });

  it("keeps the SDK's checks: Accept, Content-Type, protocol version, JSON, input schema", async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(url, { method: 'POST', headers: { ...HEADERS, ...headers }, body });
    const call = JSON.stringify(CALL);
    expect((await post({ accept: 'application/json' }, call)).status).toBe(406);
    expect((await post({ 'content-type': 'text/plain' }, call)).status).toBe(415);
    const version = await post({ 'mcp-protocol-version': '1999-01-01' }, call);
    expect(version.status).toBe(400);
    expect(await version.text()).toMatch(/Unsupported protocol version/);
    const junk = await post({}, '{"jsonrpc":');
    expect(junk.status).toBe(400);
    expect(await junk.text()).toMatch(/Parse error/);
    expect((await post({}, '')).status).toBe(400);
    const badArgs = await post({}, JSON.stringify({ ...CALL, params: { name: 'add_numbers', arguments: { a: 'x' } } }));
    expect(await badArgs.text()).toMatch(/"isError":true|Invalid/);
    const tooLarge = await post({}, ' '.repeat(4 * 1024 * 1024 + 1));
    expect(tooLarge.status).toBe(413);
  });
});

describe('nodeEntry', () => {
  it('answers a handler that throws with a JSON-RPC internal error echoing the id', async () => {
    const entry = nodeEntry({ fetch: () => Promise.reject(new Error('boom')) });
    const server = createServer((req, res) => void entry(req, res, CALL));
    const url = await listen(server);
    const response = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(CALL) });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32603, message: 'Internal server error' },
      id: 7,
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('aborts the request signal when the client leaves a stream', async () => {
    let signal: AbortSignal | undefined;
    const entry = nodeEntry({
      fetch: (request: Request) => {
        signal = request.signal;
        const never = new ReadableStream({
          start: (controller) => controller.enqueue(new TextEncoder().encode(': open\n\n')),
        });
        return Promise.resolve(new Response(never, { headers: { 'content-type': 'text/event-stream' } }));
      },
    });
    const server = createServer((req, res) => void entry(req, res));
    const url = await listen(server);
    const client = new AbortController();
    const response = await fetch(url, { signal: client.signal });
    const reader = response.body!.getReader();
    const first = (await reader.read()).value as Uint8Array;
    expect(new TextDecoder().decode(first)).toBe(': open\n\n');
    expect(signal?.aborted).toBe(false);
    client.abort();
    await vi.waitFor(() => expect(signal?.aborted).toBe(true));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('withJsonSchemaOnce', () => {
  it('converts to JSON Schema once, and validates with zod as before', async () => {
    const schema = z.object({ n: z.number() });
    const convert = vi.spyOn(schema['~standard'].jsonSchema, 'output');
    const once = withJsonSchemaOnce(schema);
    const first = once['~standard'].jsonSchema.output({ target: 'draft-2020-12' });
    expect(once['~standard'].jsonSchema.output({ target: 'draft-2020-12' })).toBe(first);
    expect(convert).toHaveBeenCalledTimes(1);
    expect(first).toEqual(schema['~standard'].jsonSchema.output({ target: 'draft-2020-12' }));
    expect((await once['~standard'].validate({ n: 1 })).issues).toBeUndefined();
    expect((await once['~standard'].validate({ n: 'x' })).issues).toHaveLength(1);
  });
});
