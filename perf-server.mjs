import { createServer } from 'node:http';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { McpServer, Server } from '@modelcontextprotocol/server';
import { toJSONSchema } from 'zod';
const TOOL_LIST = ['add_numbers','multiply_numbers','divide_numbers'].map((n) => ({ name: n, title: n, description: n, inputSchema: toJSONSchema(z.object({a:z.number(),b:z.number()})), outputSchema: toJSONSchema(z.object({result:z.number()})), annotations: { readOnlyHint: true } }));
function lowLevel(v) {
  const s = new Server({ name: 'x', version: v }, { capabilities: { tools: {} } });
  s.setRequestHandler('tools/list', async () => ({ tools: TOOL_LIST }));
  s.setRequestHandler('tools/call', async (req) => { const {a,b} = operandsLL.parse(req.params.arguments); return { content: [{type:'text', text:String(a+b)}], structuredContent: {result:a+b} }; });
  return s;
}
const operandsLL = z.object({ a: z.number(), b: z.number() });
import { z } from 'zod';
const operands = z.object({ a: z.number(), b: z.number() });
const result = z.object({ result: z.number() });
function createToolServer(v) {
  const s = new McpServer({ name: 'x', version: v });
  for (const n of ['add_numbers','multiply_numbers','divide_numbers'])
    s.registerTool(n, { title: n, description: n, inputSchema: operands, outputSchema: result, annotations: { readOnlyHint: true } }, async ({a,b}) => ({ content: [{type:'text', text: String(a+b)}], structuredContent: {result: a+b} }));
  return s;
}
const mode = process.argv[2] ?? 'sdk';
let handler;
if (mode.startsWith('sdk')) {
  const mcp = toNodeHandler(createMcpHandler(() => mode === 'sdk-low' ? lowLevel('1') : createToolServer('1'), mode === 'sdk-json' ? { responseMode: 'json' } : {}));
  handler = (req, res) => { mcp(req, res); };
} else {
  handler = (req, res) => { let b=''; req.on('data', c=> b+=c); req.on('end', () => { const m = JSON.parse(b); const {a,b:bb} = m.params.arguments; res.writeHead(200, {'content-type':'application/json'}); res.end(JSON.stringify({jsonrpc:'2.0', id:m.id, result:{content:[{type:'text',text:String(a+bb)}], structuredContent:{result:a+bb}}})); }); };
}
const server = createServer(handler).listen(Number(process.argv[3] ?? 18999), '127.0.0.1');
process.on('message', (m) => { if (m === 'cpu') process.send(process.cpuUsage()); if (m === 'exit') process.exit(0); });
