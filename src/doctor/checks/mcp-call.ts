/**
 * Check 7: with a token, call the MCP server the way a client does: the official MCP client SDK over
 * Streamable HTTP, `tools/list`. This is the end of the chain everything before it prepares.
 */
import { Client, StreamableHTTPClientTransport, withDpop } from '@modelcontextprotocol/client';
import { fail, pass, skip } from '../../findings.js';
import { boundedFetch } from '../http.js';
import type { Check } from '../types.js';
import { explainRefusal } from './token.js';

export const mcpCallCheck: Check = {
  id: 'mcp',
  title: 'Calling tools/list with the token',
  async run(input, state) {
    const title = 'MCP server accepts the token (tools/list)';
    if (!state.token) return [skip('mcp.tools_list', title, state.tokenMissing ?? 'no token')];
    const url = input.resource.url;
    const token = state.token.value;
    // A DPoP-bound token goes as `Authorization: DPoP` with a fresh proof per request (RFC 9449 §7), never as Bearer.
    const dpop = state.token.dpop;
    const transport = new StreamableHTTPClientTransport(
      new URL(url),
      dpop
        ? { fetch: withDpop(dpop, () => token)(boundedFetch) }
        : { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: boundedFetch },
    );
    const client = new Client({ name: 'mcp-keycloak-doctor', version: '1' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      return [
        pass('mcp.tools_list', title, {
          actual: `${tools.length} tool(s): ${tools.map((t) => t.name).join(', ') || '(none)'}`,
        }),
      ];
    } catch (error) {
      const refusal = await explainRefusal(url, token, input.request, dpop);
      const message = error instanceof Error ? error.message : String(error);
      return [
        fail('mcp.tools_list', title, {
          expected: 'a tools/list result',
          actual: refusal,
          why: /40[13]/.test(refusal)
            ? 'The server refused the token; the token findings above say which claim it objects to.'
            : `The MCP call failed: ${message.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '<token>').slice(0, 200)}`,
        }),
      ];
    } finally {
      await client.close().catch(() => undefined);
    }
  },
};
