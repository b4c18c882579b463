/**
 * TLS on loopback for tests that need an https URL Keycloak fetches (a Client ID Metadata Document: the MCP SDK
 * v2 refuses a `clientMetadataUrl` that is not https). The harness makes a CA once per run in a temp folder and
 * starts its own Keycloak with `--truststore-paths=<ca.pem>`; a test issues a certificate for 127.0.0.1 from that
 * CA (`issueLoopbackCert`) and serves with node:https. Everything is made with the `openssl` CLI (node:crypto
 * cannot sign certificates), EC P-256 keys (milliseconds, where RSA takes longer), valid for two days, and kept
 * under os.tmpdir(), never in the repository. The certificate carries subjectAltName IP:127.0.0.1, so Keycloak's
 * default hostname verification (`--tls-hostname-verifier=DEFAULT`) accepts it as it is.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The CA's files: its certificate (PEM, what Keycloak's truststore gets) and its private key (PEM). */
export interface LoopbackCa {
  certPath: string;
  keyPath: string;
}

/** A server certificate for 127.0.0.1 and its key, PEM text, for `https.createServer({ cert, key })`. */
export interface LoopbackCert {
  cert: string;
  key: string;
  /** The CA certificate (PEM), for a client that should trust the server (`ca` of node:https). */
  ca: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'the openssl CLI is not installed: it makes the loopback CA for the https tests'
        : `openssl ${args[0]} failed: ${stderr}`,
      { cause: error },
    );
  }
}

/** Makes a CA (certificate + key) in a new folder under os.tmpdir(); `remove()` deletes the folder. */
export function createLoopbackCa(): LoopbackCa & { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-keycloak-test-ca-'));
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=mcp-keycloak test loopback CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return {
    dir,
    certPath: join(dir, 'ca.pem'),
    keyPath: join(dir, 'ca.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Issues a certificate for https://127.0.0.1 from `ca` (subjectAltName IP:127.0.0.1, serverAuth). Two openssl
 * steps (request, then signing with an extension file), which LibreSSL and OpenSSL 1.1 understand too.
 */
export function issueLoopbackCert(ca: LoopbackCa): LoopbackCert {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-keycloak-test-cert-'));
  try {
    writeFileSync(
      join(dir, 'ext.cnf'),
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n',
    );
    openssl(['req', '-new', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        ca.certPath,
        '-CAkey',
        ca.keyPath,
        '-set_serial',
        `0x${Date.now().toString(16)}`,
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
        '-out',
        'server.pem',
      ],
      dir,
    );
    return {
      cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
      key: readFileSync(join(dir, 'server.key'), 'utf8'),
      ca: readFileSync(ca.certPath, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
