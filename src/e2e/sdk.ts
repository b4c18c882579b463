/**
 * The two lines of the official MCP TypeScript SDK behind one small interface, so the same flow runs with
 * the v1 client (`@modelcontextprotocol/sdk`, what most deployed clients embed) and the v2 client
 * (`@modelcontextprotocol/client`). Only the v2 client is a runtime dependency; v1 is loaded on demand and
 * is a dev dependency, used by the tests.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/client';

export type SdkLine = 'v1' | 'v2';
export const SDK_LINES: readonly SdkLine[] = ['v1', 'v2'];

export interface ToolCallResult {
  isError: boolean;
  /** `structuredContent.result` when the tool returns one, else the first text content parsed as a number. */
  value?: number;
  text?: string;
}

/**
 * A tool call that may be refused for scope (step-up): its result, a sign-in the transport asks for (its own
 * 403 `insufficient_scope` handling ended in a new authorization request; the provider holds the URL), or
 * another failure.
 */
export type StepUpAttempt =
  { kind: 'result'; result: ToolCallResult } | { kind: 'authorize' } | { kind: 'error'; message: string };

/** A connected MCP client session. */
export interface McpSession {
  protocolVersion?: string;
  serverName?: string;
  listTools(): Promise<string[]>;
  callTool(name: string, args: Record<string, unknown>): Promise<ToolCallResult>;
  /** `callTool` as a host makes it when the server may want more scope: the SDK's step-up runs, a sign-in it asks for is `authorize`. */
  callToolForStepUp(name: string, args: Record<string, unknown>): Promise<StepUpAttempt>;
  /** Redeems the sign-in a call asked for, on this session's transport, so that the retried call carries the new token. */
  finishAuth(callback: URLSearchParams): Promise<void>;
  /**
   * Whether `error` (thrown by a request of this session) means the server answered 401 and the SDK's own
   * handling did not get past it: a sign-in it asks for, or its "401 after (re-)authentication" (a refresh at
   * the authorization server it knew did not help).
   */
  refusedToken(error: unknown): boolean;
  close(): Promise<void>;
}

export type ConnectOutcome =
  | { kind: 'connected'; session: McpSession }
  /** The server wants a sign-in: the provider has the authorization URL; `finishAuth` redeems the callback. */
  | { kind: 'authorize'; finishAuth(callback: URLSearchParams): Promise<void> };

export interface SdkClient {
  line: SdkLine;
  /** Package and version, for reports. */
  label: string;
  /** Whether its `finishAuth` compares the callback's `iss` with the issuer itself (RFC 9207): v2 does, v1 does not. */
  checksResponseIssuer: boolean;
  connect(serverUrl: URL, provider: OAuthClientProvider, fetchFn: typeof fetch): Promise<ConnectOutcome>;
}

const CLIENT_INFO = { name: 'mcp-keycloak-e2e', version: '1' };

/**
 * The v2 SDK refused the authorization response in `finishAuth` (its IssuerMismatchError, kind
 * 'authorization_response'): `iss` was missing although advertised (`received` undefined), or differed.
 * The code was not redeemed. `received` may be chosen by an attacker: report it encoded, never raw.
 */
export class ResponseIssuerError extends Error {
  constructor(
    readonly expected: string,
    readonly received: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ResponseIssuerError';
  }
}

function toResult(result: { isError?: unknown; content?: unknown; structuredContent?: unknown }): ToolCallResult {
  const content = Array.isArray(result.content) ? (result.content as Array<{ type?: string; text?: string }>) : [];
  const text = content.find((c) => c.type === 'text')?.text;
  const structured = result.structuredContent as { result?: unknown } | undefined;
  const value =
    typeof structured?.result === 'number'
      ? structured.result
      : text !== undefined && text.trim() !== ''
        ? Number(text)
        : undefined;
  const out: ToolCallResult = { isError: result.isError === true };
  if (value !== undefined && !Number.isNaN(value)) out.value = value;
  if (text !== undefined) out.text = text;
  return out;
}

interface ClientLike {
  connect(transport: never): Promise<void>;
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  getServerVersion(): { name?: string } | undefined;
  close(): Promise<void>;
}

/** What differs between the lines once connected: how a sign-in request is recognised and redeemed. */
interface TransportAuth {
  isAuthorizationRequest(error: unknown): boolean;
  finishAuth(callback: URLSearchParams): Promise<void>;
}

/** The SDKs' HTTP errors for a 401: v1's StreamableHTTPError (`code` 401), v2's SdkHttpError (`data.status` 401). */
function httpStatus401(error: unknown): boolean {
  const fields = error as { code?: unknown; data?: { status?: unknown } } | undefined;
  return fields?.code === 401 || fields?.data?.status === 401;
}

function session(client: ClientLike, protocolVersion: string | undefined, auth: TransportAuth): McpSession {
  const callTool = async (name: string, args: Record<string, unknown>) =>
    toResult((await client.callTool({ name, arguments: args })) as Parameters<typeof toResult>[0]);
  const out: McpSession = {
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    callTool,
    callToolForStepUp: async (name, args) => {
      try {
        return { kind: 'result', result: await callTool(name, args) };
      } catch (error) {
        if (auth.isAuthorizationRequest(error)) return { kind: 'authorize' };
        return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
      }
    },
    finishAuth: (callback) => auth.finishAuth(callback),
    refusedToken: (error) => auth.isAuthorizationRequest(error) || httpStatus401(error),
    close: () => client.close(),
  };
  if (protocolVersion) out.protocolVersion = protocolVersion;
  const serverName = client.getServerVersion()?.name;
  if (serverName) out.serverName = serverName;
  return out;
}

/** v2: `versionNegotiation: auto` so it speaks 2026-07-28 to a server that offers it, 2025 otherwise. */
async function v2(): Promise<SdkClient> {
  const { Client, IssuerMismatchError, StreamableHTTPClientTransport, UnauthorizedError } =
    await import('@modelcontextprotocol/client');
  return {
    line: 'v2',
    label: '@modelcontextprotocol/client (v2)',
    checksResponseIssuer: true,
    async connect(serverUrl, provider, fetchFn) {
      // Step-up (403 insufficient_scope) as the SDK does it by default: re-authorize with the union of scopes, once per call.
      const transport = new StreamableHTTPClientTransport(serverUrl, {
        authProvider: provider,
        fetch: fetchFn,
        onInsufficientScope: 'reauthorize',
        maxStepUpRetries: 1,
      });
      const client = new Client(CLIENT_INFO, { versionNegotiation: { mode: 'auto' } });
      // RFC 9207: v2 checks the callback's `iss` against the issuer it discovered before redeeming the code.
      const finishAuth = async (callback: URLSearchParams) => {
        try {
          await transport.finishAuth(callback);
        } catch (error) {
          if (error instanceof IssuerMismatchError && error.kind === 'authorization_response') {
            throw new ResponseIssuerError(error.expected ?? '(unknown)', error.received, error.message);
          }
          throw error;
        }
      };
      try {
        await client.connect(transport);
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        return { kind: 'authorize', finishAuth };
      }
      const auth: TransportAuth = { isAuthorizationRequest: (error) => error instanceof UnauthorizedError, finishAuth };
      return {
        kind: 'connected',
        session: session(client as unknown as ClientLike, client.getNegotiatedProtocolVersion(), auth),
      };
    },
  };
}

/** v1: the 2025 `initialize` handshake; its `finishAuth` takes the bare code (no RFC 9207 check). */
async function v1(): Promise<SdkClient> {
  const [{ Client }, { StreamableHTTPClientTransport }, { UnauthorizedError }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/client/auth.js'),
  ]);
  return {
    line: 'v1',
    label: '@modelcontextprotocol/sdk (v1)',
    checksResponseIssuer: false,
    async connect(serverUrl, provider, fetchFn) {
      // The v1 and v2 provider interfaces differ only in optional members; ours implements both.
      const authProvider =
        provider as unknown as import('@modelcontextprotocol/sdk/client/auth.js').OAuthClientProvider;
      const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider, fetch: fetchFn });
      const client = new Client(CLIENT_INFO);
      const finishAuth = async (callback: URLSearchParams) => {
        const code = callback.get('code');
        if (!code) throw new Error('the callback carries no code');
        await transport.finishAuth(code);
      };
      try {
        await client.connect(transport);
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        return { kind: 'authorize', finishAuth };
      }
      const version = transport.protocolVersion;
      const auth: TransportAuth = { isAuthorizationRequest: (error) => error instanceof UnauthorizedError, finishAuth };
      return { kind: 'connected', session: session(client as unknown as ClientLike, version, auth) };
    },
  };
}

/** Loads one SDK line; v1 fails with a readable message when the package is not installed. */
export async function loadSdk(line: SdkLine): Promise<SdkClient> {
  if (line === 'v2') return v2();
  try {
    return await v1();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        'The v1 MCP SDK (@modelcontextprotocol/sdk) is not installed: `npm install @modelcontextprotocol/sdk@1`, or use the v2 client.',
      );
    }
    throw error;
  }
}
