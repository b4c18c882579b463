/** Raw HTTP helpers for the serve tests: a JSON-RPC POST as any client would send it, and challenge parsing. */

export const TOOLS_CALL = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'add_numbers', arguments: { a: 2, b: 3 } },
};

/** A 2025-style stateless tools/call; `token` goes in the Authorization header unless `inQuery`. */
export async function postToolsCall(
  url: string,
  token?: string,
  options: { inQuery?: boolean; authorization?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (options.authorization) headers.authorization = options.authorization;
  else if (token && !options.inQuery) headers.authorization = `Bearer ${token}`;
  const target = token && options.inQuery ? `${url}?access_token=${encodeURIComponent(token)}` : url;
  return fetch(target, { method: 'POST', headers, body: JSON.stringify(TOOLS_CALL) });
}

export interface ParsedChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer a="x", b="y"` (RFC 7235 auth-params with quoted strings) into its parts. */
export function parseChallenge(header: string | null): ParsedChallenge {
  if (!header) throw new Error('no WWW-Authenticate header');
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)="((?:[^"\\]|\\.)*)"\s*(?:,\s*|$)/gy;
  let position = space < 0 ? header.length : space + 1;
  while (position < header.length) {
    re.lastIndex = position;
    const match = re.exec(header);
    if (!match) throw new Error(`unparsable challenge from: ${header.slice(position)}`);
    params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
    position = re.lastIndex;
  }
  return { scheme, params };
}
