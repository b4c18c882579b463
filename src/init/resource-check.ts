/**
 * Before init changes anything: is the MCP URL already served for another realm? A second project
 * set up on the default http://localhost:8000/mcp while the first one's `serve` still runs would
 * otherwise be "verified" against the other server, and doctor would fail with a PRM naming the
 * wrong realm. Only loopback URLs are checked: there init (or `serve`) is about to run the server
 * itself, while a remote server may legitimately be reconfigured after the realm is set up.
 */
import { isLoopbackUrl, portOf } from '../addresses.js';
import { UsageError } from '../errors.js';
import { realmIssuer } from '../keycloak/urls.js';
import { portFree } from '../local/process.js';
import { metadataUrl } from '../server/metadata.js';
import { command } from '../ui/invocation.js';
import type { InitAnswers } from './files.js';

/** The authorization servers the Protected Resource Metadata at `resource` names; undefined when none is served. */
async function servedAuthorizationServers(resource: string): Promise<string[] | undefined> {
  try {
    const response = await fetch(metadataUrl(resource), {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(3000),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const document = (await response.json()) as { authorization_servers?: unknown };
    const servers = document.authorization_servers;
    return Array.isArray(servers) ? servers.filter((s): s is string => typeof s === 'string') : undefined;
  } catch {
    return undefined; // nothing listens, or not an MCP server: doctor reports what it finds
  }
}

const realmOf = (issuer: string) => /\/realms\/([^/?#]+)/.exec(issuer)?.[1];

/** The resource URL moved to the next free port (up to 20 tried), to suggest; undefined when none is free. */
async function nextFreeResource(resource: string): Promise<string | undefined> {
  const url = new URL(resource);
  const port = portOf(url);
  for (let candidate = port + 1; candidate <= Math.min(port + 20, 65535); candidate++) {
    if (await portFree(candidate)) {
      url.port = String(candidate);
      return url.href;
    }
  }
  return undefined;
}

/**
 * Fails (nothing written yet) when a server at the loopback resource URL publishes metadata for
 * another realm. A server for this very realm (a running `serve`) is fine: init and doctor use it.
 */
export async function checkResourceFree(
  answers: Pick<InitAnswers, 'keycloakUrl' | 'realm' | 'resource'>,
): Promise<void> {
  if (!isLoopbackUrl(answers.resource)) return;
  const servers = await servedAuthorizationServers(answers.resource);
  if (!servers) return;
  const issuer = realmIssuer(answers.keycloakUrl, answers.realm);
  // Same realm name under another spelling of the Keycloak host (localhost vs 127.0.0.1) is doctor's to explain.
  if (servers.includes(issuer) || servers.some((server) => realmOf(server) === answers.realm)) return;
  const other = servers.length
    ? servers.map((server) => (realmOf(server) ? `realm "${realmOf(server)}" (${server})` : server)).join(', ')
    : 'no authorization server';
  const free = await nextFreeResource(answers.resource);
  throw new UsageError(
    `Another MCP server already answers at ${answers.resource}, for ${other}, not for realm "${answers.realm}". ` +
      `Stop it (a \`serve\` for that realm: Ctrl-C in its terminal) and run init again, or give this realm another port: ` +
      `${command(`init --resource ${free ?? 'http://localhost:PORT/mcp'}`)}. Nothing was written.`,
  );
}
