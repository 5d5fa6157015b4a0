// Posting with an Idempotency-Key: every post carries a fresh one, a post whose outcome is
// unknown (no answer, 5xx, 409) is retried once with the same key and never becomes two
// chirps, and a clear refusal (422, 400) is shown, not retried. Failures are injected with
// Playwright's request routing; the server's own store is the judge of "exactly one".

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { appSuite } from './support/suite.js';
import { chirpInFeed, eventually, logIn, nextResponse, post, readFeed, text } from './support/ui.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const suite = appSuite();
const { inApp } = suite;

const isPost = (request) => request.method() === 'POST' && new URL(request.url()).pathname === '/api/chirps';

/** The Idempotency-Key of every POST /api/chirps the page sends, in order. */
function recordKeys(page) {
  const keys = [];
  page.on('request', (request) => {
    if (isPost(request)) keys.push(request.headers()['idempotency-key']);
  });
  return keys;
}

/** Routes POST /api/chirps through `handle(route, attempt)`, attempt counting from 1. */
async function routePosts(page, handle) {
  let attempt = 0;
  await page.route('**/api/chirps', (route) => (isPost(route.request()) ? handle(route, ++attempt) : route.fallback()));
}

async function bodiesOnServer(user) {
  return (await suite.api.chirpsBy(user.id)).map((c) => c.body);
}

test('every post carries a fresh Idempotency-Key', async (t) => {
  const user = await suite.api.newUser('keyed');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const keys = recordKeys(page);
    await post(page, 'First, with a key');
    await post(page, 'Second, with another key');
    assert.equal(keys.length, 2);
    for (const key of keys) assert.match(key ?? '', UUID_V4);
    assert.notEqual(keys[0], keys[1]);
  });
});

const json = (status, error, headers = {}) => ({ status, contentType: 'application/json', headers, body: JSON.stringify({ error }) });

// The first attempt's fate; the second goes through untouched.
const LOST_ANSWERS = [
  {
    what: 'the connection drops after the server has posted it',
    first: async (route) => {
      await route.fetch();
      await route.abort('connectionreset');
    },
    expectedErrors: [/^Failed to load resource: net::ERR_CONNECTION_RESET/],
  },
  {
    what: 'a proxy answers 503 after the server has posted it',
    first: async (route) => {
      await route.fetch();
      await route.fulfill(json(503, 'Service Unavailable', { 'Retry-After': '1' }));
    },
    expectedErrors: [/^Failed to load resource: the server responded with a status of 503/],
  },
  {
    what: 'the server answers 409, the same key still in flight',
    first: (route) => route.fulfill(json(409, 'A request with this Idempotency-Key is still being handled')),
    expectedErrors: [],
  },
];

for (const { what, first, expectedErrors } of LOST_ANSWERS) {
  test(`when ${what}, the post is retried once with the same key: one chirp`, async (t) => {
    const user = await suite.api.newUser('retried');
    const body = `Exactly once, although ${what}`;
    await inApp(t, async ({ page }) => {
      await logIn(page, user.email, user.password);
      const keys = recordKeys(page);
      await routePosts(page, (route, attempt) => (attempt === 1 ? first(route) : route.fallback()));

      await page.fill('#chirp-body', body);
      const created = page.waitForResponse((r) => isPost(r.request()) && r.status() === 201);
      await page.click('#chirp-submit');
      const chirp = await (await created).json();
      await chirpInFeed(page, chirp.id);

      assert.equal(keys.length, 2, 'one retry');
      assert.equal(keys[1], keys[0], 'with the same key');
      assert.deepEqual(await bodiesOnServer(user), [body], 'exactly one chirp on the server');
      assert.equal((await readFeed(page)).filter((c) => c.body === body).length, 1);
      assert.equal(await text(page, '#status'), 'Posted.');
      assert.equal(await text(page, '#chirp-error'), '');
    }, { expectedErrors });
  });
}

test('a post that keeps failing is tried twice, then the error shows; posting the same text again reuses the key', async (t) => {
  const user = await suite.api.newUser('unlucky');
  const body = 'Posted on the third try';
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const keys = recordKeys(page);
    await routePosts(page, (route) => route.fulfill(json(503, 'Chirpy is down for maintenance')));

    await page.fill('#chirp-body', body);
    await page.click('#chirp-submit');
    await eventually(async () => assert.equal(await text(page, '#chirp-error'), 'Chirpy is down for maintenance'));
    // The error shows after the last attempt, so this is the final count.
    assert.equal(keys.length, 2, 'one retry, no more');
    assert.deepEqual(await bodiesOnServer(user), []);
    assert.equal(await page.inputValue('#chirp-body'), body, 'the draft is kept');

    // The person tries again: the same draft, the same key (the first tries may have landed).
    await page.unroute('**/api/chirps');
    const created = nextResponse(page, 'POST', '/api/chirps');
    await page.click('#chirp-submit');
    assert.equal((await created).status(), 201);
    assert.equal(keys.length, 3);
    assert.equal(keys[2], keys[0]);
    assert.deepEqual(await bodiesOnServer(user), [body]);
  }, { expectedErrors: [/^Failed to load resource: the server responded with a status of 503/] });
});

test('a 422 (key used for another chirp) or a 400 (malformed key) from the server is shown and not retried', async (t) => {
  const user = await suite.api.newUser('refused');
  const usedKey = randomUUID();
  const original = await suite.api.call('POST', '/api/chirps', {
    body: { body: 'The chirp this key was first used for' },
    authorization: `Bearer ${user.token}`,
    headers: { 'Idempotency-Key': usedKey },
  });
  assert.equal(original.status, 201);

  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const keys = recordKeys(page);
    for (const [key, status] of [[usedKey, 422], ['not a valid key', 400]]) {
      // The app's own key replaced on the way out, so the server itself refuses.
      await routePosts(page, (route) =>
        route.fallback({ headers: { ...route.request().headers(), 'idempotency-key': key } }));
      const sent = keys.length;
      await page.fill('#chirp-body', `Refused with ${status}`);
      const refused = nextResponse(page, 'POST', '/api/chirps');
      await page.click('#chirp-submit');
      const response = await refused;
      assert.equal(response.status(), status);
      const { error } = await response.json();
      assert.ok(error, 'the server says why');
      await eventually(async () => assert.equal(await text(page, '#chirp-error'), error));
      assert.equal(keys.length - sent, 1, `no retry after ${status}`);
      await page.unroute('**/api/chirps');
    }
    assert.deepEqual(await bodiesOnServer(user), ['The chirp this key was first used for']);
  });
});
