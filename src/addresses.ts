/**
 * Hosts and ports as URLs name them, in one place: which hosts are this machine (the loopback rules
 * decide where the reference server guards its Host header, where init may start a server or a local
 * Keycloak itself, and which resource URLs are checked before init) and which port a URL implies.
 */

/**
 * The loopback names, as `URL.hostname` spells them (`[::1]`) and as `--host` may (`::1`); the reference
 * server accepts them in the `Host` header when it listens on loopback.
 */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** Whether `host` (a URL's hostname or a listen address) is this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Whether `url` points at this machine; false for a string that is no URL. */
export function isLoopbackUrl(url: string | URL): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The port a URL implies: explicit, else the scheme's default (443 for https, 80 otherwise). */
export function portOf(url: string | URL): number {
  const parsed = new URL(url);
  return parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
}
