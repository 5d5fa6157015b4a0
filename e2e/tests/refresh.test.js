// Token refresh, against a server whose access tokens live two seconds
// (ACCESS_TOKEN_TTL=2): when one has expired, the next authenticated action gets a new
// access token with the refresh token and is retried once, without the user noticing; when
// the refresh token is refused too, the app logs out locally and says why.
//
// The live Home timeline refreshes the token on its own each time its stream ends with the
// token (every two seconds here), so the tests of one action's refresh and retry read
// Everyone's feed, whose stream needs no token; the last test is Home's.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appSuite } from './support/suite.js';
import {
  chirpInFeed,
  feedLive,
  homeFetches,
  logIn,
  post,
  readFeed,
  showTab,
  storedSession,
  text,
} from './support/ui.js';

const TTL_SECONDS = 2;

const suite = appSuite({ env: { ACCESS_TOKEN_TTL: String(TTL_SECONDS) } });
const { inApp } = suite;

/** Past the access token's expiry (whole seconds, no leeway on the server). */
const outliveAccessToken = () => new Promise((r) => setTimeout(r, (TTL_SECONDS + 1) * 1000 + 200));

test('an expired access token is refreshed and the action retried, transparently', async (t) => {
  const user = await suite.api.newUser('patient');
  await inApp(t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    await showTab(page, 'Everyone');
    const before = await storedSession(page);
    await outliveAccessToken();

    const since = requests.length;
    const chirp = await post(page, 'Posted with an expired access token');
    assert.deepEqual(
      requests.slice(since).filter((r) => r.startsWith('POST ')),
      ['POST /api/chirps', 'POST /api/refresh', 'POST /api/chirps'],
      'one refresh, one retry',
    );
    assert.equal(await text(page, '#chirp-error'), '');
    assert.equal(await text(page, '#status'), 'Posted.');

    const after = await storedSession(page);
    assert.notEqual(after.token, before.token, 'the new access token is kept');
    assert.equal(after.refreshToken, before.refreshToken);

    // The same for a delete, after the new token has expired as well.
    await outliveAccessToken();
    const mark = requests.length;
    const gone = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.status() === 204);
    await page.click(`#feed li[data-chirp-id="${chirp.id}"] button.delete`);
    await gone;
    await page.locator(`#feed li[data-chirp-id="${chirp.id}"]`).waitFor({ state: 'detached' });
    assert.ok(requests.slice(mark).includes('POST /api/refresh'));
    assert.ok(await page.locator('#composer').isVisible(), 'still logged in');
  });
});

test('when the refresh token is refused too, the app logs out locally and says so', async (t) => {
  const user = await suite.api.newUser('revoked');
  await inApp(t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    await showTab(page, 'Everyone');
    const { refreshToken } = await storedSession(page);
    // Revoked behind the app's back, as a log out on another device would.
    assert.equal((await suite.api.call('POST', '/api/revoke', { authorization: `Bearer ${refreshToken}` })).status, 204);
    await outliveAccessToken();

    await page.fill('#chirp-body', 'This will not be posted');
    const refused = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/refresh');
    await page.click('#chirp-submit');
    assert.equal((await refused).status(), 401);
    await page.locator('#login-form').waitFor();
    assert.equal(await text(page, '#login-error'), 'Your session has expired. Please log in again.');
    assert.equal(await storedSession(page), null);
    assert.equal(requests.filter((r) => r === 'POST /api/chirps').length, 1, 'no retry without a new token');
  });
});

test('on load, a session whose refresh token was revoked elsewhere ends, and the app says so', async (t) => {
  const user = await suite.api.newUser('stale');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    // An open Home would find out by itself, before the reload: its stream ends with the token.
    await showTab(page, 'Everyone');
    const { refreshToken } = await storedSession(page);
    assert.equal((await suite.api.call('POST', '/api/revoke', { authorization: `Bearer ${refreshToken}` })).status, 204);
    await outliveAccessToken();

    // Nothing to do but open the app: asking the server who we are finds out.
    await page.reload();
    await page.locator('#login-form').waitFor();
    assert.equal(await text(page, '#login-error'), 'Your session has expired. Please log in again.');
    assert.equal(await storedSession(page), null);
  });
});

test('Home stays live as access tokens expire: the stream is refreshed and resumed, nothing missed', async (t) => {
  const user = await suite.api.newUser('homebody');
  const friend = await suite.api.newUser('friend');
  // Tokens live two seconds: each call from here logs in afresh.
  const token = async (who) => (await suite.api.logIn(who.email, who.password)).token;
  await suite.api.follow(await token(user), friend.id);
  await inApp(t, async ({ page, requests }) => {
    const streams = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/timelines/home/stream') streams.push(request);
    });
    await logIn(page, user.email, user.password);
    await feedLive(page);
    const first = await suite.api.postChirp(await token(friend), 'Before the access token expires');
    await chirpInFeed(page, first.id);
    const mark = streams.length;
    const fetched = homeFetches(requests);
    const refreshes = requests.filter((r) => r === 'POST /api/refresh').length;

    // The server ends the stream with each token; two of them expire here.
    await outliveAccessToken();
    await outliveAccessToken();
    const second = await suite.api.postChirp(await token(friend), 'After two tokens expired');
    await chirpInFeed(page, second.id);

    assert.ok(requests.filter((r) => r === 'POST /api/refresh').length >= refreshes + 2, 'a new token for each');
    const reconnects = streams.slice(mark);
    assert.ok(reconnects.length >= 2, 'the stream was opened again');
    for (const request of reconnects) {
      const headers = await request.allHeaders();
      assert.ok(headers['last-event-id'], 'resumed with Last-Event-ID');
      assert.match(headers.authorization ?? '', /^Bearer /, 'the token goes in the header');
      assert.equal(new URL(request.url()).search, '', 'never in the URL');
    }
    assert.equal(homeFetches(requests), fetched, 'caught up from the stream, not by fetching Home again');
    assert.deepEqual((await readFeed(page)).slice(0, 2).map((c) => c.id), [second.id, first.id]);
    assert.ok(await page.locator('#composer').isVisible(), 'still logged in');
  });
});
