/**
 * The steps of the chain as specs, the finding each step yields (the same `Finding` doctor prints: what was
 * expected, what happened, why it matters and how to fix it), and the pure readings of the SDK's wire trace
 * and stored state that decide them. A step after a failed one is `skip`, so a user sees the first broken
 * link, not a cascade. Kept apart from the flow so each reading is testable without a network.
 */
import type { OAuthDiscoveryState } from '@modelcontextprotocol/client';
import type { Finding, Status } from '../findings.js';
import type { Trace, TraceEntry } from './trace.js';
import { bearerChallenge } from '../oauth/www-authenticate.js';
import { command } from '../ui/invocation.js';

/** One step of the chain: what the finding for it says whatever happened. */
export interface StepSpec {
  id: string;
  title: string;
  expected: string;
  why: string;
  /** The fix a failure of this step gets unless the reading names a better one. */
  fix?: string;
}

function finding(spec: StepSpec, status: Status, actual: string): Finding {
  const { id, title, expected, why, fix } = spec;
  const result: Finding = { id, title, status, expected, actual, why };
  if (fix && status !== 'pass') result.fix = fix;
  return result;
}

function withFix(result: Finding, fix: string | undefined): Finding {
  return fix ? { ...result, fix } : result;
}

/** The step passed; `actual` says what was seen. */
export function pass(spec: StepSpec, actual: string): Finding {
  return finding(spec, 'pass', actual);
}

/** The step works with a caveat; `fix`, when given, replaces the spec's. */
export function warn(spec: StepSpec, actual: string, fix?: string): Finding {
  return withFix(finding(spec, 'warn', actual), fix);
}

/** The step failed; `fix`, when given, replaces the spec's. */
export function fail(spec: StepSpec, actual: string, fix?: string): Finding {
  return withFix(finding(spec, 'fail', actual), fix);
}

/** The step did not run (by default because an earlier one failed); a skip carries no fix. */
export function skip(spec: StepSpec, actual = 'not run: an earlier step failed'): Finding {
  const { fix: _fix, ...rest } = finding(spec, 'skip', actual);
  return rest;
}

export const STEP = {
  challenge: {
    id: 'e2e.challenge',
    title: 'MCP server challenges an unauthenticated request',
    expected: 'HTTP 401 with WWW-Authenticate: Bearer resource_metadata="…"',
    why: 'A client finds the authorization server only through this challenge (MCP authorization; RFC 9728 §5.1).',
    fix: `Verify bearer tokens in front of the MCP endpoint and answer 401 with resource_metadata; \`${command('serve')}\` shows how.`,
  },
  prm: {
    id: 'e2e.prm',
    title: 'Protected Resource Metadata',
    expected: '200 JSON with `resource` = the MCP URL and `authorization_servers` = the realm issuer',
    why: 'Clients compare `resource` to the URL they use, byte for byte, and sign in at the listed issuer (RFC 9728).',
    fix: 'Serve /.well-known/oauth-protected-resource/<path> from the MCP server with the exact MCP URL and the realm issuer.',
  },
  asMetadata: {
    id: 'e2e.as-metadata',
    title: "Keycloak's authorization server metadata",
    expected:
      'RFC 8414 / OpenID metadata with PKCE S256 and a registration_endpoint (unless the client is registered already or its client_id is a metadata document URL)',
    why: 'The client reads the authorize, token and registration endpoints from it.',
    fix: 'Check that the issuer in the PRM is the realm URL (http://host/realms/<realm>) and that Keycloak is reachable from the client.',
  },
  register: {
    id: 'e2e.register',
    title: "Dynamic client registration with VS Code's request",
    expected: '201 with a client_id (or the stored registration reused)',
    why: 'MCP clients are not pre-registered: they register themselves on first use (RFC 7591).',
    fix: `Run \`${command('apply')}\` (it removes the anonymous Trusted Hosts policy and allows the MCP scope), or see the policy named in the error.`,
  },
  authorizeUrl: {
    id: 'e2e.authorize-url',
    title: 'Authorization request built by the SDK',
    expected: 'PKCE S256, `resource` = the MCP URL, the MCP scope',
    why: 'PKCE is mandatory for MCP clients; `resource` (RFC 8707) binds the token to this server.',
  },
  signIn: {
    id: 'e2e.sign-in',
    title: "Test user signs in on Keycloak's login page",
    expected: 'login form accepted, redirect towards the client',
    why: 'This is what a user does in the browser; a failure here is what they would see.',
    fix: `Check the test user (\`${command('apply --test-user NAME')}\` with MCP_KEYCLOAK_TEST_USER_PASSWORD) and its required actions.`,
  },
  consent: {
    id: 'e2e.consent',
    title: 'Consent screen accepted',
    expected: 'consent page (registered clients require consent) accepted, code returned',
    why: 'Keycloak asks users to approve dynamically registered clients before issuing a code.',
  },
  iss: {
    id: 'e2e.iss',
    title: 'Authorization response names the issuer (RFC 9207)',
    expected:
      '`iss` in the redirect equals the issuer of the metadata (required when it advertises authorization_response_iss_parameter_supported)',
    why: 'A client that follows RFC 9207 (the MCP SDK v2) refuses a response whose iss is missing or differs: it may come from another server (a mix-up attack). The code is not redeemed then.',
  },
  token: {
    id: 'e2e.token',
    title: 'Authorization code exchanged for tokens',
    expected: 'token endpoint answers 200 with an access token',
    why: 'The SDK redeems the code with the PKCE verifier and the same `resource`.',
    fix: "Read the error: invalid_grant usually means a redirect_uri or PKCE mismatch; invalid_target a `resource` Keycloak does not know (resource indicators); an issuer mismatch means the PRM names a different URL than Keycloak's issuer.",
  },
  claims: {
    id: 'e2e.claims',
    title: "Access token's audience and scope",
    expected: '`aud` contains the MCP URL; `scope` contains the MCP scope(s)',
    why: 'The MCP server must reject tokens meant for other audiences (MCP spec; RFC 8707), and checks the scope.',
    fix: `Run \`${command('apply')}\`: it puts an Audience mapper for the MCP URL on the scope and makes the scope a realm default.`,
  },
  connect: {
    id: 'e2e.connect',
    title: 'Authenticated MCP connection',
    expected: 'the MCP server accepts the token and completes the handshake',
    why: 'This is the first request a signed-in client makes.',
    fix: `Read the server's WWW-Authenticate error: its issuer, audience and scope settings must match the realm (\`${command('doctor')}\`).`,
  },
  tools: {
    id: 'e2e.tools',
    title: 'tools/list',
    expected: 'the server lists its tools',
    why: 'Clients show users the tools they may call.',
  },
  calculator: {
    id: 'e2e.calculator',
    title: 'add_numbers(12.5, 7.25), then multiply_numbers(…, 3)',
    expected: '59.25',
    why: "The seed's example prompt: two tool calls with one token.",
  },
  stepUpChallenge: {
    id: 'e2e.step-up.challenge',
    title: "Step-up: a tool beyond the token's scope is refused with 403 insufficient_scope",
    expected:
      'HTTP 403 with WWW-Authenticate: Bearer error="insufficient_scope", scope="<every scope the call needs>", resource_metadata="…"',
    why: 'MCP 2025-11-25 scope challenge handling (RFC 6750 §3.1): the challenge is how the client learns which scopes to re-authorize for.',
    fix: 'Answer a tools/call that needs more scope with 403 and an insufficient_scope challenge naming the scopes (`toolScopes` in the config; `serve --tool-scope TOOL=SCOPE`).',
  },
  stepUpReauthorize: {
    id: 'e2e.step-up.reauthorize',
    title: "Step-up: the client re-authorizes with the union of its scopes and the challenge's",
    expected:
      "a new authorization request whose scope holds the old scopes and the challenge's; the user signs in (and consents to the new scope); the new token carries them",
    why: "A client that asks for the new scope only loses the old one, and with it the resource's audience. Keycloak must let the registered client request the step-up scope and put it in the token.",
    fix: `Run \`${command('apply')}\` with the config that names \`toolScopes\`: it makes each step-up scope an optional client scope with the Audience mapper, in the token's scope, and allowed for anonymous registration. Clients must register with the PRM's scopes_supported (VS Code does), or Keycloak refuses the step-up scope with invalid_scope.`,
  },
  stepUpCall: {
    id: 'e2e.step-up.call',
    title: 'Step-up: the refused tool call retried with the new token',
    expected: 'the tool returns a result',
    why: 'The call the user asked for, which needed more than the first sign-in granted.',
  },
} satisfies Record<string, StepSpec>;

/** The steps of the step-up, in order; they follow the calculator when a step-up tool is configured. */
export const STEP_UP_ORDER: StepSpec[] = [STEP.stepUpChallenge, STEP.stepUpReauthorize, STEP.stepUpCall];

/** The parameters of a `WWW-Authenticate: Bearer …` challenge (names in lower case), or undefined without one. */
export function challengeParams(header: string | undefined): Record<string, string> | undefined {
  return bearerChallenge(header)?.params;
}

/** The space-separated scopes of a `scope` value, without empties. */
export function scopesOf(value: string | null | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

/** The scopes the first 401 of the run asked for (MCP scope selection: the challenge's `scope` comes first), if it named any. */
export function challengedScopes(trace: Trace, serverUrl: string, from: number): string[] | undefined {
  const first = trace.find((e) => e.url === pathOf(serverUrl) && e.status === 401, from)[0];
  const scopes = scopesOf(challengeParams(first?.challenge)?.scope);
  return scopes.length > 0 ? scopes : undefined;
}

function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function describeEntry(entry: TraceEntry | undefined): string {
  if (!entry) return 'no request was made';
  if (entry.error) return `${entry.method} ${entry.url} failed: ${entry.error}`;
  return `${entry.method} ${entry.url} → HTTP ${entry.status}`;
}

/** The first MCP request's answer. */
export function readChallenge(trace: Trace, serverUrl: string, from: number): Finding {
  const first = trace.find((e) => e.url === pathOf(serverUrl), from)[0];
  if (!first || first.status === undefined)
    return fail(STEP.challenge, describeEntry(first), 'Start the MCP server and check the URL.');
  if (first.status !== 401) {
    const actual =
      first.status < 300 ? `HTTP ${first.status} without a token: the endpoint is not protected` : describeEntry(first);
    return fail(STEP.challenge, actual);
  }
  if (!first.challenge || !/resource_metadata=/i.test(first.challenge)) {
    // Spec 2025-11-25 lets clients fall back to the well-known PRM URLs, and the SDKs do; older clients do not.
    return warn(
      STEP.challenge,
      `401 with WWW-Authenticate: ${first.challenge ?? '(none)'}: no resource_metadata, so clients must probe the well-known PRM URLs`,
      'Add resource_metadata="<PRM URL>" to the 401 challenge; clients on spec 2025-06-18 rely on it.',
    );
  }
  return pass(STEP.challenge, `401 with WWW-Authenticate: ${first.challenge}`);
}

/** `cached`: the client held discovery state from an earlier run, so the SDK may not fetch the PRM again. */
export function readPrm(
  trace: Trace,
  serverUrl: string,
  discovery: OAuthDiscoveryState | undefined,
  from: number,
  cached: boolean,
  error?: string,
): Finding {
  // The PRM is where the challenge's resource_metadata points (any path), else at the well-known URLs.
  const pointed = trace
    .find((e) => e.status === 401 && e.challenge !== undefined, from)[0]
    ?.challenge?.match(/resource_metadata="([^"]+)"/i)?.[1];
  const target = pointed ? pathOf(pointed) : undefined;
  const fetched = trace.find((e) => e.url === target || e.url.includes('/.well-known/oauth-protected-resource'), from);
  const served = fetched.find((e) => e.status === 200);
  const prm = discovery?.resourceMetadata;
  if ((!served && !cached) || !prm)
    return fail(STEP.prm, error ?? (fetched.map(describeEntry).join('; ') || 'not fetched'));
  const where = served ? served.url : 'stored discovery state (not fetched again)';
  const servers = prm.authorization_servers ?? [];
  if (prm.resource !== serverUrl) {
    return fail(STEP.prm, `resource is ${JSON.stringify(prm.resource)}, but the client connects to ${serverUrl}`);
  }
  if (servers.length === 0) return fail(STEP.prm, 'authorization_servers is empty');
  return pass(
    STEP.prm,
    `${where}: resource ${prm.resource}, authorization_servers ${servers.join(', ')}, scopes_supported ${(prm.scopes_supported ?? []).join(' ') || '(none)'}`,
  );
}

/** The authorization server metadata the SDK found: registration endpoint and PKCE S256. */
export function readAsMetadata(
  discovery: OAuthDiscoveryState | undefined,
  error?: string,
  client: { registered?: boolean; metadataUrl?: string } = {},
): Finding {
  const metadata = discovery?.authorizationServerMetadata;
  if (!metadata)
    return fail(
      STEP.asMetadata,
      error ?? `no metadata found for ${discovery?.authorizationServerUrl ?? 'the authorization server'}`,
    );
  const methods = metadata.code_challenge_methods_supported ?? [];
  if (!methods.includes('S256'))
    return fail(STEP.asMetadata, `code_challenge_methods_supported is [${methods.join(', ')}], without S256`);
  if (metadata.registration_endpoint)
    return pass(STEP.asMetadata, `issuer ${metadata.issuer}, registration_endpoint ${metadata.registration_endpoint}`);
  // Only a client that must register needs the endpoint: not one registered before (pre-registration), nor one
  // whose client_id is its metadata document URL where the AS takes those (CIMD).
  const cimd =
    client.metadataUrl !== undefined &&
    (metadata as { client_id_metadata_document_supported?: unknown }).client_id_metadata_document_supported === true;
  if (client.registered)
    return pass(
      STEP.asMetadata,
      `issuer ${metadata.issuer}, no registration_endpoint (not needed: the client is already registered)`,
    );
  if (cimd)
    return pass(
      STEP.asMetadata,
      `issuer ${metadata.issuer}, no registration_endpoint (not needed: client_id is a metadata document URL)`,
    );
  return fail(
    STEP.asMetadata,
    `issuer ${metadata.issuer} advertises no registration_endpoint (and no client_id_metadata_document_supported with a metadata document URL), and the client is not registered`,
  );
}

/** `e2e.register` when the client has a Client ID Metadata Document (`clientMetadataUrl`): the same id, what CIMD means. */
const CIMD_REGISTER: StepSpec = {
  ...STEP.register,
  title: 'Client ID Metadata Document as client_id (CIMD, no registration)',
  expected:
    'client_id = the metadata document URL and no registration request (the metadata advertises client_id_metadata_document_supported)',
  why: 'A client with a metadata document needs no registration: Keycloak fetches the document on the authorization request (MCP 2026-07-28 prefers this).',
};

/**
 * The registration request the SDK sent (201 with a client_id), or the stored registration it reused. With
 * `clientMetadataUrl` (the client publishes a Client ID Metadata Document), the SDK uses that URL as client_id
 * when the metadata advertises CIMD, and sends no registration request.
 */
export function readRegistration(
  trace: Trace,
  discovery: OAuthDiscoveryState | undefined,
  clientId: string | undefined,
  reused: boolean,
  from: number,
  error?: string,
  clientMetadataUrl?: string,
): Finding {
  const endpoint = discovery?.authorizationServerMetadata?.registration_endpoint;
  const posts = endpoint ? trace.find((e) => e.method === 'POST' && e.url === pathOf(endpoint), from) : [];
  if (clientMetadataUrl) {
    const advertised = discovery?.authorizationServerMetadata?.client_id_metadata_document_supported === true;
    if (clientId === clientMetadataUrl && posts.length === 0) {
      return pass(
        CIMD_REGISTER,
        `client_id is the metadata document URL ${clientId}; no registration POST${advertised ? ' (client_id_metadata_document_supported: true)' : ''}`,
      );
    }
    const last = posts.at(-1);
    if (last?.status === 201 && clientId) {
      return warn(
        CIMD_REGISTER,
        `the SDK registered instead (HTTP 201, client_id ${clientId}): the metadata does not advertise client_id_metadata_document_supported, so the document ${clientMetadataUrl} was not used`,
        `Start Keycloak 26.6+ with --features=cimd and run \`${command('apply --cimd')}\` for the realm.`,
      );
    }
    return fail(CIMD_REGISTER, error ?? describeEntry(last));
  }
  if (reused && posts.length === 0 && clientId)
    return pass(STEP.register, `reused the stored registration (client_id ${clientId}); no registration request`);
  const last = posts.at(-1);
  if (last?.status === 201 && clientId) return pass(STEP.register, `HTTP 201, client_id ${clientId}`);
  return fail(STEP.register, error ?? describeEntry(last));
}

/** Checks the SDK's authorization URL: PKCE S256, resource, scope. */
export function readAuthorizationUrl(
  url: URL | undefined,
  serverUrl: string,
  scopes: string[],
  error?: string,
): Finding {
  if (!url) return fail(STEP.authorizeUrl, error ?? 'the SDK did not ask to open an authorization URL');
  const params = url.searchParams;
  const problems: string[] = [];
  if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge'))
    problems.push('no PKCE S256 challenge');
  if (params.get('resource') !== serverUrl)
    problems.push(`resource is ${JSON.stringify(params.get('resource'))}, not ${serverUrl}`);
  const requested = (params.get('scope') ?? '').split(' ').filter(Boolean);
  const missing = scopes.filter((s) => !requested.includes(s));
  if (missing.length > 0) problems.push(`scope ${JSON.stringify(params.get('scope'))} lacks ${missing.join(' ')}`);
  const summary = `${url.origin}${url.pathname}: code_challenge_method=${params.get('code_challenge_method')}, resource=${params.get('resource')}, scope=${params.get('scope')}`;
  return problems.length > 0
    ? fail(STEP.authorizeUrl, `${summary}; ${problems.join('; ')}`)
    : pass(STEP.authorizeUrl, summary);
}
