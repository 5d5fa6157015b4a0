// CORS in real Chromium: pages on other origins (tiny sites on other ports, see
// support/site.js) call the API from the browser. The server is started with one of them
// in CORS_ALLOWED_ORIGINS: that page gets through preflights and can read the headers
// clients need; the other, unlisted, page is refused by the browser.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';

import { createApi, newEmail } from './support/api.js';
import { launchBrowser } from './support/browser.js';
import { startServer, stopCleanly } from './support/server.js';
import { startSite } from './support/site.js';
import { eventually } from './support/ui.js';

let listed;
let unlisted;
let server;
let browser;
let api;

before(async () => {
  listed = await startSite();
  unlisted = await startSite();
  // Two origins, so the list is parsed as one; the first serves nothing.
  server = await startServer({ env: { CORS_ALLOWED_ORIGINS: `http://127.0.0.1:9,${listed.origin}` } });
  listed.useApi(server.url);
  unlisted.useApi(server.url);
  api = createApi(server.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopCleanly(server);
  await listed?.close();
  await unlisted?.close();
});

/** Runs `steps(page, consoleErrors)` in a fresh page of `site`. */
async function onSite(site, steps) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    await page.goto(`${site.origin}/`);
    await page.locator('html[data-ready]').waitFor();
    await steps(page, consoleErrors);
  } finally {
    await context.close();
  }
}

/** The page's own script calls the API; resolves to what it could read. */
const call = (page, path, options = {}) => page.evaluate(([p, o]) => window.otherApp.call(p, o), [path, options]);

/** Like `call`, for calls the browser should refuse: resolves to the rejection, as "Name: message". */
const refusal = (page, path, options = {}) =>
  page.evaluate(async ([p, o]) => {
    try {
      await window.otherApp.call(p, o);
      return 'not refused';
    } catch (error) {
      return `${error.name}: ${error.message}`;
    }
  }, [path, options]);

test('a page on a listed origin signs up, posts, reads ETag and Link, revalidates and follows the stream', async () => {
  await onSite(listed, async (page, consoleErrors) => {
    const credentials = { email: newEmail('cors'), password: 'from another origin' };
    // JSON bodies and the Authorization header need a preflight, and pass it.
    assert.equal((await call(page, '/api/users', { method: 'POST', body: credentials })).status, 201);
    const login = await call(page, '/api/login', { method: 'POST', body: credentials });
    assert.equal(login.status, 200);
    const { token, id: userId } = login.body;
    const me = await call(page, '/api/users/me', { token });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, credentials.email);

    const key = randomUUID();
    const post = (text) => call(page, '/api/chirps', { method: 'POST', token, body: { body: text }, headers: { 'Idempotency-Key': key } });
    const first = await post('Posted from another origin');
    assert.equal(first.status, 201);
    const replay = await post('Posted from another origin');
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, first.body.id, 'the same key replays the same chirp');

    // The ETag is exposed to scripts, and If-None-Match (preflighted too) gets a readable 304.
    const chirp = await call(page, `/api/chirps/${first.body.id}`);
    assert.equal(chirp.status, 200);
    assert.ok(chirp.etag, 'ETag readable from another origin');
    const again = await call(page, `/api/chirps/${first.body.id}`, { headers: { 'If-None-Match': chirp.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.etag, chirp.etag);

    // So is Link, on a page of a list.
    await api.postChirp(token, 'A second chirp, so there is a next page');
    const firstPage = await call(page, `/api/chirps?author_id=${userId}&limit=1`);
    assert.equal(firstPage.status, 200);
    assert.match(firstPage.link ?? '', /rel="next"/, 'Link readable from another origin');

    // The live stream works across origins too (EventSource is subject to CORS).
    await page.evaluate(() => window.otherApp.follow());
    const live = await api.postChirp(token, 'Seen live from another origin');
    await eventually(async () => {
      const events = await page.evaluate(() => window.otherApp.events);
      assert.ok(events.some((e) => e.chirp.id === live.id), 'the event arrived');
    });

    assert.deepEqual(consoleErrors, []);
  });
});

test('a page on an unlisted origin is refused by the browser: fetch rejects, the stream fails', async () => {
  const author = await api.newUser('cors-target');
  const chirp = await api.postChirp(author.token, 'Readable from Chirpy\'s own origin only');
  await onSite(unlisted, async (page, consoleErrors) => {
    // A simple GET reaches the server, but its answer carries no CORS headers.
    assert.match(await refusal(page, `/api/chirps/${chirp.id}`), /^TypeError: Failed to fetch/);
    // A JSON POST never leaves the preflight.
    const credentials = { email: author.email, password: author.password };
    assert.match(await refusal(page, '/api/login', { method: 'POST', body: credentials }), /^TypeError: Failed to fetch/);
    await assert.rejects(page.evaluate(() => window.otherApp.follow()), /the event stream was refused/);

    // Refused by CORS, not by anything else (the page's own CSP allows the API).
    const blocked = consoleErrors.filter((e) => /has been blocked by CORS policy/.test(e));
    assert.equal(blocked.length, 3, `expected three CORS refusals, got:\n${consoleErrors.join('\n')}`);
  });

  // What the browser saw, asked directly: no CORS headers for that origin; for the listed one, yes.
  const path = `/api/chirps/${chirp.id}`;
  const foreign = await api.call('GET', path, { headers: { Origin: unlisted.origin } });
  assert.equal(foreign.status, 200);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  const friendly = await api.call('GET', path, { headers: { Origin: listed.origin } });
  assert.equal(friendly.headers.get('access-control-allow-origin'), listed.origin);
  assert.match(friendly.headers.get('access-control-expose-headers') ?? '', /\betag\b/i);
});
