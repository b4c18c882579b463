/**
 * CIMD end to end with the official MCP TypeScript SDK v2 (`@modelcontextprotocol/client`): an OAuthClientProvider
 * with `clientMetadataUrl` goes from the bare MCP URL to a tool result on a realm `apply --cimd` made, with the
 * document URL as client_id and no registration request, and is refused on a realm made without `--cimd`. The SDK
 * takes only an https document URL (`isHttpsUrl`), so the document is served over TLS on 127.0.0.1 with a
 * certificate from the run's loopback CA, which the harness made Keycloak trust (`--truststore-paths`; path 3 only:
 * see test/support/global-setup.ts). It also times the CIMD chain against the DCR chain on the same realm (printed,
 * not asserted).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { cpus, loadavg } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClientStore, REDIRECT_URI, runE2e, type E2eReport } from '../../src/e2e/index.js';
import { freePort } from '../../src/local/process.js';
import type { RunningServer } from '../../src/server/index.js';
import { deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { createLoopbackCa, issueLoopbackCert } from '../support/tls.js';
import { serveRealm } from '../support/tokens.js';

const ca = inject('loopbackCa') ?? { unavailable: 'the harness provided no loopback CA' };
const cimdOn = inject('keycloakFeatures').includes('cimd');
const cannotRun =
  'unavailable' in ca
    ? ca.unavailable
    : !cimdOn
      ? `Keycloak runs without the experimental cimd feature (KEYCLOAK_FEATURES=${process.env.KEYCLOAK_FEATURES ?? ''}); the CIMD chain needs --features=cimd`
      : undefined;
if (cannotRun) process.stdout.write(`[cimd-sdk] CIMD with the SDK v2 cannot run here: ${cannotRun}\n`);

const log = (line: string) => process.stdout.write(`[cimd-sdk] ${line}\n`);

function problems(report: E2eReport): string[] {
  return report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}: ${c.actual}`);
}

/** The Client ID Metadata Document published at `url`. */
function documentFor(url: string) {
  return {
    client_id: url,
    client_name: 'mcp-keycloak CIMD e2e client',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe.runIf(cannotRun !== undefined)(`CIMD with the SDK v2: cannot run here (${cannotRun})`, () => {
  it.skip('needs the Keycloak the harness starts itself (path 3: KEYCLOAK_URL unset, no Docker) with --features=cimd', () => {});
});

describe.runIf(cannotRun === undefined)(
  'CIMD with the MCP SDK v2 client, document served over https on loopback',
  () => {
    const realm = uniqueRealm('e2e-cimd');
    const plain = uniqueRealm('e2e-cimd-none');
    const password = randomBytes(12).toString('base64url');
    let cimdServer: RunningServer;
    let plainServer: RunningServer;
    let documentServer: Server;
    let documentUrl: string;
    /** Requests the document server answered (all from Keycloak: the SDK never fetches its own document), with their User-Agent. */
    const documentRequests: string[] = [];
    /** Every request the flow sent (SDK and headless user), method and URL without query. */
    const sent: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      sent.push(`${request.method} ${url.origin}${url.pathname}`);
      return fetch(input, init);
    };
    const registrationPosts = (from: number) =>
      sent.slice(from).filter((line) => /^POST .*\/clients-registrations\//.test(line));

    beforeAll(async () => {
      const { certPath, keyPath } = ca as { certPath: string; keyPath: string };
      const { cert, key } = issueLoopbackCert({ certPath, keyPath });
      const port = await freePort();
      documentUrl = `https://127.0.0.1:${port}/oauth/client-metadata.json`;
      // What an MCP client publishes at its client_id URL (the shape VS Code's document has). Any
      // /oauth/client-metadata[-NAME].json is a document whose client_id is its own URL: a new name is a client
      // Keycloak has not seen yet, so it must fetch that document.
      documentServer = createServer({ cert, key }, (req, res) => {
        documentRequests.push(`${req.method} ${req.url} ${req.headers['user-agent'] ?? '(no user-agent)'}`);
        if (!/^\/oauth\/client-metadata(-[\w-]+)?\.json$/.test(req.url ?? '')) return void res.writeHead(404).end();
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(documentFor(`https://127.0.0.1:${port}${req.url}`)));
      });
      await new Promise<void>((resolve) => documentServer.listen(port, '127.0.0.1', resolve));
      [{ server: cimdServer }, { server: plainServer }] = await Promise.all([
        serveRealm(realm, { password, applyArgs: ['--cimd', '--cimd-domain', '127.0.0.1'] }),
        serveRealm(plain, { password }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([cimdServer?.close(), plainServer?.close()]);
      documentServer?.close();
      await Promise.all([deleteRealm(realm), deleteRealm(plain)]);
    });

    it('apply --cimd realm: bare MCP URL → 59.25 with the document URL as client_id; Keycloak fetched the document; no registration POST', async () => {
      const mark = sent.length;
      const fetchedBefore = documentRequests.length;
      const store = new ClientStore();
      const report = await runE2e({
        serverUrl: cimdServer.url,
        username: 'alice',
        password,
        sdk: 'v2',
        store,
        clientMetadataUrl: documentUrl,
        fetch: recording,
      });
      log(
        `CIMD run: ${report.checks.map((c) => `${c.id} ${c.status}`).join(', ')}; ${(report.durationMs / 1000).toFixed(2)} s`,
      );

      expect(problems(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.calculatorResult).toBe(59.25);
      expect(report.clientId).toBe(documentUrl);
      expect(report.registered).toBe(false);
      expect(store.registrations).toBe(0);
      expect(report.checks.find((c) => c.id === 'e2e.register')).toMatchObject({
        status: 'pass',
        title: 'Client ID Metadata Document as client_id (CIMD, no registration)',
        actual: `client_id is the metadata document URL ${documentUrl}; no registration POST (client_id_metadata_document_supported: true)`,
      });
      expect(registrationPosts(mark)).toEqual([]);
      // Keycloak (not the SDK) fetched the document over TLS, trusting the run's CA.
      const fetched = documentRequests.slice(fetchedBefore);
      log(`Keycloak fetched the document ${fetched.length}×: ${fetched.join(' | ')}`);
      expect(fetched.length).toBeGreaterThan(0);
      expect(fetched.every((line) => line.startsWith('GET /oauth/client-metadata.json '))).toBe(true);
      expect(report.token?.azp).toBe(documentUrl);
      expect(report.token?.aud).toContain(cimdServer.url);
      expect(report.token?.scope).toContain('mcp:run');
    });

    it('realm applied without --cimd: the same client is refused with HTTP 400 on the authorization request, at e2e.sign-in', async () => {
      // The feature is server-wide: the realm advertises CIMD although no policy of it admits a document URL.
      const metadata = (await (
        await fetch(`${keycloak().url}/realms/${plain}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      expect(metadata.client_id_metadata_document_supported).toBe(true);

      const mark = sent.length;
      const fetchedBefore = documentRequests.length;
      const report = await runE2e({
        serverUrl: plainServer.url,
        username: 'alice',
        password,
        sdk: 'v2',
        clientMetadataUrl: documentUrl,
        fetch: recording,
      });
      log(`without --cimd: ${problems(report).join(' | ')}`);

      expect(report.ok).toBe(false);
      // The SDK took the document URL as client_id (the metadata advertises CIMD) and never registered…
      expect(report.checks.find((c) => c.id === 'e2e.register')?.status).toBe('pass');
      expect(registrationPosts(mark)).toEqual([]);
      // …then Keycloak refused the authorization request: the first failing step is the user's sign-in.
      const failed = report.checks.filter((c) => c.status === 'fail');
      expect(failed.map((c) => c.id)).toEqual(['e2e.sign-in']);
      expect(failed[0]!.actual).toBe('Keycloak answered HTTP 400: "Client not found."');
      expect(
        report.checks
          .slice(report.checks.findIndex((c) => c.id === 'e2e.sign-in') + 1)
          .every((c) => c.status === 'skip'),
      ).toBe(true);
      expect(report.token).toBeUndefined();
      // Keycloak refused without fetching the document: no policy of this realm admits its URL.
      expect(documentRequests.slice(fetchedBefore)).toEqual([]);
    });

    it('a document served with a certificate from a CA Keycloak does not trust is refused: the TLS check is real', async () => {
      const stranger = createLoopbackCa();
      let server: Server | undefined;
      try {
        const { cert, key } = issueLoopbackCert(stranger);
        const port = await freePort();
        const url = `https://127.0.0.1:${port}/oauth/client-metadata.json`;
        let requests = 0;
        server = createServer({ cert, key }, (_req, res) => {
          requests++;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(url)));
        });
        server.on('tlsClientError', () => undefined);
        await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
        const report = await runE2e({
          serverUrl: cimdServer.url,
          username: 'alice',
          password,
          sdk: 'v2',
          clientMetadataUrl: url,
        });
        log(`untrusted CA: ${problems(report)[0]}`);
        expect(report.ok).toBe(false);
        expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['e2e.sign-in']);
        // Keycloak's log says why: "HTTP connection failure: javax.net.ssl.SSLHandshakeException: PKIX path validation failed".
        expect(report.checks.find((c) => c.id === 'e2e.sign-in')?.actual).toBe(
          'Keycloak answered HTTP 400: "Client Metadata fetch failed"',
        );
        // Keycloak broke off the handshake: no request ever reached the server.
        expect(requests).toBe(0);
      } finally {
        server?.close();
        stranger.remove();
      }
    });

    it('times the CIMD chain against the DCR chain on the same realm: 3 alternating runs each (printed, not asserted)', async () => {
      // CIMD: the document URL Keycloak already made a client from (no fetch while its cache holds), and a new
      // document URL each round (fetched: a client Keycloak meets for the first time, as DCR's new registration is).
      const kinds = ['CIMD', 'CIMD new URL', 'DCR'] as const;
      const rows: Array<{ kind: (typeof kinds)[number]; ms: number; signInMs: number; fetches: number }> = [];
      for (let round = 0; round < 3; round++) {
        for (const kind of kinds) {
          const fetchedBefore = documentRequests.length;
          const url =
            kind === 'CIMD new URL'
              ? documentUrl.replace('.json', `-${randomBytes(4).toString('hex')}.json`)
              : documentUrl;
          const report = await runE2e({
            serverUrl: cimdServer.url,
            username: 'alice',
            password,
            sdk: 'v2',
            ...(kind === 'DCR' ? {} : { clientMetadataUrl: url }),
          });
          expect(problems(report), `${kind} run ${round + 1}`).toEqual([]);
          expect(report.registered).toBe(kind === 'DCR');
          rows.push({
            kind,
            ms: report.durationMs,
            signInMs: report.signInMs ?? 0,
            fetches: documentRequests.length - fetchedBefore,
          });
        }
      }
      const of = (kind: (typeof kinds)[number]) => rows.filter((r) => r.kind === kind);
      const seconds = (ms: number) => (ms / 1000).toFixed(3);
      log(
        `load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}, ${cpus().length} cores`,
      );
      log('round | CIMD: s (sign-in s, document fetches) | CIMD new URL: s (sign-in s, fetches) | DCR: s (sign-in s)');
      for (let i = 0; i < 3; i++) {
        const [cimd, fresh, dcr] = kinds.map((kind) => of(kind)[i]!);
        log(
          `${i + 1}     | ${seconds(cimd!.ms)} (${seconds(cimd!.signInMs)}, ${cimd!.fetches}) | ${seconds(fresh!.ms)} (${seconds(fresh!.signInMs)}, ${fresh!.fetches}) | ` +
            `${seconds(dcr!.ms)} (${seconds(dcr!.signInMs)})`,
        );
      }
      const dcrMedian = median(of('DCR').map((r) => r.ms));
      for (const kind of ['CIMD', 'CIMD new URL'] as const) {
        const times = of(kind).map((r) => r.ms);
        const pairwise = median(times.map((ms, i) => ms / of('DCR')[i]!.ms));
        log(
          `median ${kind} ${seconds(median(times))} s vs DCR ${seconds(dcrMedian)} s: ratio ${kind}/DCR ${(median(times) / dcrMedian).toFixed(2)} ` +
            `(median of the per-round ratios ${pairwise.toFixed(2)})`,
        );
      }
    });
  },
);
