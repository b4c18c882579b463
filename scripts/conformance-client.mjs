#!/usr/bin/env node
/**
 * The e2e flow as a client under test for `@modelcontextprotocol/conformance client`: the suite starts a
 * scenario's MCP server and authorization server and appends the server URL to this command. The user
 * step is the same headless user; the suite's authorization endpoint redirects without a login page.
 * SDK line from MCP_E2E_SDK (v1 | v2, default v2). Needs `npm run build` first.
 *
 * Per scenario (MCP_CONFORMANCE_SCENARIO), like the suite's reference client:
 *   auth/basic-cimd: the client publishes a Client ID Metadata Document at the URL the suite's mock AS accepts
 *     without fetching it. (Not for auth/offline-access-scope: given a URL client_id, that scenario fetches the
 *     document itself, from a non-loopback host; with registration it reads grant_types from the request body.)
 *   auth/scope-step-up, auth/scope-retry-limit, auth/authorization-server-migration: call the suite's `test-tool`
 *     after tools/list (the flow's stepUpTool: a 403 insufficient_scope re-authorizes with the union of scopes).
 *   auth/pre-registration: the client_id/client_secret of MCP_CONFORMANCE_CONTEXT, no registration.
 *   auth/client-credentials-jwt, auth/client-credentials-basic (the oauth-client-credentials extension): no user,
 *     so not the e2e flow's sign-in but what `doctor --machine-client` runs (src/doctor/checks/machine-client.ts):
 *     the SDK v2 PrivateKeyJwtProvider / ClientCredentialsProvider with the context's key or secret, tools/list.
 *   auth/dpop, auth/dpop-nonce (SEP-1932): nothing to set: the scenario's 401 offers the DPoP scheme, so the flow's
 *     `dpop: 'auto'` binds the tokens (SDK v2; v1 has no DPoP).
 * Every request must go to a loopback host (the suite's own servers): anything else is refused and reported.
 */
import {
  Client,
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { ClientStore, runE2e } from '../dist/e2e/index.js';

const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
const STEP_UP = new Set(['auth/scope-step-up', 'auth/scope-retry-limit', 'auth/authorization-server-migration']);

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');

const nativeFetch = globalThis.fetch;
const refused = [];
const loopback = (host) => host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!loopback(url.hostname)) {
    refused.push(`${url.origin}${url.pathname}`);
    return Promise.reject(new Error(`conformance-client: refused a request to ${url.origin} (not loopback)`));
  }
  return nativeFetch(input, init);
};

const options = {
  serverUrl: process.argv.at(-1),
  username: 'conformance',
  password: 'conformance',
  sdk: process.env.MCP_E2E_SDK ?? 'v2',
  fetch: globalThis.fetch,
};
if (scenario === 'auth/basic-cimd') options.clientMetadataUrl = CIMD_URL;
if (STEP_UP.has(scenario)) options.stepUpTool = { name: 'test-tool', arguments: {} };
if (context.client_id) {
  const store = new ClientStore();
  store.clientInformation = {
    client_id: context.client_id,
    ...(context.client_secret ? { client_secret: context.client_secret } : {}),
  };
  options.store = store;
}

/** A machine client (client credentials, no user): get a token with the context's credentials and list the tools. */
async function runMachineClient() {
  const authProvider = context.private_key_pem
    ? new PrivateKeyJwtProvider({
        clientId: context.client_id,
        privateKey: context.private_key_pem,
        algorithm: context.signing_algorithm ?? 'ES256',
      })
    : new ClientCredentialsProvider({ clientId: context.client_id, clientSecret: context.client_secret });
  const client = new Client({ name: 'mcp-keycloak-conformance', version: '1' });
  const checks = [];
  try {
    await client.connect(
      new StreamableHTTPClientTransport(new URL(options.serverUrl), { authProvider, fetch: globalThis.fetch }),
    );
    const { tools } = await client.listTools();
    checks.push({ status: 'pass', id: 'machine.call', actual: `tools/list: ${tools.length} tool(s)` });
  } catch (error) {
    checks.push({ status: 'fail', id: 'machine.call', actual: String(error?.message ?? error).slice(0, 300) });
  } finally {
    await client.close().catch(() => undefined);
  }
  return { ok: checks.every((check) => check.status === 'pass'), checks };
}

const report = scenario.startsWith('auth/client-credentials-') ? await runMachineClient() : await runE2e(options);
for (const check of report.checks) process.stderr.write(`${check.status.padEnd(4)} ${check.id}: ${check.actual}\n`);
for (const url of refused) process.stderr.write(`refused (not loopback): ${url}\n`);
process.exitCode = report.ok && refused.length === 0 ? 0 : 1;
