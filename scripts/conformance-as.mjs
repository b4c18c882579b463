#!/usr/bin/env node
/**
 * Keycloak as the authorization server under test for `@modelcontextprotocol/conformance authorization`
 * (its scenarios `authorization-server-metadata-endpoint` and `authorization-code-grant`), on a realm `apply`
 * set up. The grant scenario prints an authorization URL and waits for a browser to come back to its
 * callback server; here the headless user (the e2e flow's sign-in, Keycloak's real login and consent pages)
 * plays the browser. The client is registered for the run through the realm's anonymous registration
 * (public, PKCE, redirect http://127.0.0.1:<port>/callback) and deleted afterwards with its registration
 * access token. Needs `npm run build` first.
 *
 * Usage: node scripts/conformance-as.mjs <issuer> <resource> <results-dir> <conformance command…>
 * The test user's name and password come from MCP_CONFORMANCE_USER and MCP_CONFORMANCE_PASSWORD; the client's
 * grant_types from MCP_CONFORMANCE_GRANT_TYPES (space-separated; default "authorization_code refresh_token", as
 * MCP clients register: without refresh_token, Keycloak 26.7.3 with resource indicators answers 500, keycloak#50251).
 * Prints the suite's output; exit code 0 when it ran (the verdicts are in the output and results-dir).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { signIn } from '../dist/e2e/index.js';

const [issuer, resource, out, ...conformance] = process.argv.slice(2);
const username = process.env.MCP_CONFORMANCE_USER ?? 'alice';
const password = process.env.MCP_CONFORMANCE_PASSWORD ?? '';
const grantTypes = (process.env.MCP_CONFORMANCE_GRANT_TYPES ?? 'authorization_code refresh_token')
  .split(' ')
  .filter(Boolean);

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const port = await freePort();
const redirectUri = `http://127.0.0.1:${port}/callback`;
const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const registered = await fetch(metadata.registration_endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    client_name: 'mcp-keycloak conformance',
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    grant_types: grantTypes,
    response_types: ['code'],
  }),
});
if (registered.status !== 201) {
  console.error(`registration refused: HTTP ${registered.status} ${await registered.text()}`);
  process.exit(1);
}
const client = await registered.json();

try {
  const suite = spawn(
    conformance[0],
    [
      ...conformance.slice(1),
      'authorization',
      '--url',
      issuer,
      '--client-id',
      client.client_id,
      '--resource',
      resource,
      '--port',
      String(port),
      '--spec-version',
      '2026-07-28',
      '-o',
      out,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let printed = '';
  let driven = false;
  suite.stdout.on('data', async (chunk) => {
    process.stdout.write(chunk);
    printed += chunk;
    // The line after "Access the following URL in your browser" is the authorization request.
    const url = !driven && /^(http\S+\/protocol\/openid-connect\/auth\?\S+)$/m.exec(printed)?.[1];
    if (!url) return;
    driven = true;
    try {
      const { callback } = await signIn({ authorizationUrl: url, redirectUri, username, password });
      await fetch(`${redirectUri}?${callback}`);
    } catch (error) {
      console.error(
        `the headless user could not complete the sign-in: ${error instanceof Error ? error.message : error}`,
      );
      suite.kill();
    }
  });
  await new Promise((resolve) => suite.on('exit', resolve));
} finally {
  // RFC 7592: the client deletes itself with its registration access token.
  await fetch(client.registration_client_uri, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${client.registration_access_token}` },
  }).catch(() => undefined);
}
