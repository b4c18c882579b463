/**
 * The smallest cookie jar that carries a Keycloak login across requests. Keycloak ties the login form,
 * the consent page and the final redirect together with cookies (AUTH_SESSION_ID, KC_RESTART, ...);
 * without them it answers "Cookie not found". The headless user only ever talks to one Keycloak origin,
 * so the jar keys cookies by origin and name and honours path, Max-Age and Expires; it never sends a
 * cookie to another origin.
 */

interface StoredCookie {
  value: string;
  path: string;
  expiresAt?: number;
}

/** Cookies per origin, as the headless user carries them from the login form to the redirect. */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, StoredCookie>>();

  /** Stores the `Set-Cookie` headers of a response to `url`. */
  store(url: string, headers: Headers): void {
    const { origin, pathname } = new URL(url);
    const jar = this.byOrigin.get(origin) ?? new Map<string, StoredCookie>();
    this.byOrigin.set(origin, jar);
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // RFC 6265 §5.1.4: the default path is the request path up to its last "/".
      let path = pathname.slice(0, pathname.lastIndexOf('/')) || '/';
      let expiresAt: number | undefined;
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim());
        const lower = key.toLowerCase();
        if (lower === 'path' && val.startsWith('/')) path = val;
        else if (lower === 'max-age' && /^-?\d+$/.test(val)) expiresAt = Date.now() + Number(val) * 1000;
        else if (lower === 'expires' && expiresAt === undefined) {
          const when = Date.parse(val);
          if (!Number.isNaN(when)) expiresAt = when;
        }
      }
      // Keycloak deletes cookies with Max-Age=0 / an Expires in 1970.
      if (expiresAt !== undefined && expiresAt <= Date.now()) jar.delete(name);
      else jar.set(name, expiresAt === undefined ? { value, path } : { value, path, expiresAt });
    }
  }

  /** The `Cookie` header for a request to `url`, or undefined when there is nothing to send. */
  header(url: string): string | undefined {
    const { origin, pathname } = new URL(url);
    const jar = this.byOrigin.get(origin);
    if (!jar) return undefined;
    const now = Date.now();
    const pairs: string[] = [];
    for (const [name, cookie] of jar) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) continue;
      const inPath =
        pathname === cookie.path || pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`);
      if (inPath) pairs.push(`${name}=${cookie.value}`);
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }

  /** Names only (values are session secrets): for diagnostics. */
  names(url: string): string[] {
    return [...(this.byOrigin.get(new URL(url).origin)?.keys() ?? [])];
  }
}
