/**
 * In-process steps of a `tools/call` for bench/serve.mjs: the SDK's handler (`createMcpHandler` with the
 * reference tool server) called directly, with no HTTP, CPU per call after a warm-up. Two ways in: a web
 * `Request` carrying the body (what @modelcontextprotocol/node's `toNodeHandler` builds, and what
 * `serve` used to hand it), and a body-less `Request` with the body already parsed (what `serve` does now).
 */
import { createMcpHandler } from '@modelcontextprotocol/server';
import { createToolServer } from '../dist/server/index.js';

export async function sdkSteps(body, requests, warmup) {
  const mcp = createMcpHandler(() => createToolServer('bench'));
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const url = 'http://127.0.0.1/mcp';
  const parsed = () => mcp.fetch(new Request(url, { method: 'POST', headers }), { parsedBody: JSON.parse(body) });
  const withBody = () => mcp.fetch(new Request(url, { method: 'POST', headers, body }));
  async function cpuPerCall(call) {
    const once = async () => {
      const text = await (await call()).text();
      if (!text.includes('"result":5')) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
    };
    for (let i = 0; i < warmup; i++) await once();
    const started = process.cpuUsage();
    for (let i = 0; i < requests; i++) await once();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / requests;
  }
  const result = { withBody: await cpuPerCall(withBody), parsed: await cpuPerCall(parsed) };
  await mcp.close();
  return result;
}
