/**
 * The calculator tools of the seeds' sample server, with typed inputs and structured results. A fresh
 * `McpServer` is built per request (the SDK's stateless model), so this must stay cheap.
 */
import { McpServer, type StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

/**
 * The schema with its JSON Schema converted once, not per request: the SDK memoises the conversion on
 * the registered tool, which dies with each per-request `McpServer`, so every `tools/call` converted
 * the output schema again (zod's toJSONSchema, ~5 % of a call). Validation stays zod's own `validate`.
 */
export function withJsonSchemaOnce<Input, Output>(
  schema: StandardSchemaWithJSON<Input, Output>,
): StandardSchemaWithJSON<Input, Output> {
  const standard = schema['~standard'];
  const converted = new Map<string, Record<string, unknown>>();
  const once =
    (io: 'input' | 'output') =>
    (options: Parameters<typeof standard.jsonSchema.input>[0]): Record<string, unknown> => {
      // Only the target varies between the SDK's calls; anything more (library options) is not cached.
      if (Object.keys(options).some((key) => key !== 'target')) return standard.jsonSchema[io](options);
      const key = `${io} ${options.target}`;
      let json = converted.get(key);
      if (json === undefined) converted.set(key, (json = standard.jsonSchema[io](options)));
      return json;
    };
  return {
    '~standard': {
      ...standard,
      validate: standard.validate,
      jsonSchema: { input: once('input'), output: once('output') },
    },
  };
}

const operands = withJsonSchemaOnce(
  z.object({
    a: z.number().describe('first operand'),
    b: z.number().describe('second operand'),
  }),
);
const result = withJsonSchemaOnce(z.object({ result: z.number() }));

function ok(value: number) {
  const structuredContent = { result: value };
  return { content: [{ type: 'text' as const, text: String(value) }], structuredContent };
}

/** The tools `createToolServer` registers: what `toolScopes` may name. */
export const TOOL_NAMES = ['add_numbers', 'multiply_numbers', 'divide_numbers'] as const;

/** An MCP server with the calculator tools (TOOL_NAMES). */
export function createToolServer(version: string): McpServer {
  const server = new McpServer({ name: 'mcp-keycloak-reference', version });
  server.registerTool(
    'add_numbers',
    {
      title: 'Add',
      description: 'Adds two numbers.',
      inputSchema: operands,
      outputSchema: result,
      annotations: { readOnlyHint: true },
    },
    ({ a, b }) => ok(a + b),
  );
  server.registerTool(
    'multiply_numbers',
    {
      title: 'Multiply',
      description: 'Multiplies two numbers.',
      inputSchema: operands,
      outputSchema: result,
      annotations: { readOnlyHint: true },
    },
    ({ a, b }) => ok(a * b),
  );
  server.registerTool(
    'divide_numbers',
    {
      title: 'Divide',
      description: 'Divides a by b.',
      inputSchema: operands,
      outputSchema: result,
      annotations: { readOnlyHint: true },
    },
    ({ a, b }) => {
      // A tool error (isError) is part of the result the model sees, not a protocol failure.
      if (b === 0) return { content: [{ type: 'text' as const, text: 'Cannot divide by zero.' }], isError: true };
      return ok(a / b);
    },
  );
  return server;
}
