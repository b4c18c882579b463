/**
 * The reference MCP server, as a library: `serve` wraps it for the command line, and doctor, init
 * and the end-to-end tests start it in-process. Start-up does every check that can fail (Keycloak
 * reachable, realm and scopes present, settings consistent, port free) before it accepts a request.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { hostHeaderValidation } from '@modelcontextprotocol/node';
import { isLoopbackHost, LOOPBACK_NAMES, portOf } from '../addresses.js';
import { resourceUrlProblem, printable, SCOPE_TOKEN, MAX_SCOPE_LENGTH } from '../config/rules.js';
import { CliError, UsageError } from '../errors.js';
import { answerClientErrors, KEEP_ALIVE_TIMEOUT_MS, serverLimits } from './connections.js';
import { discoverRealm } from './discovery.js';
import type { DpopSettings } from './authenticate.js';
import { memoryReplayCache, nonceIssuer } from './dpop.js';
import { createRequestListener, formatRequestLog, type RequestLog } from './http.js';
import { mcpNodeHandler } from './node-entry.js';
import { metadataUrl, protectedResourceMetadata } from './metadata.js';
import { stepUpScopes, type ToolScopes } from './step-up.js';
import { createToolServer, TOOL_NAMES } from './tools.js';
import { checkIntrospection, fetchKeys, realmLacks, verifierFor } from './auth-setup.js';
import type { AuthMode, ReferenceServerOptions, ScopeSettings } from './options.js';

export { AUTH_MODES, type AuthMode, type ReferenceServerOptions, type ScopeSettings } from './options.js';

export interface RunningServer {
  /** The MCP endpoint, equal to `resource`. */
  url: string;
  /** Where the Protected Resource Metadata is served. */
  metadataUrl: string;
  /** The realm issuer from Keycloak's discovery document, as put in the metadata. */
  issuer: string;
  auth: AuthMode;
  /**
   * Serves other scopes and step-up rules from the next request on (serve's reload of its config
   * file); resolves with what the realm lacks for them (a sentence with the apply to run), if anything.
   */
  update(settings: ScopeSettings): Promise<string | undefined>;
  close(): Promise<void>;
}

export {
  ALLOWED_ALGORITHMS,
  BearerError,
  createJwtVerifier,
  remoteKeys,
  type TokenVerifier,
  type VerifiedToken,
} from './verify.js';
export { createIntrospectionVerifier } from './introspect.js';
export { bearerChallenge, metadataUrl, protectedResourceMetadata } from './metadata.js';
export { formatRequestLog, type RequestLog } from './http.js';
export { createAuthenticator, credentialsOf, type DpopMode, type DpopSettings } from './authenticate.js';
export { checkDpopProof, DpopError, memoryReplayCache, nonceIssuer, type ReplayCache } from './dpop.js';
export { createToolServer, TOOL_NAMES } from './tools.js';
export type { ToolScopes } from './step-up.js';

/**
 * Settings that would make the server unreachable at its own resource URL. A loopback resource is
 * served by this very process, so its port must be the listen port; a public host may sit behind a
 * proxy that maps ports, so there it is the operator's call.
 */
export function checkConsistency(
  options: Pick<ReferenceServerOptions, 'resource' | 'host' | 'port' | 'scopes' | 'toolScopes'>,
): void {
  // The same rule as config loading, for callers that build options themselves (doctor, init, tests).
  const problem = resourceUrlProblem(options.resource);
  if (problem) throw new UsageError(`Resource URL ${printable(options.resource, 100)} ${problem}.`);
  const url = new URL(options.resource);
  if (options.scopes.length === 0)
    throw new UsageError('No scope configured: pass --scope (e.g. mcp:run), the scope tokens must carry.');
  checkToolScopes(options.toolScopes ?? {});
  if (isLoopbackHost(url.hostname) && url.protocol === 'http:' && portOf(url) !== options.port) {
    throw new UsageError(
      `Resource ${options.resource} is on port ${portOf(url)} but the server would listen on ${options.port}: clients would find nothing there. Drop --port or change --resource.`,
    );
  }
}

/** Step-up settings name tools this server has and well-formed scopes (config files are checked by the schema, callers here). */
function checkToolScopes(toolScopes: ToolScopes): void {
  for (const [tool, scopes] of Object.entries(toolScopes)) {
    if (!(TOOL_NAMES as readonly string[]).includes(tool)) {
      throw new UsageError(
        `toolScopes names the tool "${printable(tool, 60)}", which this server does not have: its tools are ${TOOL_NAMES.join(', ')}.`,
      );
    }
    const bad = scopes.find((scope) => !SCOPE_TOKEN.test(scope) || scope.length > MAX_SCOPE_LENGTH);
    if (bad !== undefined)
      throw new UsageError(
        `toolScopes of ${tool}: "${printable(bad, 60)}" is not an OAuth scope (no spaces, quotes or backslashes; at most ${MAX_SCOPE_LENGTH} characters).`,
      );
  }
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Checks everything that can fail (settings, Keycloak, realm, scopes, keys, port), then serves; resolves once it listens. */
export async function startReferenceServer(options: ReferenceServerOptions): Promise<RunningServer> {
  const auth = options.auth ?? 'jwt';
  checkConsistency(options);
  if (auth === 'off' && !isLoopbackHost(options.host)) {
    throw new UsageError(
      `Refusing to serve without authentication on ${options.host}: --auth off is for loopback benchmarks only.`,
    );
  }
  const toolScopes = options.toolScopes ?? {};
  const realm = await discoverRealm(
    options.keycloakUrl,
    options.realm,
    options.scopes,
    toolScopes,
    options.applyCommand,
  );
  if (auth === 'introspection') await checkIntrospection(options, realm);
  const keys = auth === 'off' ? undefined : await fetchKeys(realm.jwksUri);

  const mcp = createMcpHandler(() => createToolServer(VERSION));
  const serveMcp = mcpNodeHandler(mcp);
  const resourceHost = new URL(options.resource).hostname;
  // DNS-rebinding guard: on loopback, only our own names may appear in Host.
  const guard = isLoopbackHost(options.host)
    ? hostHeaderValidation([...new Set([...LOOPBACK_NAMES, resourceHost])])
    : undefined;
  const log = options.log;
  const onRequest = options.onRequest;
  // One replay cache and nonce issuer for the server's life: a rebuilt listener must not forget the proofs seen.
  const dpop: DpopSettings | undefined = options.dpop && {
    ...options.dpop,
    replay: options.dpop.replay ?? memoryReplayCache(),
    ...(options.dpop.nonce ? { nonces: options.dpop.nonces ?? nonceIssuer() } : {}),
  };
  /** The listener for one set of scopes: rebuilt (and swapped in) when `update` changes them. */
  const listenerFor = (settings: ScopeSettings) =>
    createRequestListener({
      resource: options.resource,
      scopes: settings.scopes,
      metadata: protectedResourceMetadata(
        options.resource,
        realm.issuer,
        settings.scopes,
        stepUpScopes(settings.toolScopes),
        auth === 'off' ? 'off' : (dpop?.mode ?? 'off'),
      ),
      verifier: keys && verifierFor(auth, keys, realm, { ...options, scopes: settings.scopes }),
      ...(dpop ? { dpop } : {}),
      toolScopes: settings.toolScopes,
      ...(options.machineClients ? { machineClients: options.machineClients } : {}),
      mcp: serveMcp,
      ...(guard ? { guard } : {}),
      ...(log || onRequest
        ? {
            log: (entry: RequestLog) => {
              onRequest?.(entry);
              log?.(formatRequestLog(entry));
            },
          }
        : {}),
    });
  let listener = listenerFor({ scopes: options.scopes, toolScopes });

  const server = createServer(serverLimits(), (req, res) => listener(req, res));
  // A bounded keep-alive lets clients reuse connections without pinning them forever.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  answerClientErrors(server);
  await listen(server, options.host, options.port);
  return {
    url: options.resource,
    metadataUrl: metadataUrl(options.resource),
    issuer: realm.issuer,
    auth,
    update: async (settings) => {
      checkConsistency({ ...options, ...settings });
      // Requests already in flight finish under the settings they started with; the next ones get these.
      listener = listenerFor(settings);
      return realmLacks(options, settings);
    },
    close: async () => {
      await mcp.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(
          new CliError(
            `Port ${port} on ${host} is already in use: stop what runs there, or pick another --port/--resource.`,
          ),
        );
      else if (error.code === 'EACCES')
        reject(
          new CliError(
            `Not allowed to listen on ${host}:${port}: ports below 1024 need privileges; use a higher port.`,
          ),
        );
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
        reject(new UsageError(`Cannot listen on ${host}: no such local address. Check --host.`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
}
