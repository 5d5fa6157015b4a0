// Headless Chromium (Debian's package, never a downloaded build) driven by playwright-core,
// and pages that check the app is served with a strict Content-Security-Policy and fail
// the test on any console error, uncaught exception or CSP violation.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Every run's screenshots (git-ignored): the main screens, and any failing test's page. */
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '../../screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 375, height: 812 };

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    // We run as root (hence --no-sandbox) on a machine without internet: keep Chromium
    // from phoning home, which would only time out.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// Chromium logs every fetch answered with an error status ("Failed to load resource: the
// server responded with a status of 401"); those are the API doing its job (a wrong
// password, an expired token about to be refreshed), not errors in the page.
const API_ERROR_STATUS = /^Failed to load resource: the server responded with a status of 4\d\d\b/;

/**
 * A fresh context (its own localStorage) and page on `baseUrl`, whose document must come
 * with the server's strict CSP (no inline code, own origin only). `problems` collects
 * console errors, page errors and CSP violations, except console errors matching one of
 * `expectedErrors` (what a test provokes on purpose, such as a 503 it injected);
 * `requests` every request the page made ("POST /api/refresh" and so on);
 * call `assertClean()` at the end of each test.
 */
export async function openApp(browser, baseUrl, { viewport = DESKTOP, path = '/app/', expectedErrors = [] } = {}) {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, reducedMotion: 'reduce' });
  const problems = [];
  const requests = [];

  // Reported from inside the page too, in case a violation is not logged to the console.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline code'}`);
    });
  });

  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const url = message.location()?.url ?? '';
    if (API_ERROR_STATUS.test(text) && new URL(url, baseUrl).pathname.startsWith('/api/')) return;
    if (expectedErrors.some((pattern) => pattern.test(text))) return;
    problems.push(`console error: ${text} (${url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.stack || error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    requests.push(`${request.method()} ${url.pathname}${url.search}`);
  });

  const document = await page.goto(path);
  const csp = document.headers()['content-security-policy'] ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) {
    if (!csp.includes(directive)) throw new Error(`the app is served without ${directive}: ${csp}`);
  }
  if (/unsafe-(inline|eval)/.test(csp)) throw new Error(`the app's CSP allows unsafe code: ${csp}`);
  await page.locator('html[data-ready]').waitFor();

  return {
    context,
    page,
    problems,
    requests,
    assertClean() {
      if (problems.length) throw new Error(`the page reported problems:\n${problems.join('\n')}`);
    },
    async close() {
      await context.close();
    },
  };
}

/**
 * Runs `steps(app)` in a fresh app and then checks the page reported no problems; on a
 * failure keeps a full-page screenshot, named after the test, under SCREENSHOTS.
 */
export async function inApp(browser, baseUrl, t, steps, { screenshotDir = SCREENSHOTS, ...options } = {}) {
  const app = await openApp(browser, baseUrl, options);
  try {
    await steps(app);
    app.assertClean();
  } catch (error) {
    const name = t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 80);
    await app.page.screenshot({ path: join(screenshotDir, `failed-${name}.png`), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await app.close();
  }
}
