/**
 * Step-up authorization as a host lives it (MCP 2025-11-25, scope challenge handling): call a tool the
 * token's scope does not cover, get 403 `insufficient_scope`, let the SDK work out the scope to ask for,
 * send the user through Keycloak again, redeem the code on the same transport and retry the call. Bounded:
 * at most MAX_REAUTHORIZATIONS sign-ins, then a failure that says why. Three findings:
 * `e2e.step-up.challenge`, `e2e.step-up.reauthorize`, `e2e.step-up.call`.
 */
import { decodeJwt } from 'jose';
import type { Finding } from '../findings.js';
import { SignInError, type SignInResult } from '../oauth/sign-in.js';
import type { ClientStore, E2eOAuthProvider } from './provider.js';
import {
  ResponseIssuerError,
  type McpSession,
  type SdkClient,
  type StepUpAttempt,
  type ToolCallResult,
} from './sdk.js';
import { checkResponseIssuer } from './responses.js';
import { challengeParams, fail, pass, scopesOf, skip, STEP, warn } from './steps.js';
import type { Trace, TraceEntry } from './trace.js';

/** Sign-ins the flow performs for one step-up before it gives up. */
export const MAX_REAUTHORIZATIONS = 2;

/** The tool that needs more scope than the first sign-in asks for, and how to call it. */
export interface StepUpTool {
  name: string;
  arguments?: Record<string, unknown>;
  /**
   * The scopes it needs beside the resource's, when known (doctor reads them from `toolScopes`): a call that
   * succeeds although the token lacks them means the server does not enforce them (a warning).
   */
  scopes?: string[];
}

/** What the step-up did, for the report (never tokens or codes). */
export interface StepUpSummary {
  tool: string;
  /** Why the step-up did not run. */
  skipped?: string;
  /** The 403 challenge's parameters. */
  challenge?: { scope?: string; resourceMetadata?: string; errorDescription?: string };
  /** The `scope` of each re-authorization request, in order. */
  authorizationScopes: string[];
  /** Sign-ins performed for the step-up. */
  reauthorizations: number;
  /** The scope of the token the retried call carried. */
  tokenScope?: string[];
  result?: ToolCallResult;
}

export interface StepUpContext {
  sdk: SdkClient;
  session: McpSession;
  /** A new connection with the stored tokens (the v1 remedy: its transport remembers the refused challenge). */
  reconnect(): Promise<McpSession | undefined>;
  provider: E2eOAuthProvider;
  store: ClientStore;
  trace: Trace;
  serverUrl: string;
  tool: StepUpTool;
  username: string;
  signIn(authorizationUrl: URL): Promise<SignInResult>;
  checks: Finding[];
  /** Whether the AS advertises RFC 9207 iss, as the flow saw it (v1's schema drops the field from OpenID discovery). */
  issAdvertised: () => boolean;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The scope the stored token carries: the token response's `scope`, else the JWT's claim. */
function tokenScope(store: ClientStore): string[] {
  const tokens = store.tokens;
  if (!tokens) return [];
  if (typeof tokens.scope === 'string' && tokens.scope.trim() !== '') return scopesOf(tokens.scope);
  try {
    const claim = decodeJwt(tokens.access_token).scope;
    return typeof claim === 'string' ? scopesOf(claim) : [];
  } catch {
    return [];
  }
}

function quoted(scopes: string[]): string {
  return `"${scopes.join(' ')}"`;
}

function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

function describeCall(tool: StepUpTool): string {
  const args = tool.arguments ?? {};
  return `${tool.name}(${Object.values(args)
    .map((v) => JSON.stringify(v))
    .join(', ')})`;
}

/** The 403 insufficient_scope answers to the MCP endpoint after `from`. */
function refusals(trace: Trace, serverUrl: string, from: number): TraceEntry[] {
  const path = `${new URL(serverUrl).origin}${new URL(serverUrl).pathname}`;
  return trace.find(
    (e) => e.url === path && e.status === 403 && challengeParams(e.challenge)?.error === 'insufficient_scope',
    from,
  );
}

/** Which SDK line computed the requested scope, and how (the two lines differ). */
function computedBy(sdk: SdkClient): string {
  return sdk.line === 'v2'
    ? `computed by ${sdk.label}: the union of its scope, the token's scope and the challenge's (computeScopeUnion), a new authorization because the union exceeds the token's scope`
    : `computed by ${sdk.label}: the challenge's scope as is (v1 computes no union; nothing is lost when the challenge names the base scope too, as this server's does)`;
}

/** Runs the step-up and pushes its three findings; returns the session to close (v1 may have reconnected). */
export async function runStepUp(ctx: StepUpContext): Promise<{ session: McpSession; summary: StepUpSummary }> {
  const { sdk, store, trace, serverUrl, tool, checks } = ctx;
  let session = ctx.session;
  const summary: StepUpSummary = { tool: tool.name, authorizationScopes: [], reauthorizations: 0 };
  const args = tool.arguments ?? {};
  const call = describeCall(tool);
  const before = tokenScope(store);
  const mark = trace.entries.length;
  let attempt: StepUpAttempt = await session.callToolForStepUp(tool.name, args);

  const refused = refusals(trace, serverUrl, mark)[0];
  if (!refused) {
    if (attempt.kind === 'result') {
      const lacking = (tool.scopes ?? []).filter((s) => !before.includes(s));
      checks.push(
        lacking.length > 0
          ? warn(
              STEP.stepUpChallenge,
              `${call} succeeded with a token without ${lacking.join(' ')} (scope ${quoted(before)}): the server does not enforce the tool's scopes`,
              'Start the server with the config\u2019s toolScopes (`serve` reads them), or enforce the scope in your server.',
            )
          : skip(
              STEP.stepUpChallenge,
              `not needed: the server accepted the call with the current token (scope ${quoted(before)})`,
            ),
      );
      checks.push(skip(STEP.stepUpReauthorize, 'not needed: no 403 insufficient_scope'));
      summary.result = attempt.result;
      summary.tokenScope = before;
      checks.push(resultFinding(call, attempt.result));
      return { session, summary };
    }
    const answer = trace
      .find((e) => e.url === `${new URL(serverUrl).origin}${new URL(serverUrl).pathname}` && e.bearer, mark)
      .at(-1);
    const seen = answer
      ? `HTTP ${answer.status ?? '?'}${answer.challenge ? ` with WWW-Authenticate: ${answer.challenge}` : ''}`
      : 'no answer';
    checks.push(
      fail(
        STEP.stepUpChallenge,
        `${call}: ${attempt.kind === 'error' ? attempt.message : 'the SDK asked for a sign-in'} (${seen}), not a 403 insufficient_scope`,
      ),
    );
    checks.push(skip(STEP.stepUpReauthorize), skip(STEP.stepUpCall));
    return { session, summary };
  }

  const params = challengeParams(refused.challenge) ?? {};
  const challengeScopes = scopesOf(params.scope);
  summary.challenge = {
    ...(params.scope !== undefined ? { scope: params.scope } : {}),
    ...(params.resource_metadata !== undefined ? { resourceMetadata: params.resource_metadata } : {}),
    ...(params.error_description !== undefined ? { errorDescription: params.error_description } : {}),
  };
  const challengeText = `HTTP 403 to ${call}: scope "${params.scope ?? ''}", resource_metadata ${params.resource_metadata ?? '(none)'}${params.error_description ? `, error_description "${params.error_description}"` : ''}`;
  checks.push(
    challengeScopes.length === 0
      ? warn(
          STEP.stepUpChallenge,
          `${challengeText}: no scope named, so clients cannot know what to ask for`,
          STEP.stepUpChallenge.fix,
        )
      : pass(STEP.stepUpChallenge, challengeText),
  );

  const expected = union(before, challengeScopes);
  let v1Refresh: string | undefined;
  const consent: boolean[] = [];
  /** Where the trace stood when the call was last retried with a new token. */
  let lastRetry = trace.entries.length;
  /** Why the server still refuses after `n` re-authorizations: what Keycloak put in the token. */
  const stillRefused = (n: number): string => {
    const granted = tokenScope(store);
    const lacking = challengeScopes.filter((s) => !granted.includes(s));
    const requests = summary.authorizationScopes.map((s) => `"${s}"`).join(', ');
    const why =
      lacking.length > 0
        ? `Keycloak issued ${n === 1 ? 'a token' : 'tokens'} without ${lacking.join(' ')} (token scope ${quoted(granted)}) although the request${n === 1 ? '' : 's'} (scope ${requests}) asked for it: the client scope must have "Include in token scope" on`
        : `the token carried ${quoted(granted)} (requested scope ${requests}), yet the server still refused`;
    return `${why}; the server answered 403 insufficient_scope to the retried call${n === 1 ? '' : ' each time'}`;
  };
  while (attempt.kind !== 'result') {
    if (attempt.kind === 'error') {
      // v1 tries its refresh token first (it never forces a new authorization); a refresh cannot add a scope, so
      // the retry meets the same challenge and v1 gives up. A host must drop the refresh token and call again.
      if (
        sdk.line === 'v1' &&
        v1Refresh === undefined &&
        /after trying upscoping/i.test(attempt.message) &&
        store.tokens?.refresh_token
      ) {
        v1Refresh = attempt.message;
        const { refresh_token: _dropped, ...rest } = store.tokens;
        store.tokens = rest;
        await session.close().catch(() => undefined);
        const again = await ctx.reconnect().catch(() => undefined);
        if (!again) {
          checks.push(
            fail(
              STEP.stepUpReauthorize,
              `${sdk.label} refreshed instead of re-authorizing and gave up ("${v1Refresh}"); connecting again without the refresh token failed`,
            ),
          );
          checks.push(skip(STEP.stepUpCall));
          return { session, summary };
        }
        session = again;
        attempt = await session.callToolForStepUp(tool.name, args);
        continue;
      }
      if (summary.reauthorizations > 0 && refusals(trace, serverUrl, lastRetry).length > 0) {
        // Refused again with the new token, and the SDK stopped (v1 does not re-authorize twice for one challenge).
        checks.push(
          fail(
            STEP.stepUpReauthorize,
            `${stillRefused(summary.reauthorizations)}; then ${sdk.label} gave up: ${attempt.message}`,
          ),
        );
        checks.push(skip(STEP.stepUpCall, `not run: the server still refuses ${call}`));
        summary.tokenScope = tokenScope(store);
        return { session, summary };
      }
      checks.push(
        fail(summary.reauthorizations === 0 ? STEP.stepUpReauthorize : STEP.stepUpCall, `${call}: ${attempt.message}`),
      );
      if (summary.reauthorizations === 0) checks.push(skip(STEP.stepUpCall));
      return { session, summary };
    }

    if (summary.reauthorizations >= MAX_REAUTHORIZATIONS) {
      checks.push(
        fail(
          STEP.stepUpReauthorize,
          `stopped after ${MAX_REAUTHORIZATIONS} re-authorizations, the most the flow allows: ${stillRefused(summary.reauthorizations)}`,
        ),
      );
      checks.push(skip(STEP.stepUpCall, `not run: the server still refuses ${call}`));
      summary.tokenScope = tokenScope(store);
      return { session, summary };
    }

    const url = ctx.provider.authorizationUrl;
    if (!url) {
      checks.push(fail(STEP.stepUpReauthorize, 'the SDK asked for a sign-in but built no authorization URL'));
      checks.push(skip(STEP.stepUpCall));
      return { session, summary };
    }
    const requested = url.searchParams.get('scope') ?? '';
    summary.authorizationScopes.push(requested);
    summary.reauthorizations += 1;
    let callback: URLSearchParams;
    try {
      const result = await ctx.signIn(url);
      consent.push(result.consentShown);
      callback = result.callback;
    } catch (error) {
      const text = message(error);
      const refusedScope = /error=invalid_scope\b/.test(text);
      const explained = refusedScope
        ? `Keycloak refused the re-authorization request (scope "${requested}"): ${text}. The registered client may not request ${challengeScopes.filter((s) => !before.includes(s)).join(' ') || 'the new scope'}: a registration's scope becomes the client's only optional client scopes in Keycloak`
        : `re-authorization (scope "${requested}") failed at ${error instanceof SignInError ? error.step : 'sign-in'}: ${text}`;
      checks.push(fail(STEP.stepUpReauthorize, explained));
      checks.push(skip(STEP.stepUpCall));
      return { session, summary };
    }
    if (!ctx.provider.stateMatches(callback.get('state'))) {
      checks.push(
        fail(
          STEP.stepUpReauthorize,
          'the redirect carried a different `state` than the request: possible CSRF or a mixed-up session',
        ),
      );
      checks.push(skip(STEP.stepUpCall));
      return { session, summary };
    }
    if (!sdk.checksResponseIssuer) {
      // v1 does not compare iss; as for the first sign-in, the flow does before the code is redeemed.
      const metadata = store.discovery?.authorizationServerMetadata;
      const verdict = checkResponseIssuer(
        callback.get('iss') ?? undefined,
        metadata?.issuer,
        metadata?.authorization_response_iss_parameter_supported === true || ctx.issAdvertised(),
      );
      if (!verdict.ok) {
        checks.push(
          fail(
            STEP.stepUpReauthorize,
            `the redirect's iss is ${verdict.problem === 'missing' ? 'missing' : 'not the issuer'} (expected ${verdict.expected}); the code was not redeemed`,
          ),
        );
        checks.push(skip(STEP.stepUpCall));
        return { session, summary };
      }
    }
    try {
      await session.finishAuth(callback);
    } catch (error) {
      const text =
        error instanceof ResponseIssuerError
          ? `${sdk.label} refused the redirect's iss in finishAuth: ${error.message}`
          : `finishAuth failed: ${message(error)}`;
      checks.push(fail(STEP.stepUpReauthorize, text));
      checks.push(skip(STEP.stepUpCall));
      return { session, summary };
    }
    lastRetry = trace.entries.length;
    attempt = await session.callToolForStepUp(tool.name, args);
  }

  const granted = tokenScope(store);
  summary.tokenScope = granted;
  summary.result = attempt.result;
  const first = scopesOf(summary.authorizationScopes[0]);
  const missing = expected.filter((s) => !first.includes(s));
  const signIns = `${summary.reauthorizations} sign-in${summary.reauthorizations === 1 ? '' : 's'} as ${ctx.username} (${consent.map((c) => (c ? 'consent page shown and accepted' : 'no consent page')).join('; ') || 'none'})`;
  const requestedText = `requested scope "${summary.authorizationScopes[0] ?? ''}"`;
  const text = `${requestedText}, ${computedBy(sdk)}; ${signIns}; new token scope ${quoted(granted)}`;
  if (summary.reauthorizations === 0) {
    checks.push(
      pass(
        STEP.stepUpReauthorize,
        `${sdk.label} got a token that covers the challenge without a new sign-in; token scope ${quoted(granted)}`,
      ),
    );
  } else if (missing.length > 0) {
    checks.push(
      fail(
        STEP.stepUpReauthorize,
        `${text}: the request lacks ${missing.join(' ')}, so it is not the union of the old scope ${quoted(before)} and the challenge's "${params.scope ?? ''}"`,
      ),
    );
  } else if (v1Refresh !== undefined) {
    checks.push(
      warn(
        STEP.stepUpReauthorize,
        `${sdk.label} first used its refresh token (a refresh cannot add a scope), met the same 403 and gave up ("${v1Refresh}"); the flow, as a host must, dropped the refresh token and called again on a new connection. Then: ${text}`,
        'A host embedding the v1 SDK must drop the refresh token (or the tokens) when a call fails this way and call again; the v2 SDK (@modelcontextprotocol/client) skips the refresh when the union exceeds the token\u2019s scope.',
      ),
    );
  } else {
    checks.push(pass(STEP.stepUpReauthorize, text));
  }
  checks.push(resultFinding(call, attempt.result));
  return { session, summary };
}

function resultFinding(call: string, result: ToolCallResult): Finding {
  const shown = result.value !== undefined ? String(result.value) : JSON.stringify(result.text ?? '');
  return result.isError
    ? fail(STEP.stepUpCall, `${call} answered with an error: ${result.text ?? '(no text)'}`)
    : pass(STEP.stepUpCall, `${call} = ${shown}`);
}
