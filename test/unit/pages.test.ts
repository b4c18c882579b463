/**
 * The headless user's parts without a network: reading Keycloak-shaped pages, the cookie jar, and the
 * readings that turn the SDK's wire trace into findings.
 */
import { describe, expect, it } from 'vitest';
import { CookieJar } from '../../src/oauth/cookies.js';
import { readPage } from '../../src/oauth/html.js';
import { readAuthorizationUrl, readChallenge } from '../../src/e2e/steps.js';
import { Trace } from '../../src/e2e/trace.js';

const BASE = 'http://127.0.0.1:8080/realms/r/protocol/openid-connect/auth?client_id=x';

describe('readPage', () => {
  it('reads the login form with its hidden fields, relative action and entities, whatever the attribute order', () => {
    const html = `<!DOCTYPE html><html><head><title>Sign in to r</title></head><body>
      <form action="/realms/r/login-actions/authenticate?session_code=a&amp;execution=b" method=post id='kc-form-login'>
        <input type="hidden" name="credentialId" value="">
        <input name=username value="alice" type=text><input type="password" name="password">
        <input type="checkbox" name="rememberMe"><button type="submit" name="login">Sign In</button>
      </form>
      <span id="input-error" class="kc-feedback-text">Invalid username or password.</span></body></html>`;
    const page = readPage(html, BASE);
    expect(page.title).toBe('Sign in to r');
    const [form] = page.forms;
    expect(form?.id).toBe('kc-form-login');
    expect(form?.action).toBe('http://127.0.0.1:8080/realms/r/login-actions/authenticate?session_code=a&execution=b');
    expect([...(form?.fields.keys() ?? [])]).toEqual(['credentialId', 'username', 'password']);
    // A <button> without a value attribute submits an empty value, as in a browser.
    expect(form?.submits.get('login')).toBe('');
    expect(page.messages).toEqual(['Invalid username or password.']);
  });

  it('finds the consent form by its accept button', () => {
    const html = `<form class="form-actions" action="/realms/r/login-actions/consent?client_id=x" method="POST">
      <input type="hidden" name="code" value="abc"><input name="accept" id="kc-login" type="submit" value="Yes">
      <input name="cancel" type="submit" value="No"></form>`;
    const [form] = readPage(html, BASE).forms;
    expect(form?.fields.get('code')).toBe('abc');
    expect([...(form?.submits.keys() ?? [])]).toEqual(['accept', 'cancel']);
  });
});

describe('CookieJar', () => {
  it('sends cookies back to their origin and path only, and drops expired ones', () => {
    const jar = new CookieJar();
    const headers = new Headers();
    headers.append('set-cookie', 'AUTH_SESSION_ID=s1; Path=/realms/r/; HttpOnly');
    headers.append('set-cookie', 'KC_RESTART=k; Path=/realms/r/');
    headers.append('set-cookie', 'OTHER=o; Path=/realms/other/');
    jar.store(BASE, headers);
    expect(jar.header('http://127.0.0.1:8080/realms/r/login-actions/authenticate')).toBe(
      'AUTH_SESSION_ID=s1; KC_RESTART=k',
    );
    expect(jar.header('http://localhost:8080/realms/r/x')).toBeUndefined();

    const expire = new Headers();
    expire.append('set-cookie', 'KC_RESTART=; Max-Age=0; Path=/realms/r/');
    jar.store(BASE, expire);
    expect(jar.names(BASE)).toEqual(['AUTH_SESSION_ID', 'OTHER']);
  });
});

describe('trace readings', () => {
  const url = 'http://127.0.0.1:9000/mcp';

  function traceOf(response: Response): Promise<Trace> {
    const trace = new Trace();
    return trace
      .wrap(async () => response)(url, { method: 'POST' })
      .then(() => trace);
  }

  it('passes a 401 that points at the PRM, warns on one that does not, fails an unprotected endpoint', async () => {
    const good = await traceOf(
      new Response(null, {
        status: 401,
        headers: {
          'www-authenticate':
            'Bearer resource_metadata="http://127.0.0.1:9000/.well-known/oauth-protected-resource/mcp"',
        },
      }),
    );
    expect(readChallenge(good, url, 0).status).toBe('pass');
    const bare = await traceOf(new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } }));
    expect(readChallenge(bare, url, 0).status).toBe('warn');
    const open = await traceOf(new Response('{}', { status: 200 }));
    expect(readChallenge(open, url, 0)).toMatchObject({
      status: 'fail',
      actual: expect.stringContaining('not protected'),
    });
  });

  it('fails an authorization URL without PKCE S256 or with another resource', () => {
    const ok = new URL(
      `http://kc/auth?code_challenge=c&code_challenge_method=S256&resource=${encodeURIComponent(url)}&scope=mcp:run`,
    );
    expect(readAuthorizationUrl(ok, url, ['mcp:run']).status).toBe('pass');
    const plain = new URL(`http://kc/auth?code_challenge=c&code_challenge_method=plain&resource=http://other/mcp`);
    const result = readAuthorizationUrl(plain, url, ['mcp:run']);
    expect(result.status).toBe('fail');
    expect(result.actual).toMatch(/no PKCE S256.*resource is "http:\/\/other\/mcp".*lacks mcp:run/);
  });
});
