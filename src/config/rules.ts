/**
 * The validation rules for the values that end up in Keycloak or in tokens: URLs, scope names,
 * trusted hosts, web origins and numbers from flags or env. Each rule is a pure function that returns
 * the problem as a short phrase ("must …") or `undefined`, so the zod schema, `serve` and the init
 * wizard all refuse the same inputs with the same words. A rule never quotes a long input back: a
 * 200 KB value must not become a 200 KB error line.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { createRequire } from 'node:module';

/** Longest URL accepted. Browsers and proxies cope with ~2 KB; the resource URL also rides in every token. */
export const MAX_URL_LENGTH = 2048;
/** Keycloak stores client scope names in a VARCHAR(255) column; longer names fail half-way through apply. */
export const MAX_SCOPE_LENGTH = 255;
/** RFC 1035: a domain name is at most 253 characters in text form. */
export const MAX_HOST_LENGTH = 253;

/** Printable ASCII without space: anything else is either invisible, ambiguous or rewritten by URL parsers. */
const PRINTABLE_ASCII = /^[\x21-\x7E]*$/;
/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. Keycloak also uses it as a name. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** RFC 1123 hostname label: letters, digits and inner hyphens, 1 to 63 characters. */
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Non-ASCII and whitespace are refused rather than converted. WHATWG URL parsing would silently turn
 * `http://bücher.example/mcp` into `http://xn--bcher-kva.example/mcp` (and drop tabs and newlines
 * inside a URL), yet the resource URL is compared byte for byte as the token audience: storing one
 * spelling in Keycloak while clients send the other breaks every token. Asking for the ASCII form
 * makes what the user typed, what Keycloak stores and what clients send the same string.
 */
function asciiProblem(value: string, ascii: () => string | undefined): string | undefined {
  if (PRINTABLE_ASCII.test(value)) return undefined;
  if (/[\s\x00-\x1F\x7F]/.test(value)) return 'must not contain spaces or control characters';
  const suggestion = ascii();
  return `must be plain ASCII (internationalised names in their punycode form${suggestion ? `: ${suggestion}` : ''})`;
}

function tooLong(value: string, max: number): string | undefined {
  return value.length > max ? `is ${value.length} characters long; at most ${max} are accepted` : undefined;
}

/**
 * The rule for every http(s) URL in the configuration (Keycloak base URL, resource URL, web origins):
 * absolute, lower-case http:// or https:// with a host, no credentials, no query string, no fragment, ASCII only,
 * at most MAX_URL_LENGTH characters. `queryWhy` says why this URL may not have a query string.
 */
export function httpUrlProblem(
  value: string,
  queryWhy?: string,
  example = 'http://localhost:8000/mcp',
): string | undefined {
  const long = tooLong(value, MAX_URL_LENGTH);
  if (long) return long;
  const ascii = asciiProblem(value, () => {
    try {
      return new URL(value).href;
    } catch {
      return undefined;
    }
  });
  if (ascii) return ascii;
  // The WHATWG parser also accepts `http:host`, `http:/host` and backslashes, each a different string
  // from what clients would send; only the plain form is accepted.
  const absolute = `must be an absolute http:// or https:// URL, e.g. ${example}`;
  if (!/^https?:\/\/[^/\\]/.test(value) || value.includes('\\'))
    // `localhost:8080` is a host and port without the scheme, not a URL of scheme "localhost:".
    return /^[a-z0-9.-]+(?::\d+)?(?:\/[^\\]*)?$/i.test(value)
      ? `${absolute} (did you mean http://${value}?)`
      : absolute;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return absolute;
  }
  if (url.username || url.password) return 'must not contain credentials (user:password@)';
  if (value.includes('?')) return `must not have a query string (?…)${queryWhy ? `: ${queryWhy}` : ''}`;
  if (value.includes('#')) return 'must not have a #fragment';
  return undefined;
}

/** The MCP resource URL: the token audience, used byte for byte by apply, serve and doctor alike. */
export function resourceUrlProblem(value: string): string | undefined {
  return httpUrlProblem(value, 'MCP clients drop it, so tokens would never match');
}

/**
 * The Keycloak base URL: same rule (a path such as the legacy `/auth` is fine), with Keycloak examples;
 * and not an issuer (`…/realms/mcp-demo`, what a PRM, a token or the admin console shows), which people
 * paste for it: that gets the base URL to use, and the realm.
 */
export function keycloakUrlProblem(value: string): string | undefined {
  const problem = httpUrlProblem(
    value,
    'it is the base that paths such as /realms/… and /admin/… are added to, e.g. http://127.0.0.1:8080',
    'http://localhost:8080 (or https://sso.example.com)',
  );
  if (problem) return problem;
  const url = new URL(value);
  const issuer = /^(.*?)\/realms\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (!issuer) return undefined;
  const base = `${url.origin}${issuer[1]}`;
  const realm = printable(issuer[2]!, 60);
  return `is the issuer of realm "${realm}", not Keycloak's base URL: use --keycloak-url ${base} --realm ${realm} (keycloakUrl "${base}" in the config file)`;
}

/**
 * A registration web origin as browsers send it in `Origin`: `scheme://host[:port]`, lower-case, no
 * default port, no path and no trailing slash; anything else never matches and so allows nobody.
 */
export function webOriginProblem(value: string): string | undefined {
  const problem = httpUrlProblem(value, 'browsers send an origin without one');
  if (problem) return problem;
  const origin = new URL(value).origin;
  return value === origin
    ? undefined
    : `must be an origin, scheme://host[:port] with no path or trailing slash, exactly as browsers send it: ${origin}`;
}

/** A Trusted Hosts entry: one hostname or IP address; Keycloak has no wildcards or ranges here. */
export function trustedHostProblem(value: string): string | undefined {
  if (value.trim() === '') return 'must be a hostname or IP address, not blank';
  const long = tooLong(value, MAX_HOST_LENGTH);
  if (long) return long;
  const ascii = asciiProblem(value, () => domainToASCII(value) || undefined);
  if (ascii) return ascii;
  if (value.includes('*')) return 'must be one hostname or IP address: wildcards are not supported, list each host';
  if (value.includes('://')) return `must be a hostname or IP address, not a URL`;
  if (isIP(value) !== 0) return undefined;
  const labels = value.split('.');
  if (labels.every((label) => HOST_LABEL.test(label)) && !/^[0-9.]+$/.test(value)) return undefined;
  return 'must be a hostname (letters, digits, "-" and ".") or an IP address';
}

let publicSuffixes: typeof import('tldts') | undefined;

/**
 * The public suffix of `host` (Public Suffix List, private section included), lower case. tldts holds
 * the whole list (~220 KB of code, ~30 ms to load): it is loaded on the first wildcard domain, so the
 * commands that check none start without it.
 */
function publicSuffixOf(host: string): string | null {
  publicSuffixes ??= createRequire(import.meta.url)('tldts') as typeof import('tldts');
  return publicSuffixes.getPublicSuffix(host, { allowPrivateDomains: true });
}

/**
 * A domain Keycloak's CIMD executor and condition compare a URL's host with: a hostname or IP, or
 * `*.example.com` (the domain and its subdomains, Keycloak's only wildcard form). No port, no scheme.
 */
export function cimdDomainProblem(value: string): string | undefined {
  const wildcard = value.startsWith('*.');
  const host = wildcard ? value.slice(2) : value;
  if (host.includes('*'))
    return 'must be a hostname, an IP address or *.domain (Keycloak matches the domain and its subdomains), no other wildcard';
  if (host.includes(':') && isIP(host) === 0)
    return 'must be a host without a scheme or port (Keycloak compares hosts only)';
  const problem = trustedHostProblem(host);
  if (problem) return problem.replace('hostname or IP address', 'hostname, IP address or *.domain');
  if (wildcard && isIP(host) !== 0) return 'must put *. before a domain name, not an IP address';
  // `*.com`, `*.co.uk` or `*.github.io` would let anyone who registers a domain (or a GitHub Pages site)
  // there host a client_id document the realm accepts. The Public Suffix List, private section included,
  // says where anyone may register; a name it does not know (`*.internal`) counts as a top-level domain.
  if (wildcard && publicSuffixOf(host) === host.toLowerCase())
    return `must put *. before a domain of your own (e.g. *.example.com): ${printable(host, 60)} is a public suffix (publicsuffix.org), so ${printable(value, 60)} would permit every host anyone registers under it`;
  return undefined;
}

/**
 * Keys a plain JavaScript object treats specially: `__proto__` set on `{}` replaces its prototype instead of
 * adding a key (zod skips it in records, so `"toolScopes": {"__proto__": [...]}` vanished silently), and
 * `constructor` or `prototype` look present on every object (`toolScopes[name]` finds Object.prototype's).
 */
const RESERVED_OBJECT_KEYS = ['__proto__', 'constructor', 'prototype'];

/** A key the user names (a tool in `toolScopes` or `--tool-scope`); the schema checks its length. */
export function reservedKeyProblem(value: string): string | undefined {
  return RESERVED_OBJECT_KEYS.includes(value)
    ? `must not be ${value}: __proto__, constructor and prototype are keys JavaScript objects reserve, so the entry would be dropped or misread; rename it`
    : undefined;
}

/** The path of the first own `__proto__` key in parsed JSON (JSON.parse keeps it as data), for a refusal. */
export function ownProtoKeyPath(value: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return [...path, '__proto__'];
  for (const [key, child] of Object.entries(value)) {
    const found = ownProtoKeyPath(child, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * A boolean env variable (MCP_KEYCLOAK_CIMD): true/false, 1/0, yes/no or on/off, in any case; an empty
 * value counts as unset and is handled by the caller. Anything else is `undefined`, for a usage error.
 */
export function parseBoolean(value: string): boolean | undefined {
  const word = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  return undefined;
}

/**
 * A number from a flag or env variable: decimal digits only, within [min, max]. `Number()` would also
 * take `1e3`, `0x3e8`, ` 1000 ` and `1000.0`, so a typo could silently become another port.
 */
export function parseDecimal(value: string, min: number, max: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(value)) return undefined;
  const number = Number(value);
  return number >= min && number <= max ? number : undefined;
}

/** A user-supplied value fit for an error line: control characters replaced, cut at `max` characters. */
export function printable(value: string, max: number): string {
  const clean = value.replace(/[\x00-\x1F\x7F\u2028\u2029]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
