/**
 * The live CIMD probe: doctor publishes a client metadata document on loopback and sends the
 * authorization request an MCP client would send with that document's URL as `client_id`. Keycloak must
 * fetch the document and show its sign-in page; and, for the same client, refuse a request without
 * `code_challenge` (the PKCE that keycloak#52795 leaves out and apply --cimd puts back).
 *
 * Keycloak has to reach the document, so it is served on 127.0.0.1 over http: the probe runs only where
 * the user allowed exactly that (`--cimd-allow-http` with 127.0.0.1 among the client_id domains, a local
 * test realm); elsewhere it says why it cannot. Keycloak persists a client for the document: with admin
 * credentials the probe deletes it afterwards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blocked, fail, pass, skip, warn, type Finding } from '../../findings.js';
import { keycloakCall } from '../../keycloak/errors.js';
import { boundedFetch } from '../http.js';
import { requireKeycloakOrigin, untrustedDestination } from '../trust.js';
import type { Check } from '../types.js';
import { blockedByAdminLogin, cleanupFailed } from '../verdicts.js';

const ID = 'cimd.probe';
const TITLE = 'A client metadata document signs a client in (live probe)';
const REDIRECT = 'http://127.0.0.1:33418/';

export const cimdProbeCheck: Check = {
  id: ID,
  title: 'Probing Client ID Metadata Documents',
  async run(input, state) {
    const cimd = input.config.cimd;
    if (!cimd?.enabled) return [];
    const metadata = state.asMetadata?.document;
    const authorize =
      typeof metadata?.authorization_endpoint === 'string' ? metadata.authorization_endpoint : undefined;
    if (!authorize) return [skip(ID, TITLE, 'no authorization server metadata (see as.metadata)')];
    // Keycloak persists a client for the probe: a write, so only at the configured Keycloak (trust.ts).
    const untrusted = untrustedDestination(input, state);
    if (untrusted) return [blocked(ID, TITLE, untrusted.blockedBy, untrusted.why)];
    if (metadata?.client_id_metadata_document_supported !== true)
      return [skip(ID, TITLE, 'Keycloak does not offer CIMD (see as.cimd)')];
    if (!cimd.allowHttp || !cimd.domains.includes('127.0.0.1')) {
      return [
        skip(
          ID,
          TITLE,
          'the probe publishes its document on http://127.0.0.1, which this setup does not permit (rightly, outside a local test realm)',
          'For a local test realm: --cimd-allow-http --cimd-domain 127.0.0.1. Otherwise sign in once with VS Code or Claude Code.',
        ),
      ];
    }
    // Keycloak keeps a client for every document it accepts; without admin credentials doctor could not delete it.
    const stopped = blockedByAdminLogin(input, ID, TITLE);
    if (stopped) return [stopped];
    if (!input.admin)
      return [
        skip(
          ID,
          TITLE,
          "no admin credentials: Keycloak would keep the probe's client, and doctor could not delete it",
          'Set KEYCLOAK_ADMIN_PASSWORD (or KEYCLOAK_ADMIN_CLIENT_ID/SECRET).',
        ),
      ];
    const admin = input.admin;
    requireKeycloakOrigin(authorize, input.config);
    const { finding, clientId } = await probe(authorize);
    try {
      await deleteClient(admin, input.config.realm, clientId);
      return [finding];
    } catch (error) {
      return [withLeftover(finding, clientId, error instanceof Error ? error.message : String(error))];
    }
  },
};

/** The probe's finding when deleting its client failed: a failure that names the client left in the realm. */
function withLeftover(finding: Finding, clientId: string, reason: string): Finding {
  const leftover = `the client ${clientId} Keycloak created for the probe could not be deleted (${reason})`;
  if (finding.status === 'pass') return cleanupFailed(ID, TITLE, finding.actual ?? 'the probe ran', leftover);
  return {
    ...finding,
    status: 'fail',
    why: `${finding.why ?? finding.actual ?? 'The probe did not pass'}; also, ${leftover}: delete it in the admin console.`,
  };
}

/** Publishes the document, sends the two authorization requests, and says what Keycloak did; the caller deletes the client. */
async function probe(authorize: string): Promise<{ finding: Finding; clientId: string }> {
  let fetched = 0;
  const server = createServer((_req, res) => {
    fetched++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clientId = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp-keycloak-doctor/client-metadata.json`;
  const document = {
    client_id: clientId,
    client_name: 'mcp-keycloak doctor (CIMD probe)',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  try {
    return { finding: await authorizeAs(authorize, clientId, () => fetched), clientId };
  } finally {
    server.close();
  }
}

/** The two authorization requests of the probe (with and without PKCE), and the verdict on Keycloak's answers. */
async function authorizeAs(authorize: string, clientId: string, fetched: () => number): Promise<Finding> {
  const url = (pkce: boolean) => {
    const u = new URL(authorize);
    const verifier = randomBytes(32).toString('base64url');
    const params: Record<string, string> = {
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      state: randomBytes(8).toString('hex'),
    };
    if (pkce)
      Object.assign(params, {
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u;
  };
  try {
    const withPkce = await boundedFetch(url(true), { redirect: 'manual' });
    const page = await withPkce.text();
    if (withPkce.status !== 200 || !/kc-form-login|id="username"/.test(page)) {
      return fail(ID, TITLE, {
        expected: 'Keycloak fetches the document and shows its sign-in page',
        actual: `HTTP ${withPkce.status}; the document was ${fetched() ? 'fetched' : 'never fetched'}`,
        why: fetched()
          ? 'Keycloak fetched the document but refused it: its log names the property it objects to.'
          : "Keycloak did not fetch the document: no client policy admits a client_id on 127.0.0.1 (see realm.cimd), or Keycloak cannot reach this machine's 127.0.0.1 (it runs in a container or on another host).",
        fix: fetched()
          ? "Read Keycloak's log for the refused property."
          : 'If realm.cimd fails, run its fix and doctor again; if Keycloak runs in a container, this probe cannot reach it: sign in once with VS Code or Claude Code instead.',
      });
    }
    const withoutPkce = await boundedFetch(url(false), { redirect: 'manual' });
    await withoutPkce.body?.cancel();
    const location = withoutPkce.headers.get('location');
    const error = location ? new URL(location).searchParams.get('error') : undefined;
    if (error !== 'invalid_request') {
      return fail(ID, TITLE, {
        expected: 'an authorization request without code_challenge refused (error=invalid_request)',
        actual: `HTTP ${withoutPkce.status}${location ? ' redirect without an error' : ''}: Keycloak would issue a code without PKCE`,
        why: 'Keycloak does not apply pkce-enforcer to CIMD clients by itself (keycloak#52795); the mcp-keycloak-pkce policy does.',
        fix: 'Run the apply command of realm.cimd (it adds the mcp-keycloak-pkce policy).',
      });
    }
    return pass(ID, TITLE, {
      actual: `Keycloak fetched ${clientId} (${fetched()}×), showed its sign-in page, and refused the request without code_challenge`,
    });
  } catch (caught) {
    return warn(ID, TITLE, {
      actual: `the probe could not run: ${caught instanceof Error ? caught.message : String(caught)}`,
    });
  }
}

/** Deletes the client Keycloak persisted for the probe's document. */
async function deleteClient(
  admin: NonNullable<Parameters<Check['run']>[0]['admin']>,
  realm: string,
  clientId: string,
): Promise<void> {
  const found = await keycloakCall(
    () => admin.client.clients.find({ realm, clientId }),
    undefined,
    'looking up the probe client',
  );
  for (const client of found)
    if (client.id)
      await keycloakCall(
        () => admin.client.clients.del({ realm, id: client.id! }),
        undefined,
        'deleting the probe client',
      );
}
