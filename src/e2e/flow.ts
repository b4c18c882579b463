/**
 * The whole chain as one function, the way a real MCP client lives it: connect with nothing but the
 * server URL, get challenged, discover, register, send the user to Keycloak, redeem the code, connect
 * again and call tools. Every step becomes a check; the first failure stops the run and the rest are
 * skipped, so the report points at the broken link. Used by the e2e tests and by `doctor --e2e`.
 */
import { decodeJwt } from 'jose';
import type { OAuthClientMetadata } from '@modelcontextprotocol/client';
import type { Finding } from '../findings.js';
import { captureRegistration } from './cleanup.js';
import { describeBinding, offersDpop, type DpopChoice } from './dpop.js';
import { ClientStore, E2eOAuthProvider } from './provider.js';
import { recordRegistrationScope, registerWithPrmScopes, type RegistrationScope } from './registration.js';
import { loadSdk, ResponseIssuerError, type McpSession, type SdkLine } from './sdk.js';
import { reauthorizeAfter401 } from './reauthorize.js';
import { runStepUp, type StepUpSummary, type StepUpTool } from './step-up.js';
import {
  checkResponseIssuer,
  invalidTargetFix,
  readResponseIssuer,
  readTokenError,
  watchAsMetadata,
  type IssVerdict,
} from './responses.js';
import {
  challengedScopes,
  fail,
  pass,
  readAsMetadata,
  readAuthorizationUrl,
  readChallenge,
  readPrm,
  readRegistration,
  skip,
  STEP,
  STEP_UP_ORDER,
  warn,
} from './steps.js';
import { Trace } from './trace.js';
import { signIn, SignInError } from '../oauth/sign-in.js';

export interface E2eOptions {
  /** The MCP endpoint, exactly as a user would paste it into a client. */
  serverUrl: string;
  username: string;
  password: string;
  /** Which SDK client line plays the client; default v2. */
  sdk?: SdkLine;
  /** Pass the same store again to act as the same installed client (registration and tokens kept). */
  store?: ClientStore;
  clientMetadata?: OAuthClientMetadata;
  /**
   * The https URL of a Client ID Metadata Document the client publishes (CIMD): with it the SDK uses that URL as
   * its client_id instead of registering, when Keycloak advertises `client_id_metadata_document_supported`.
   * `e2e.register` then reports "client_id is the metadata document URL; no registration POST".
   */
  clientMetadataUrl?: string;
  fetch?: typeof fetch;
  /**
   * A tool that needs more scope than the first sign-in asks for (step-up). After the calculator the flow calls
   * it, expects 403 insufficient_scope, lets the SDK re-authorize (the user signs in again, at most
   * MAX_REAUTHORIZATIONS times) and retries the call: findings `e2e.step-up.challenge`, `.reauthorize`, `.call`.
   * Without it the step-up does not run and adds no findings (`report.stepUp.skipped` says so).
   */
  stepUpTool?: StepUpTool;
  /**
   * Which scope the client registers with (RFC 7591 `scope`); with Keycloak it decides whether a step-up can work,
   * because a registration's scope becomes the client's only optional client scopes (registration.ts).
   * - `prm-scopes` (default): the SDK's scope plus the PRM's `scopes_supported`, as VS Code registers.
   * - `challenge`: the SDK's own choice, untouched: the 401's `scope` (else the PRM's), plus `offline_access` when
   *   the AS lists it; the MCP spec's scope selection, as the Python SDK (`mcp` 2.x) registers too.
   */
  registration?: RegistrationStrategy;
  /**
   * DPoP (RFC 9449, v2 SDK only): `true` binds the tokens to a key the client holds (a proof on the token request,
   * `Authorization: DPoP` plus a proof on every MCP request); `false` never does; `auto` (default) does when the
   * PRM says `dpop_bound_access_tokens_required` or the server's 401 offers the DPoP scheme. A realm made with `apply --require-dpop` needs `true`: Keycloak
   * does not advertise that it requires DPoP of its clients.
   */
  dpop?: DpopChoice;
}

/** How the client picks its registration's `scope` (see `E2eOptions.registration`). */
export type RegistrationStrategy = 'prm-scopes' | 'challenge';

export interface TokenSummary {
  aud: string[];
  scope: string[];
  azp?: string;
  lifetimeSeconds?: number;
}

export interface E2eReport {
  ok: boolean;
  sdk: SdkLine;
  serverUrl: string;
  checks: Finding[];
  durationMs: number;
  /** Time spent by the headless user on Keycloak's pages (login + consent). */
  signInMs?: number;
  clientId?: string;
  /** This run sent a registration request. */
  registered: boolean;
  /** This run signed the user in (false when stored tokens were still accepted). */
  signedIn: boolean;
  protocolVersion?: string;
  tools?: string[];
  token?: TokenSummary;
  calculatorResult?: number;
  /** The `scope` of every authorization request of the run, in order: the first sign-in's, then the step-up's. */
  authorizationScopes: string[];
  /** What the step-up did, or why it did not run. */
  stepUp?: StepUpSummary;
  /** The client sent DPoP proofs (its tokens are bound to its key when Keycloak answered token_type DPoP). */
  dpop?: boolean;
}

const ORDER = [
  STEP.challenge,
  STEP.prm,
  STEP.asMetadata,
  STEP.register,
  STEP.authorizeUrl,
  STEP.signIn,
  STEP.consent,
  STEP.iss,
  STEP.token,
  STEP.claims,
  STEP.connect,
  STEP.tools,
  STEP.calculator,
];

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads aud and scope without verifying the signature: the MCP server verifies; this only reports. */
export function summarizeToken(accessToken: string): TokenSummary | undefined {
  try {
    const claims = decodeJwt(accessToken);
    const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const scope = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    const summary: TokenSummary = { aud, scope };
    if (typeof claims.azp === 'string') summary.azp = claims.azp;
    if (claims.exp !== undefined && claims.iat !== undefined) summary.lifetimeSeconds = claims.exp - claims.iat;
    return summary;
  } catch {
    return undefined; // an opaque token: only introspection can read it
  }
}

/** The v2 SDK accepted the callback's iss; the flow's own reading of it says what it was (they apply one rule). */
function sdkAccepted(verdict: IssVerdict): Finding {
  if (verdict.ok) return readResponseIssuer(verdict, 'sdk-v2');
  return warn(
    STEP.iss,
    `@modelcontextprotocol/client (v2) accepted the redirect in finishAuth, but by RFC 9207 §2.4 its iss is ${verdict.problem === 'missing' ? 'missing' : 'not the issuer'} (expected ${verdict.expected})`,
  );
}

/** `e2e.register` names the scope the client registered with, and whose choice it was (registration.ts). */
function withRegistrationScope(finding: Finding, seen: RegistrationScope): Finding {
  if (finding.status === 'fail') return finding;
  if (seen.sent) {
    const sdk = seen.sdk === undefined ? 'no scope' : `"${seen.sdk}"`;
    return {
      ...finding,
      actual: `${finding.actual}; registered with scope "${seen.sent}": the SDK's ${sdk} plus the PRM's scopes_supported ${seen.added.join(' ')}, as VS Code registers`,
    };
  }
  if (seen.strategy !== 'challenge' || seen.sdk === undefined) return finding;
  return {
    ...finding,
    actual: `${finding.actual}; registered with the SDK's own scope "${seen.sdk}" (the 401's scope: MCP scope selection, as the Python SDK registers)`,
  };
}

/** Runs the chain once as the chosen SDK line; never throws: every failure is the finding of the step it broke. */
export async function runE2e(options: E2eOptions): Promise<E2eReport> {
  const started = Date.now();
  const serverUrl = options.serverUrl;
  const line = options.sdk ?? 'v2';
  const store = options.store ?? new ClientStore();
  const provider = new E2eOAuthProvider(
    store,
    options.clientMetadata,
    undefined,
    options.clientMetadataUrl,
    options.dpop ?? 'auto',
  );
  const trace = new Trace();
  const mcpUrl = new URL(serverUrl);
  provider.challengeOffersDpop = () => offersDpop(trace.entries, `${mcpUrl.origin}${mcpUrl.pathname}`);
  const issAdvertised = { value: false };
  const registrationScope: RegistrationScope = { added: [], strategy: options.registration ?? 'prm-scopes' };
  const watched = watchAsMetadata(issAdvertised, line === 'v1', options.fetch ?? fetch);
  const registering =
    options.registration === 'challenge'
      ? recordRegistrationScope(store, registrationScope, watched)
      : registerWithPrmScopes(store, registrationScope, watched);
  const fetchFn = trace.wrap(captureRegistration(store, registering));
  const checks: Finding[] = [];
  const report: E2eReport = {
    ok: false,
    sdk: line,
    serverUrl,
    checks,
    durationMs: 0,
    registered: false,
    signedIn: false,
    authorizationScopes: [],
  };
  const order = options.stepUpTool ? [...ORDER, ...STEP_UP_ORDER] : ORDER;
  if (!options.stepUpTool)
    report.stepUp = { tool: '', skipped: 'no step-up tool configured', authorizationScopes: [], reauthorizations: 0 };
  const hadRegistration = store.clientInformation !== undefined;
  const hadTokens = store.tokens !== undefined;
  const hadDiscovery = store.discovery !== undefined;
  const registrationsBefore = store.registrations;
  const done = (): E2eReport => {
    for (const spec of order.slice(checks.length)) checks.push(skip(spec));
    report.ok = checks.every((c) => c.status !== 'fail');
    report.dpop = store.dpopKeys.created;
    report.durationMs = Date.now() - started;
    return report;
  };
  const failed = () => checks.some((c) => c.status === 'fail');
  const issuer = () => store.discovery?.authorizationServerMetadata?.issuer;

  let session: McpSession | undefined;
  try {
    const sdk = await loadSdk(line);
    let outcome;
    let connectError: string | undefined;
    try {
      outcome = await sdk.connect(new URL(serverUrl), provider, fetchFn);
    } catch (error) {
      connectError = message(error);
    }
    report.registered = store.registrations > registrationsBefore;
    if (store.clientInformation) report.clientId = store.clientInformation.client_id;

    if (outcome?.kind === 'connected' && hadTokens) {
      // The stored token was accepted: nothing to discover, register or sign in.
      for (const spec of ORDER.slice(0, ORDER.indexOf(STEP.connect)))
        checks.push(skip(spec, 'not needed: the stored access token was accepted'));
      session = outcome.session;
    } else {
      // MCP scope selection: the 401's scope, else the PRM's scopes_supported (which also lists step-up scopes).
      const scopes = challengedScopes(trace, serverUrl, 0) ?? store.discovery?.resourceMetadata?.scopes_supported ?? [];
      if (provider.authorizationUrl)
        report.authorizationScopes.push(provider.authorizationUrl.searchParams.get('scope') ?? '');
      for (const read of [
        () => readChallenge(trace, serverUrl, 0),
        () => readPrm(trace, serverUrl, store.discovery, 0, hadDiscovery, connectError),
        () =>
          readAsMetadata(store.discovery, connectError, {
            registered: hadRegistration,
            ...(options.clientMetadataUrl ? { metadataUrl: options.clientMetadataUrl } : {}),
          }),
        () =>
          withRegistrationScope(
            readRegistration(
              trace,
              store.discovery,
              report.clientId,
              hadRegistration,
              0,
              connectError,
              options.clientMetadataUrl,
            ),
            registrationScope,
          ),
        () => readAuthorizationUrl(provider.authorizationUrl, serverUrl, scopes, connectError),
      ]) {
        checks.push(read());
        if (failed()) return done();
      }
      if (outcome?.kind !== 'authorize') {
        // Every reading passed, yet no sign-in was asked for: name the failure at the next step.
        checks.push(
          fail(
            order[checks.length]!,
            connectError ?? 'the client connected without a token although the server had challenged it',
          ),
        );
        return done();
      }

      // The user's part, then the SDK redeems the code.
      const signInStarted = Date.now();
      let callback: URLSearchParams;
      try {
        const result = await signIn({
          authorizationUrl: provider.authorizationUrl!,
          redirectUri: provider.redirectUri,
          username: options.username,
          password: options.password,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
        report.signInMs = Date.now() - signInStarted;
        report.signedIn = true;
        callback = result.callback;
        if (!provider.stateMatches(callback.get('state'))) {
          checks.push(
            fail(
              STEP.signIn,
              'the redirect carried a different `state` than the request: possible CSRF or a mixed-up session',
            ),
          );
          return done();
        }
        checks.push(pass(STEP.signIn, `signed in as ${options.username} in ${result.requests} requests`));
        checks.push(
          pass(
            STEP.consent,
            result.consentShown
              ? 'consent page shown and accepted; code received'
              : 'no consent page (already granted); code received',
          ),
        );
      } catch (error) {
        const step = error instanceof SignInError && error.step === 'consent' ? 'consent' : 'signIn';
        if (step === 'consent') checks.push(pass(STEP.signIn, `signed in as ${options.username}`));
        // An error redirect with invalid_target: Keycloak (resource indicators) refused the `resource` of the request.
        const fix = /error=invalid_target\b/.test(message(error))
          ? invalidTargetFix(message(error), serverUrl, issuer(), 'authorize')
          : undefined;
        checks.push(fail(STEP[step], message(error), fix));
        return done();
      }

      // RFC 9207: the v2 SDK compares the callback's iss itself in finishAuth; for v1, which does not, the flow does, before the code is redeemed.
      const metadata = store.discovery?.authorizationServerMetadata;
      const advertised = metadata?.authorization_response_iss_parameter_supported === true || issAdvertised.value;
      const verdict = checkResponseIssuer(callback.get('iss') ?? undefined, metadata?.issuer, advertised);
      if (!sdk.checksResponseIssuer) {
        checks.push(readResponseIssuer(verdict, 'flow', report.clientId));
        if (failed()) return done();
      }
      const beforeToken = trace.entries.length;
      try {
        await outcome.finishAuth(callback);
      } catch (error) {
        if (error instanceof ResponseIssuerError) {
          checks.push(
            readResponseIssuer(
              {
                ok: false,
                problem: error.received === undefined ? 'missing' : 'mismatch',
                expected: error.expected,
                ...(error.received === undefined ? {} : { received: error.received }),
              },
              'sdk-v2',
              report.clientId,
            ),
          );
          return done();
        }
        const tokenEndpoint = metadata?.token_endpoint;
        const tokenAnswer =
          tokenEndpoint === undefined
            ? undefined
            : trace.find((e) => e.method === 'POST' && e.url === tokenEndpoint, beforeToken).at(-1);
        // The SDK compares iss before it calls the token endpoint: a token request means its check passed.
        if (sdk.checksResponseIssuer)
          checks.push(
            tokenAnswer
              ? sdkAccepted(verdict)
              : skip(STEP.iss, 'not checked: finishAuth failed before the SDK compared iss (see the next step)'),
          );
        const grantTypes =
          (store.clientInformation as { grant_types?: string[] } | undefined)?.grant_types ??
          (options.clientMetadataUrl ? undefined : provider.clientMetadata.grant_types);
        checks.push(
          readTokenError(error, message(error), serverUrl, issuer(), {
            ...(tokenAnswer?.status ? { status: tokenAnswer.status } : {}),
            ...(grantTypes ? { grantTypes } : {}),
          }),
        );
        return done();
      }
      if (sdk.checksResponseIssuer) checks.push(sdkAccepted(verdict));
      const tokens = store.tokens;
      if (!tokens?.access_token) {
        checks.push(fail(STEP.token, 'the SDK saved no access token'));
        return done();
      }
      checks.push(
        pass(
          STEP.token,
          `token_type ${tokens.token_type}, expires_in ${tokens.expires_in ?? '?'} s${tokens.refresh_token ? ', with a refresh token' : ''}${await describeBinding(tokens, store.dpopKeys)}`,
        ),
      );

      const summary = summarizeToken(tokens.access_token);
      if (!summary) {
        checks.push(
          warn(
            STEP.claims,
            'the access token is not a JWT: aud and scope cannot be read here (the server must introspect it)',
          ),
        );
      } else {
        report.token = summary;
        const missing = scopes.filter((s) => !summary.scope.includes(s));
        const actual = `aud ${JSON.stringify(summary.aud)}, scope "${summary.scope.join(' ')}"`;
        if (!summary.aud.includes(serverUrl))
          checks.push(fail(STEP.claims, `${actual}: the MCP URL ${serverUrl} is not an audience`));
        else if (missing.length > 0) checks.push(fail(STEP.claims, `${actual}: missing ${missing.join(' ')}`));
        else checks.push(pass(STEP.claims, actual));
      }
      if (failed()) return done();

      const mark = trace.entries.length;
      const again = await sdk.connect(new URL(serverUrl), provider, fetchFn);
      if (again.kind !== 'connected') {
        const answer = trace.find((e) => e.bearer, mark)[0];
        checks.push(
          fail(
            STEP.connect,
            `the server rejected the new token: HTTP ${answer?.status ?? '?'} ${answer?.challenge ?? ''}`.trim(),
          ),
        );
        return done();
      }
      session = again.session;
    }

    report.protocolVersion = session.protocolVersion ?? 'unknown';
    checks.push(
      pass(
        STEP.connect,
        `${sdk.label} connected to ${session.serverName ?? 'the server'}, protocol ${report.protocolVersion}`,
      ),
    );
    const signInAgain = async (authorizationUrl: URL) => {
      const result = await signIn({
        authorizationUrl,
        redirectUri: provider.redirectUri,
        username: options.username,
        password: options.password,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      report.signedIn = true;
      return result;
    };
    let tools: string[];
    let reauthorized = '';
    try {
      tools = await session.listTools();
    } catch (error) {
      if (!session.refusedToken(error)) throw error;
      // A 401 after the connection (the token was revoked, or the server moved to another authorization server).
      await session.close().catch(() => undefined);
      const again = await reauthorizeAfter401({
        sdk,
        provider,
        store,
        serverUrl,
        fetchFn,
        signIn: signInAgain,
        issAdvertised: () => issAdvertised.value,
      });
      session = again.session;
      reauthorized = ` (${again.note})`;
      tools = await session.listTools();
    }
    const connected = session;
    report.tools = tools;
    checks.push(
      tools.length > 0
        ? pass(STEP.tools, `${tools.join(', ')}${reauthorized}`)
        : warn(STEP.tools, `the server lists no tools${reauthorized}`),
    );
    if (!tools.includes('add_numbers') || !tools.includes('multiply_numbers')) {
      checks.push(skip(STEP.calculator, 'the server has no calculator tools (the reference server has)'));
    } else {
      const sum = await connected.callTool('add_numbers', { a: 12.5, b: 7.25 });
      const product =
        sum.value === undefined ? undefined : await connected.callTool('multiply_numbers', { a: sum.value, b: 3 });
      report.calculatorResult = product?.value;
      checks.push(
        product?.value === 59.25
          ? pass(STEP.calculator, `19.75, then 59.25`)
          : fail(STEP.calculator, `add_numbers gave ${sum.text ?? '?'}, multiply_numbers gave ${product?.text ?? '?'}`),
      );
    }
    if (failed() || !options.stepUpTool) return done();

    const stepUpTool = options.stepUpTool;
    if (!tools.includes(stepUpTool.name)) {
      report.stepUp = {
        tool: stepUpTool.name,
        skipped: `the server does not list ${stepUpTool.name}`,
        authorizationScopes: [],
        reauthorizations: 0,
      };
      for (const spec of STEP_UP_ORDER)
        checks.push(skip(spec, `not run: the server does not list the step-up tool ${stepUpTool.name}`));
      return done();
    }
    const stepUp = await runStepUp({
      sdk,
      session: connected,
      reconnect: async () => {
        const again = await sdk.connect(new URL(serverUrl), provider, fetchFn);
        return again.kind === 'connected' ? again.session : undefined;
      },
      provider,
      store,
      trace,
      serverUrl,
      tool: stepUpTool,
      username: options.username,
      issAdvertised: () => issAdvertised.value,
      signIn: signInAgain,
      checks,
    });
    session = stepUp.session;
    report.stepUp = stepUp.summary;
    report.authorizationScopes.push(...stepUp.summary.authorizationScopes);
  } catch (error) {
    const next = order[checks.length];
    if (next) checks.push(fail(next, message(error)));
  } finally {
    await session?.close().catch(() => undefined);
  }
  return done();
}
