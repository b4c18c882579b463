/**
 * The browser tier's user: Debian's Chromium (`apt-get install chromium`, /usr/bin/chromium; CHROMIUM_PATH
 * overrides) driven headless by playwright-core, which ships no browser of its own. It opens the authorization URL
 * an MCP client built, types the test user's name and password into Keycloak's login page, presses the consent
 * page's "Yes" and lets Chromium follow Keycloak's redirect to a loopback callback server, as VS Code's is
 * (RFC 8252 §7.3): the code is caught where a desktop client catches it, not read from a Location header as the
 * headless HTTP user (src/oauth/sign-in.ts) does. Without Chromium the tier skips, except under CI=true, where
 * it fails: CI must prove Keycloak's pages in a browser, not report green without one.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Why the tier cannot run here (no Chromium), or undefined. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return `no Chromium at ${CHROMIUM_PATH}: \`apt-get install -y chromium\` (Debian), or set CHROMIUM_PATH to a Chromium or Chrome binary`;
}

/** True when a missing browser must fail the run instead of skipping it (CI sets CI=true). */
export const mustRun = process.env.CI === 'true';

export async function launchChromium(): Promise<Browser> {
  // playwright-core starts Chromium without its sandbox by default (chromiumSandbox: false), which CI needs: it runs
  // as root, where Chromium refuses to start sandboxed.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}

/** A loopback HTTP server that catches the authorization response, as a desktop MCP client's callback does. */
export interface CallbackServer {
  /** `http://127.0.0.1:<port>/`: a loopback redirect URI with the port chosen at run time (RFC 8252 §7.3). */
  redirectUri: string;
  /** Requests the server has answered so far. */
  requests(): number;
  /** Resolves with the query of the next request that reaches the server. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  // next() is called before the browser is sent off, so a waiter is always there when the redirect arrives.
  let waiting: ((query: URLSearchParams) => void) | undefined;
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests += 1;
    waiting?.(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
    waiting = undefined;
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Signed in</title>You can close this window.');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/`,
    requests: () => requests,
    next: () => new Promise<URLSearchParams>((resolve) => (waiting = resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What the browser saw on the way: the pages' titles, the consent page's text, and the callback's query. */
export interface BrowserSignIn {
  callback: URLSearchParams;
  /** The URL Chromium ended on: the callback server's. */
  finalUrl: string;
  loginTitle: string;
  /** The consent page's visible text, or undefined when Keycloak showed none. */
  consentText?: string;
}

/** Keycloak's messages on the page it shows (a wrong password, an error page), for a failure that says why. */
async function shownMessage(page: Page): Promise<string> {
  const alert = page.locator('#input-error, .pf-v5-c-alert__title, .kc-feedback-text, #kc-error-message');
  const texts = (await alert.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  return texts.length ? texts.join(' ') : `(page "${await page.title()}")`;
}

/**
 * Signs `username` in through Chromium: opens `authorizationUrl`, fills Keycloak's login form, accepts the
 * consent page when shown, and returns once the redirect reached `callback`. Throws with Keycloak's message when
 * the browser lands anywhere else (the login form again, an error page).
 */
export async function signInWithBrowser(
  browser: Browser,
  options: { authorizationUrl: URL; callback: CallbackServer; username: string; password: string },
): Promise<BrowserSignIn> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const caught = options.callback.next();
    await page.goto(options.authorizationUrl.href);
    // goto() returns once the page after Keycloak's redirects has loaded: the login form, or an error page.
    if ((await page.locator('#username').count()) === 0)
      throw new Error(`Keycloak showed no login form: ${await shownMessage(page)}`);
    await page.locator('#username').fill(options.username);
    await page.locator('#password').fill(options.password);
    const loginTitle = await page.title();
    // click() waits until the navigation it starts has begun; 'load' is then the page after Keycloak's redirects.
    await page.locator('#kc-login').click();
    await page.waitForLoadState('load');
    const atCallback = () => page.url().startsWith(options.callback.redirectUri);
    let consentText: string | undefined;
    if (!atCallback()) {
      const accept = page.locator('[name="accept"]');
      if ((await accept.count()) === 0)
        throw new Error(`Keycloak did not redirect after the login form: ${await shownMessage(page)}`);
      consentText = await page.locator('body').innerText();
      await accept.click();
      await page.waitForURL((url) => url.href.startsWith(options.callback.redirectUri), { timeout: 30_000 });
    }
    const callback = await caught;
    return { callback, finalUrl: page.url(), loginTitle, ...(consentText ? { consentText } : {}) };
  } finally {
    await context.close();
  }
}

/**
 * `describe` for the tier: runs `body` when Chromium is there; without it, one failing test under CI=true (the
 * tier may not pass by skipping), else a skipped suite that names what to install.
 */
export function describeWithChromium(title: string, body: () => void): void {
  const missing = chromiumMissing();
  if (!missing) return void describe(title, body);
  if (mustRun) {
    return void describe(title, () => {
      it('finds Chromium (CI=true: the browser tier may not skip)', () => {
        throw new Error(missing);
      });
    });
  }
  describe.skip(`${title} (skipped: ${missing})`, body);
}
