/**
 * Explains why two URLs that should be identical are not. Clients and servers compare issuer, resource
 * and audience byte for byte, so "almost equal" is the most common and the most confusing failure:
 * this names the part that differs.
 */

/** Undefined when equal; otherwise a short phrase such as "a trailing slash" or "the port (8000 vs 8001)". */
export function explainUrlDifference(actual: string, expected: string): string | undefined {
  if (actual === expected) return undefined;
  if (actual === `${expected}/`) return 'a trailing slash (the value has one, the expected URL does not)';
  if (`${actual}/` === expected) return 'a trailing slash (the expected URL has one, the value does not)';
  let a: URL;
  let e: URL;
  try {
    a = new URL(actual);
    e = new URL(expected);
  } catch {
    return 'it is not a URL';
  }
  const parts: string[] = [];
  if (a.protocol !== e.protocol) parts.push(`the scheme (${a.protocol.slice(0, -1)} vs ${e.protocol.slice(0, -1)})`);
  if (a.hostname !== e.hostname) parts.push(`the host (${a.hostname} vs ${e.hostname})`);
  if (a.port !== e.port) parts.push(`the port (${a.port || 'default'} vs ${e.port || 'default'})`);
  if (a.pathname !== e.pathname) {
    const realmA = /\/realms\/([^/]+)/.exec(a.pathname)?.[1];
    const realmE = /\/realms\/([^/]+)/.exec(e.pathname)?.[1];
    if (realmA && realmE && realmA !== realmE) parts.push(`the realm (${realmA} vs ${realmE})`);
    else if (a.pathname.replace(/\/+$/, '') === e.pathname.replace(/\/+$/, ''))
      parts.push('a trailing slash in the path');
    else parts.push(`the path (${a.pathname} vs ${e.pathname})`);
  }
  if (a.search !== e.search) parts.push('the query string');
  // new URL() normalises case and default ports, so spelling can differ while every part matches.
  if (parts.length === 0)
    parts.push('the spelling (case, default port or encoding), which byte-for-byte comparison does not forgive');
  return parts.join(' and ');
}

/** The realm named in a Keycloak issuer URL, if any. */
export function realmOf(issuer: string): string | undefined {
  return /\/realms\/([^/?#]+)/.exec(issuer)?.[1];
}
