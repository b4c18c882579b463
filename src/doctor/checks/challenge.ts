/**
 * Check 1: the MCP endpoint without a token. Everything a client does starts here: the 401's
 * `WWW-Authenticate: Bearer resource_metadata="…"` is how it finds the Protected Resource Metadata,
 * and its `scope` is what VS Code asks for (MCP authorization spec, "Protected Resource Metadata Discovery").
 */
import { fail, pass, warn, type Finding } from '../../findings.js';
import { command } from '../../ui/invocation.js';
import { request } from '../http.js';
import type { Check } from '../types.js';
import { bearerChallenge } from '../../oauth/www-authenticate.js';

/** What a 2025-era client sends first: an `initialize` POST, so GET-only or SSE-only quirks do not hide the answer. */
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'mcp-keycloak-doctor', version: '1' },
  },
};

export const challengeCheck: Check = {
  id: 'challenge',
  title: 'Calling the MCP endpoint without a token',
  async run(input, state) {
    const url = input.resource.url;
    const title = 'MCP endpoint answers 401 with a Bearer challenge';
    const result = await (input.request ?? request)(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify(INITIALIZE),
    });
    if (result.status === undefined) {
      return [
        fail('challenge.status', title, {
          expected: `HTTP 401 from ${url}`,
          actual: result.error ?? 'no answer',
          why: 'The MCP server is not reachable at the URL clients are configured with, so nothing else can work.',
          fix: `Start the MCP server (e.g. \`${command(`serve --resource ${url}`)}\`) or correct --resource / MCP_KEYCLOAK_RESOURCE.`,
        }),
      ];
    }
    state.challenge = { status: result.status };
    if (result.status !== 401) {
      const open = result.status >= 200 && result.status < 300;
      return [
        fail('challenge.status', title, {
          expected: 'HTTP 401',
          actual: `HTTP ${result.status}`,
          why: open
            ? 'The server answered a request without a token: it is not protected, so clients never start the OAuth flow.'
            : `Clients start OAuth discovery only on a 401; HTTP ${result.status} ends the connection attempt${result.status === 404 ? ' (is the path of --resource right?)' : ''}.`,
          fix: open
            ? 'Put bearer-token verification in front of the MCP handler (see `mcp-keycloak serve`).'
            : 'Make the MCP endpoint answer 401 to requests without a token.',
        }),
      ];
    }
    const header = result.headers?.get('www-authenticate');
    const bearer = bearerChallenge(header);
    if (!bearer) {
      return [
        fail('challenge.status', title, {
          expected: 'WWW-Authenticate: Bearer resource_metadata="…"',
          actual: header ? `WWW-Authenticate: ${header}` : '401 without a WWW-Authenticate header',
          why: 'Without a Bearer challenge clients cannot discover the authorization server (RFC 6750 §3, RFC 9728 §5.1); VS Code stops here.',
          fix: 'Send `WWW-Authenticate: Bearer resource_metadata="<PRM URL>", scope="<scope>"` with every 401.',
        }),
      ];
    }
    const findings: Finding[] = [pass('challenge.status', title, { actual: `HTTP 401, WWW-Authenticate: ${header}` })];
    const resourceMetadata = bearer.params.resource_metadata;
    const scope = bearer.params.scope;
    state.challenge = { status: 401, ...(resourceMetadata ? { resourceMetadata } : {}), ...(scope ? { scope } : {}) };
    if (resourceMetadata) {
      findings.push(
        pass('challenge.resource_metadata', 'Challenge names the Protected Resource Metadata', {
          actual: resourceMetadata,
        }),
      );
    } else {
      findings.push(
        fail('challenge.resource_metadata', 'Challenge names the Protected Resource Metadata', {
          expected: 'resource_metadata="<PRM URL>" in the Bearer challenge',
          actual: 'no resource_metadata parameter',
          why: 'The MCP authorization spec (2025-06-18) requires it; clients that do not guess well-known URLs give up here.',
          fix: 'Add resource_metadata="<origin>/.well-known/oauth-protected-resource<path>" to the challenge.',
        }),
      );
    }
    const required = input.resource.scopes;
    const offered = scope?.split(' ').filter(Boolean) ?? [];
    if (!scope) {
      findings.push(
        warn('challenge.scope', 'Challenge names the required scope', {
          expected: `scope="${required.join(' ')}"`,
          actual: 'no scope parameter',
          why: 'Clients then fall back to the PRM scopes_supported; it works, but the spec says a server SHOULD send the scope.',
          fix: `Add scope="${required.join(' ')}" to the challenge.`,
        }),
      );
    } else if (!required.some((s) => offered.includes(s))) {
      findings.push(
        warn('challenge.scope', 'Challenge names the required scope', {
          expected: `scope containing ${required.join(' or ')}`,
          actual: `scope="${scope}"`,
          why: 'VS Code asks Keycloak for exactly these scopes, so its token will lack the one that carries the audience.',
          fix: `Send scope="${required.join(' ')}" in the challenge.`,
        }),
      );
    } else {
      findings.push(pass('challenge.scope', 'Challenge names the required scope', { actual: `scope="${scope}"` }));
    }
    return findings;
  },
};
