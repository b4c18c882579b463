/**
 * The pure parts of the Keycloak room: realm URLs, the --timeout setting, and the sentences failures
 * become. What the requests do against Keycloak (timeouts, retries, resets) is tested for real in
 * test/integration/faults.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { failureMessage } from '../../src/keycloak/errors.js';
import {
  answeredPlainHttp,
  ConnectionError,
  DEFAULT_TIMEOUT_SECONDS,
  networkReason,
  NoAnswerError,
  requestTimeoutMs,
  setRequestTimeout,
} from '../../src/keycloak/http.js';
import { realmIssuer, realmUrls } from '../../src/keycloak/urls.js';

describe('realm URLs', () => {
  it('derives every endpoint from the issuer', () => {
    expect(realmUrls('http://127.0.0.1:8080/', 'mcp-demo')).toEqual({
      issuer: 'http://127.0.0.1:8080/realms/mcp-demo',
      discovery: 'http://127.0.0.1:8080/realms/mcp-demo/.well-known/openid-configuration',
      oauthMetadata: 'http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/mcp-demo',
      token: 'http://127.0.0.1:8080/realms/mcp-demo/protocol/openid-connect/token',
      authorization: 'http://127.0.0.1:8080/realms/mcp-demo/protocol/openid-connect/auth',
      registration: 'http://127.0.0.1:8080/realms/mcp-demo/clients-registrations/openid-connect',
      jwks: 'http://127.0.0.1:8080/realms/mcp-demo/protocol/openid-connect/certs',
      introspection: 'http://127.0.0.1:8080/realms/mcp-demo/protocol/openid-connect/token/introspect',
      admin: 'http://127.0.0.1:8080/admin/realms/mcp-demo',
    });
  });

  it('keeps a legacy /auth base in every URL, and RFC 8414 inserts the well-known segment before it', () => {
    const urls = realmUrls('https://sso.example.com/auth//', 'mcp');
    expect(urls.issuer).toBe('https://sso.example.com/auth/realms/mcp');
    expect(urls.oauthMetadata).toBe('https://sso.example.com/.well-known/oauth-authorization-server/auth/realms/mcp');
    expect(urls.admin).toBe('https://sso.example.com/auth/admin/realms/mcp');
  });

  it('escapes a realm name that is not a plain path segment', () => {
    expect(realmIssuer('http://h', 'a b/c')).toBe('http://h/realms/a%20b%2Fc');
  });
});

describe('--timeout and MCP_KEYCLOAK_TIMEOUT', () => {
  afterEach(() => setRequestTimeout(undefined, undefined));

  it('defaults to 10 s a request', () => {
    setRequestTimeout(undefined, undefined);
    expect(DEFAULT_TIMEOUT_SECONDS).toBe(10);
    expect(requestTimeoutMs()).toBe(10_000);
  });

  it('takes the flag over the environment, in seconds, fractions allowed', () => {
    setRequestTimeout(undefined, '30');
    expect(requestTimeoutMs()).toBe(30_000);
    setRequestTimeout('2.5', '30');
    expect(requestTimeoutMs()).toBe(2500);
    setRequestTimeout('3600', undefined);
    expect(requestTimeoutMs()).toBe(3_600_000);
    setRequestTimeout(undefined, '0.25');
    expect(requestTimeoutMs()).toBe(250);
  });

  it.each([
    ['0', undefined, '--timeout must be more than 0 and at most 3600 seconds (e.g. --timeout 30), not "0".'],
    ['0.0', undefined, '--timeout must be more than 0 and at most 3600 seconds (e.g. --timeout 30), not "0.0".'],
    ['0.0001', undefined, '--timeout must be more than 0 and at most 3600 seconds (e.g. --timeout 30), not "0.0001".'],
    ['3600.5', undefined, '--timeout must be more than 0 and at most 3600 seconds (e.g. --timeout 30), not "3600.5".'],
    [
      undefined,
      '99999',
      'MCP_KEYCLOAK_TIMEOUT must be more than 0 and at most 3600 seconds (e.g. MCP_KEYCLOAK_TIMEOUT=30), not "99999".',
    ],
    [
      'ten',
      undefined,
      '--timeout must be a plain number of seconds, digits with an optional fraction (e.g. --timeout 30 or 2.5), not "ten".',
    ],
    [
      undefined,
      '-1',
      'MCP_KEYCLOAK_TIMEOUT must be a plain number of seconds, digits with an optional fraction (e.g. MCP_KEYCLOAK_TIMEOUT=30 or 2.5), not "-1".',
    ],
    // Number() reads each of these as a number: 16, 10, 5, 1, 5, 0.5, Infinity.
    ...['0x10', '1e1', ' 5', '1e0', '5.', '.5', 'Infinity', '+5', '5 ', '1_0'].map((value) => [
      value,
      undefined,
      `--timeout must be a plain number of seconds, digits with an optional fraction (e.g. --timeout 30 or 2.5), not "${value}".`,
    ]),
    [
      undefined,
      '\u001b[2J5',
      'MCP_KEYCLOAK_TIMEOUT must be a plain number of seconds, digits with an optional fraction (e.g. MCP_KEYCLOAK_TIMEOUT=30 or 2.5), not "?[2J5".',
    ],
  ])('refuses flag %s / env %s as a usage error', (flag, env, message) => {
    let error: unknown;
    try {
      setRequestTimeout(flag, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    expect((error as UsageError).message).toBe(message);
    expect(requestTimeoutMs()).toBe(10_000);
  });
});

describe('failure sentences', () => {
  const get = { method: 'GET', path: '/admin/realms/r/client-scopes' };
  const post = { method: 'POST', path: '/admin/realms/r/client-scopes' };

  it('no answer: which call, which request, and what to check', () => {
    expect(failureMessage(new NoAnswerError(get, 10_000), 'listing the client scopes of realm "r"')).toBe(
      'Keycloak did not answer within 10 s while listing the client scopes of realm "r" (GET /admin/realms/r/client-scopes): check that Keycloak is healthy (its log, CPU, database) or raise --timeout.',
    );
  });

  it('a write without an answer: it may have been made, and running again completes it; a login is no write', () => {
    expect(failureMessage(new NoAnswerError(post, 2000), 'creating client scope "mcp:run"')).toBe(
      'Keycloak did not answer within 2 s while creating client scope "mcp:run" (POST /admin/realms/r/client-scopes), so it may or may not have made this change: check that Keycloak is healthy (its log, CPU, database) or raise --timeout. Running the same command again completes it: it reads Keycloak afresh and makes only the changes still missing.',
    );
    const login = { method: 'POST', path: '/realms/master/protocol/openid-connect/token' };
    expect(failureMessage(new NoAnswerError(login, 2000), 'logging in as admin "admin"')).toBe(
      'Keycloak did not answer within 2 s while logging in as admin "admin" (POST /realms/master/protocol/openid-connect/token): check that Keycloak is healthy (its log, CPU, database) or raise --timeout.',
    );
  });

  it('a write whose connection died: it may have been made, and running again completes it', () => {
    expect(
      failureMessage(new ConnectionError(post, 'the connection was reset', true, 1), 'creating client scope "mcp:run"'),
    ).toBe(
      'Creating client scope "mcp:run" failed: the connection was reset (POST /admin/realms/r/client-scopes), so Keycloak may or may not have made this change. Running the same command again completes it: it reads Keycloak afresh and makes only the changes still missing.',
    );
  });

  it('a login whose connection died changed nothing, so it is not said to have (issue 19)', () => {
    const login = { method: 'POST', path: '/realms/master/protocol/openid-connect/token' };
    const reset = failureMessage(
      new ConnectionError(login, 'the connection was reset', true, 1),
      'logging in as admin "admin"',
    );
    expect(reset).toBe(
      `Logging in as admin "admin" failed: the connection was reset (POST /realms/master/protocol/openid-connect/token): check Keycloak's log and any proxy in front of it.`,
    );
  });

  it("an https:// request answered in plain HTTP is one line in words, not OpenSSL's two", () => {
    const openssl = Object.assign(
      new Error(
        'write EPROTO 80EC07FA6E7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      ),
      { code: 'EPROTO' },
    );
    expect(answeredPlainHttp(openssl)).toBe(true);
    expect(networkReason(openssl)).toBe('it answered plain HTTP to a TLS handshake');
    const fetchFailure = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('…wrong version number…\n'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
    });
    expect(networkReason(fetchFailure)).toBe('it answered plain HTTP to a TLS handshake');
    expect(networkReason(new Error('two\nlines\n'))).toBe('two lines');
  });

  it('a read whose connection died on every try, and a connection never made', () => {
    expect(failureMessage(new ConnectionError(get, 'the connection was reset', true, 3), 'Listing client scopes')).toBe(
      "Listing client scopes failed: the connection was reset (GET /admin/realms/r/client-scopes), 3 times in a row: check Keycloak's log and any proxy in front of it.",
    );
    expect(failureMessage(new ConnectionError(get, 'connection refused', false, 1), 'reading realm "r"')).toBe(
      'Could not reach Keycloak while reading realm "r" (GET /admin/realms/r/client-scopes): connection refused. Is it running? Check --keycloak-url / KEYCLOAK_URL.',
    );
  });

  it('reads a "Could not …" phrase as it was meant', () => {
    expect(failureMessage(new NoAnswerError(post, 2000), 'Could not create client-scope "mcp:run"')).toMatch(
      /^Keycloak did not answer within 2 s while trying to create client-scope "mcp:run" \(POST/,
    );
    expect(
      failureMessage(
        new ConnectionError(post, 'the connection was reset', true, 1),
        'Could not create client-scope "mcp:run"',
      ),
    ).toMatch(/^Could not create client-scope "mcp:run": the connection was reset \(POST/);
  });
});
