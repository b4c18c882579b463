/**
 * The headless user: opens the authorization URL the MCP client built, signs in on Keycloak's login form,
 * accepts the consent page and hands back the `code` from the redirect, all over plain HTTP with a cookie
 * jar. It never follows the redirect to the client's `redirect_uri` (nothing listens there; the code is read
 * from the `Location` header), and never logs the password, cookies or the code.
 *
 * Why HTTP and not headless Chromium: Keycloak's login and consent pages are server-rendered forms that work
 * without JavaScript (its accessibility promise), so a browser adds ~150 MB, a second process and its own
 * start-up flakiness without exercising anything the OAuth chain depends on. docs/decisions.md (End-to-end flow) says more.
 */
import { sendToKeycloak } from '../keycloak/http.js';
import { CookieJar } from './cookies.js';
import { readPage, type HtmlForm, type HtmlPage } from './html.js';

export type SignInStep = 'authorize' | 'login' | 'consent' | 'callback';

/** Which step of the sign-in failed, and what Keycloak showed the user there. */
export class SignInError extends Error {
  constructor(
    readonly step: SignInStep,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export interface SignInOptions {
  authorizationUrl: URL | string;
  /** The redirect_uri the client registered and sent; the code is taken from a redirect to it. */
  redirectUri: string;
  username: string;
  password: string;
  /** How each request is sent; default `sendToKeycloak` (the --timeout bound, retried GETs). The e2e flow passes its tracing fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface SignInResult {
  /** All callback parameters (`code`, `state`, `iss`, `session_state`): pass them to `finishAuth`. */
  callback: URLSearchParams;
  code: string;
  /** False when Keycloak skipped the consent page (consent already given, or not required). */
  consentShown: boolean;
  /** Number of HTTP requests the sign-in took. */
  requests: number;
}

/** A redirect counts as the callback when it goes to the registered redirect URI (query ignored). */
function isCallback(location: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  return location.origin === expected.origin && location.pathname === expected.pathname;
}

function describe(page: HtmlPage, status: number): string {
  const shown = page.messages.length > 0 ? page.messages.join(' ') : page.title || 'no message';
  return `Keycloak answered HTTP ${status}: "${shown}"`;
}

function loginForm(page: HtmlPage): HtmlForm | undefined {
  return (
    page.forms.find((f) => f.id === 'kc-form-login') ??
    page.forms.find((f) => f.fields.has('password') || f.fields.has('username'))
  );
}

function consentForm(page: HtmlPage): HtmlForm | undefined {
  return page.forms.find((f) => f.submits.has('accept'));
}

/** Sends like a browser without JavaScript: keeps Keycloak's cookies, never follows a redirect, counts requests. */
interface HeadlessBrowser {
  send(url: string, body?: URLSearchParams): Promise<Response>;
  requests: number;
}

function headlessBrowser(fetchFn: NonNullable<SignInOptions['fetch']>): HeadlessBrowser {
  const jar = new CookieJar();
  const browser: HeadlessBrowser = {
    requests: 0,
    async send(url, body) {
      const headers = new Headers({ accept: 'text/html' });
      const cookie = jar.header(url);
      if (cookie) headers.set('cookie', cookie);
      if (body) headers.set('content-type', 'application/x-www-form-urlencoded');
      browser.requests += 1;
      const response = await fetchFn(url, {
        method: body ? 'POST' : 'GET',
        headers,
        redirect: 'manual',
        ...(body ? { body } : {}),
      });
      jar.store(url, response.headers);
      return response;
    },
  };
  return browser;
}

/** Where one sign-in stands: the step, the last response and the URL it came from. */
interface SignInProgress {
  readonly options: SignInOptions;
  readonly start: URL;
  readonly browser: HeadlessBrowser;
  step: SignInStep;
  consentShown: boolean;
  url: string;
  response: Response;
}

/** Signs the user in and returns the authorization code; throws SignInError naming the failing step. */
export async function signIn(options: SignInOptions): Promise<SignInResult> {
  const browser = headlessBrowser(options.fetch ?? sendToKeycloak);
  const start = new URL(options.authorizationUrl);
  const response = await browser.send(start.href);
  const progress: SignInProgress = {
    options,
    start,
    browser,
    step: 'authorize',
    consentShown: false,
    url: start.href,
    response,
  };
  // Keycloak needs 1 redirect at most between pages; 20 responses means a loop.
  for (let hops = 0; hops < 20; hops += 1) {
    const { status } = progress.response;
    if (status >= 300 && status < 400) {
      const callback = await followRedirect(progress);
      if (callback) return finish(callback, progress.consentShown, browser.requests);
    } else {
      await submitPage(progress);
    }
  }
  throw new SignInError(progress.step, 'more than 20 responses without reaching the redirect URI: a redirect loop');
}

/** Follows a redirect within Keycloak; returns the callback URL instead when the redirect goes to the client. */
async function followRedirect(progress: SignInProgress): Promise<URL | undefined> {
  const { response, step, options } = progress;
  const location = response.headers.get('location');
  if (!location) throw new SignInError(step, `HTTP ${response.status} without a Location header`, response.status);
  const next = new URL(location, progress.url);
  if (isCallback(next, options.redirectUri)) return next;
  if (next.origin !== progress.start.origin) {
    throw new SignInError(
      step,
      `redirected to ${next.origin}, which is neither Keycloak nor the redirect URI ${options.redirectUri}`,
    );
  }
  await response.body?.cancel();
  progress.url = next.href;
  progress.response = await progress.browser.send(progress.url);
  return undefined;
}

/** Answers the page Keycloak showed: the login form, then the consent form; anything else is the failure. */
async function submitPage(progress: SignInProgress): Promise<void> {
  const { response, options } = progress;
  const html = await response.text();
  const page = readPage(html, progress.url);
  if (response.status !== 200) throw new SignInError(progress.step, describe(page, response.status), response.status);

  const login = loginForm(page);
  const consent = consentForm(page);
  let form: HtmlForm;
  let body: URLSearchParams;
  if (login && progress.step === 'authorize') {
    progress.step = 'login';
    form = login;
    body = new URLSearchParams([...login.fields]);
    body.set('username', options.username);
    body.set('password', options.password);
  } else if (login) {
    // The login form came back: Keycloak rejected the credentials (its message says why).
    throw new SignInError('login', describe(page, response.status), response.status);
  } else if (consent && !progress.consentShown) {
    progress.step = 'consent';
    progress.consentShown = true;
    form = consent;
    body = new URLSearchParams([...consent.fields]);
    body.set('accept', consent.submits.get('accept') ?? 'Yes');
  } else {
    // An error page ("Invalid parameter: redirect_uri"), a required action (update password, verify
    // email) or an unknown page: say what it showed.
    const what = page.forms.length > 0 ? `an unexpected form (${page.title})` : 'a page without a form';
    throw new SignInError(
      progress.step,
      `${describe(page, response.status)}; the headless user found ${what}`,
      response.status,
    );
  }
  progress.url = form.action;
  progress.response = await progress.browser.send(progress.url, body);
}

function finish(location: URL, consentShown: boolean, requests: number): SignInResult {
  const callback = location.searchParams;
  const error = callback.get('error');
  if (error) {
    // RFC 6749 §4.1.2.1 error redirect, e.g. invalid_scope or access_denied.
    const description = callback.get('error_description');
    throw new SignInError('callback', `the redirect carried error=${error}${description ? ` (${description})` : ''}`);
  }
  const code = callback.get('code');
  if (!code) throw new SignInError('callback', 'the redirect to the redirect URI carried neither code nor error');
  return { callback, code, consentShown, requests };
}
