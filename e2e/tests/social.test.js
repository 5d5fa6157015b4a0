// Profiles, handles, follows and the live Home timeline, in the web app: setting a handle,
// name and bio in settings (and at sign-up); profile pages by handle and by id, with
// Follow / Unfollow and counts; authors named by display name and @handle, fetched once per
// author; Home, the default tab when logged in, read a page at a time and kept live through
// GET /api/timelines/home/stream (fetch() with the token in a header, never in the URL):
// a followed author's chirp arrives without a reload, and unfollowing takes their chirps
// away, whether it is done here or on another device.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { newEmail } from './support/api.js';
import { inApp as runInApp } from './support/browser.js';
import { startProxy } from './support/proxy.js';
import { appSuite } from './support/suite.js';
import {
  chirpInFeed,
  eventually,
  feedIdle,
  feedLive,
  homeFetches,
  logIn,
  nextResponse,
  post,
  profileShown,
  readFeed,
  showTab,
  signUp,
  storedSession,
  text,
} from './support/ui.js';

const suite = appSuite();
const { inApp } = suite;

/** A handle no other test takes: handles are unique on the server. */
const newHandle = (name) => `${name}_${randomUUID().slice(0, 8)}`;

/** Someone to follow: a user with a handle, a display name and a bio. */
async function newPerson(name, displayName, bio = '') {
  const user = await suite.api.newUser(name);
  const handle = newHandle(name);
  await suite.api.setProfile(user.token, { handle, display_name: displayName, bio });
  return { ...user, handle };
}

/** Goes to a profile page by typing its address: `#/@handle`. */
async function openByHandle(page, handle) {
  const asked = nextResponse(page, 'GET', `/api/users/${handle}`);
  await page.evaluate((h) => { location.hash = `#/@${h}`; }, handle);
  return asked;
}

/** Back from a profile page to Home, once Home has loaded. */
async function backHome(page) {
  const home = nextResponse(page, 'GET', '/api/timelines/home');
  await page.click('#back-to-feed');
  assert.equal((await home).status(), 200);
  await feedIdle(page);
  assert.equal(await page.getAttribute('#tab-home', 'aria-selected'), 'true');
}

/** Presses Follow or Unfollow on the profile shown, and waits for the button to say so. */
async function toggleFollow(page, userId, method) {
  const done = nextResponse(page, method, `/api/users/${userId}/follow`);
  await page.click('#follow-button');
  assert.equal((await done).status(), 204);
  const following = method === 'PUT';
  await eventually(async () => assert.equal(await page.getAttribute('#follow-button', 'data-following'), String(following)));
  assert.match(await text(page, '#follow-button'), following ? /^Unfollow/ : /^Follow/);
}

test('set a handle, follow someone from their profile: their new chirp arrives live on Home; unfollow and they go', async (t) => {
  const kim = await newPerson('kim', 'Kim Wexler', 'Lawyer.\nCoffee first.');
  const older = await suite.api.postChirp(kim.token, 'Kim, before anyone followed her');
  const user = await suite.api.newUser('saul');
  const myHandle = newHandle('saul');
  await inApp(t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    // Home is where a session starts, and Kim is not followed yet.
    assert.equal(await page.getAttribute('#tab-home', 'aria-selected'), 'true');
    assert.ok(requests.includes('GET /api/timelines/home?limit=20'));
    await feedLive(page);
    assert.ok(!(await readFeed(page)).some((c) => c.id === older.id));

    // Settings: a handle (typed with its @), a display name and a bio.
    await page.click('#settings-button');
    await page.locator('#profile-form').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'settings-heading');
    await page.fill('#profile-handle-input', `@${myHandle}`);
    await page.fill('#profile-display-name', 'Saul Goodman');
    await page.fill('#profile-bio-input', 'Better call me.');
    const saved = nextResponse(page, 'PATCH', '/api/users/me');
    await page.click('#profile-form button[type=submit]');
    const answer = await saved;
    assert.equal(answer.status(), 200);
    assert.deepEqual(answer.request().postDataJSON(), { handle: myHandle, display_name: 'Saul Goodman', bio: 'Better call me.' });
    await page.locator('#composer').waitFor();
    assert.equal(await text(page, '#status'), `Your profile is saved. You are @${myHandle}.`);
    assert.equal((await storedSession(page)).user.handle, myHandle);
    const onServer = await suite.api.profile(`@${myHandle}`);
    assert.equal(onServer.id, user.id);
    assert.equal(onServer.display_name, 'Saul Goodman');
    assert.equal(onServer.bio, 'Better call me.');

    // One's own chirps carry the new name and handle, and link to one's profile by handle.
    const mine = await post(page, 'Hello, now with a handle');
    const shown = (await readFeed(page)).find((c) => c.id === mine.id);
    assert.deepEqual([shown.author, shown.handle, shown.href], ['Saul Goodman', `@${myHandle}`, `#/@${myHandle}`]);

    // Kim's profile, by handle, asked with the token so that it says whether we follow her.
    const asked = await openByHandle(page, kim.handle);
    assert.equal(asked.status(), 200);
    assert.match((await asked.request().allHeaders()).authorization ?? '', /^Bearer /);
    assert.equal((await asked.json()).followed_by_me, false);
    await profileShown(page, 'Kim Wexler');
    assert.equal(await text(page, '#profile-handle'), `@${kim.handle}`);
    assert.equal(await page.locator('#profile-bio').textContent(), 'Lawyer.\nCoffee first.');
    assert.equal(await text(page, '#profile-followers'), '0 followers');
    assert.equal(await text(page, '#profile-following'), '0 following');
    assert.equal(await text(page, '#profile-chirps'), '1 chirp');
    assert.deepEqual((await readFeed(page)).map((c) => c.id), [older.id]);
    assert.ok(requests.includes(`GET /api/chirps?sort=desc&author_id=${kim.id}&limit=20`), 'her chirps, newest first');
    assert.ok(await page.locator('#edit-profile-button').isHidden());

    await toggleFollow(page, kim.id, 'PUT');
    await eventually(async () => assert.equal(await text(page, '#profile-followers'), '1 follower'));
    assert.equal(await text(page, '#status'), `You follow @${kim.handle} now: their chirps show on Home.`);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'follow-button', 'focus stays on the button');

    // Home now has her chirps too, newest first.
    await backHome(page);
    await feedLive(page);
    let feed = await readFeed(page);
    assert.deepEqual(feed.map((c) => c.id), [mine.id, older.id]);
    assert.deepEqual([feed[1].author, feed[1].handle, feed[1].href], ['Kim Wexler', `@${kim.handle}`, `#/@${kim.handle}`]);

    // She posts (elsewhere): it arrives on Home, on top, without a reload or a refetch.
    await page.evaluate(() => { window.__sameDocument = true; });
    const fetched = homeFetches(requests);
    const live = await suite.api.postChirp(kim.token, 'Kim, live on Home');
    await chirpInFeed(page, live.id);
    feed = await readFeed(page);
    assert.equal(feed[0].id, live.id);
    assert.equal(feed[0].author, 'Kim Wexler');
    assert.equal(feed.filter((c) => c.id === live.id).length, 1);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    assert.equal(homeFetches(requests), fetched, 'nor was Home fetched again');

    // Unfollow from her profile (the author link leads there): Home no longer has her.
    await page.click(`#feed li[data-chirp-id="${live.id}"] .author`);
    await profileShown(page, 'Kim Wexler');
    assert.equal(await page.evaluate(() => location.hash), `#/@${kim.handle}`);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'profile-name');
    await toggleFollow(page, kim.id, 'DELETE');
    await eventually(async () => assert.equal(await text(page, '#profile-followers'), '0 followers'));
    assert.equal(await text(page, '#status'), `You no longer follow @${kim.handle}.`);
    await backHome(page);
    assert.deepEqual((await readFeed(page)).map((c) => c.id), [mine.id]);
  });
});

test('follows made on another device change an open Home live: a follow brings their chirps, an unfollow takes them away', async (t) => {
  const mike = await newPerson('mike', 'Mike Ehrmantraut');
  const his = await suite.api.postChirp(mike.token, 'Mike, before the follow');
  const user = await suite.api.newUser('watcher');
  await inApp(t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    await feedLive(page);
    assert.equal((await readFeed(page)).length, 0);
    assert.equal(await text(page, '#feed-message'), 'Nothing here yet. Your chirps and those of the people you follow show here: find people under Everyone.');
    await page.evaluate(() => { window.__sameDocument = true; });

    // follow.created: Home is read again, with his past chirps.
    const reread = nextResponse(page, 'GET', '/api/timelines/home');
    await suite.api.follow(user.token, mike.id);
    assert.equal((await reread).status(), 200);
    await chirpInFeed(page, his.id);
    assert.equal((await readFeed(page))[0].author, 'Mike Ehrmantraut');
    const live = await suite.api.postChirp(mike.token, 'Mike, followed from another device');
    await chirpInFeed(page, live.id);

    // follow.deleted: his chirps go, without reading Home again.
    const fetched = homeFetches(requests);
    await suite.api.unfollow(user.token, mike.id);
    await chirpInFeed(page, his.id, { state: 'detached' });
    await chirpInFeed(page, live.id, { state: 'detached' });
    // And what he posts now does not come: events come in order, so by the time a later
    // chirp of one's own has arrived, his would have.
    const unseen = await suite.api.postChirp(mike.token, 'Mike, no longer followed');
    const mine = await suite.api.postChirp(user.token, 'Mine, after the unfollow');
    await chirpInFeed(page, mine.id);
    assert.deepEqual((await readFeed(page)).map((c) => c.id), [mine.id]);
    assert.ok(!(await readFeed(page)).some((c) => c.id === unseen.id));
    assert.equal(homeFetches(requests), fetched);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  });
});

test('your own post shows once on Home, though the home stream brings it too; a chirp deleted elsewhere goes', async (t) => {
  const user = await suite.api.newUser('poster');
  const friend = await suite.api.newUser('friend');
  await suite.api.follow(user.token, friend.id);
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await feedLive(page);
    const mine = await post(page, 'Mine, on Home');
    const later = await suite.api.postChirp(friend.token, 'Posted after yours');
    await chirpInFeed(page, later.id);
    let feed = await readFeed(page);
    assert.deepEqual(feed.slice(0, 2).map((c) => c.id), [later.id, mine.id]);
    assert.equal(feed.filter((c) => c.id === mine.id).length, 1, 'no duplicate');
    assert.equal(feed.find((c) => c.id === mine.id).canDelete, true);

    await suite.api.deleteChirp(friend.token, later.id);
    await chirpInFeed(page, later.id, { state: 'detached' });
    feed = await readFeed(page);
    assert.deepEqual(feed.map((c) => c.id), [mine.id]);
  });
});

test('settings show the server\'s word on a taken, reserved or malformed handle; sign-up takes an optional handle', async (t) => {
  const taken = await newPerson('taken', 'Taken');
  const user = await suite.api.newUser('chooser');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await page.click('#settings-button');
    await page.locator('#profile-form').waitFor();
    assert.equal(await page.inputValue('#profile-handle-input'), '', 'no handle yet');

    for (const [handle, status, error] of [
      [taken.handle.toUpperCase(), 409, 'Handle is already taken'],
      ['admin', 400, 'This handle is reserved'],
      ['no spaces', 400, 'Handle must be 3 to 30 letters, digits or underscores'],
    ]) {
      await page.fill('#profile-handle-input', handle);
      const refused = nextResponse(page, 'PATCH', '/api/users/me');
      await page.click('#profile-form button[type=submit]');
      assert.equal((await refused).status(), status);
      await eventually(async () => assert.equal(await text(page, '#profile-error'), error));
      assert.equal(await page.evaluate(() => document.activeElement.id), 'profile-handle-input');
      assert.ok(await page.locator('#profile-form').isVisible(), 'still in settings');
    }
    await page.fill('#profile-handle-input', '');
    await page.fill('#profile-display-name', 'x'.repeat(51));
    const tooLong = nextResponse(page, 'PATCH', '/api/users/me');
    await page.click('#profile-form button[type=submit]');
    assert.equal((await tooLong).status(), 400);
    await eventually(async () => assert.match(await text(page, '#profile-error'), /Display name is too long/));
    assert.equal((await suite.api.profile(user.id)).handle ?? null, null, 'nothing was changed');
  });

  // Sign up with a handle: it is one's own at once; a taken one is refused inline.
  const handle = newHandle('newbie');
  await inApp(t, async ({ page }) => {
    const refused = await signUp(page, newEmail('refused'), 'a password', { handle: taken.handle });
    assert.equal((await refused).status(), 409);
    await eventually(async () => assert.equal(await text(page, '#signup-error'), 'Handle is already taken'));

    await page.click('#show-login');
    const response = await signUp(page, newEmail('newbie'), 'a password', { handle: `@${handle}` });
    assert.equal(response.status(), 201);
    assert.equal(response.request().postDataJSON().handle, handle);
    await page.locator('#composer').waitFor();
    assert.equal((await storedSession(page)).user.handle, handle);
    const mine = await post(page, 'Signed up with a handle');
    assert.equal((await readFeed(page)).find((c) => c.id === mine.id).author, `@${handle}`);
  });
});

test('authors are named from their profiles, one request per distinct author, and link to their pages', async (t) => {
  const named = await newPerson('named', 'Named Person');
  const handleOnly = await suite.api.newUser('handleonly');
  const onlyHandle = newHandle('plain');
  await suite.api.setProfile(handleOnly.token, { handle: onlyHandle });
  const nameless = await suite.api.newUser('nameless');
  // Hostile text in a name is shown as text, like a chirp's.
  const hostile = await suite.api.newUser('hostile');
  await suite.api.setProfile(hostile.token, { display_name: '<img src=x onerror="window.__pwned=1">' });
  const authors = [named, handleOnly, nameless, hostile];
  for (let i = 0; i < 3; i++) {
    for (const author of authors) await suite.api.postChirp(author.token, `Chirp ${i} by ${author.email}`);
  }
  await inApp(t, async ({ page, requests }) => {
    const feed = await readFeed(page);
    const by = (author) => feed.find((c) => c.userId === author.id);
    assert.deepEqual([by(named).author, by(named).handle, by(named).href], ['Named Person', `@${named.handle}`, `#/@${named.handle}`]);
    assert.deepEqual([by(handleOnly).author, by(handleOnly).handle], [`@${onlyHandle}`, null]);
    assert.deepEqual([by(nameless).author, by(nameless).href], [nameless.id.slice(0, 8), `#/u/${nameless.id}`]);
    assert.equal(by(hostile).author, '<img src=x onerror="window.__pwned=1">');
    assert.equal(await page.locator('#feed img').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);

    for (const author of authors) {
      const asked = requests.filter((r) => r === `GET /api/users/${author.id}`).length;
      assert.equal(asked, 1, `${author.email}: one profile request for three chirps`);
    }
    const authorsShown = new Set(feed.map((c) => c.userId)).size;
    assert.equal(requests.filter((r) => /^GET \/api\/users\/[0-9a-f-]{36}$/.test(r)).length, authorsShown);

    // By id, for someone with a handle: the address becomes the handle's.
    await page.evaluate((id) => { location.hash = `#/u/${id}`; }, named.id);
    await profileShown(page, 'Named Person');
    await eventually(async () => assert.equal(await page.evaluate(() => location.hash), `#/@${named.handle}`));
    assert.ok(await page.locator('#follow-button').isHidden(), 'logged out: nothing to follow with');

    // Nobody by that handle.
    const missing = await openByHandle(page, newHandle('nobody'));
    assert.equal(missing.status(), 404);
    await eventually(async () => assert.equal(await text(page, '#profile-name'), 'No such user'));
    assert.match(await text(page, '#profile-message'), /^Nobody has the handle @nobody_/);
    assert.ok(await page.locator('#feed-view').isHidden());
  });
});

test('Home and profile pages come a page at a time: More follows the Link header', async (t) => {
  const user = await suite.api.newUser('prolific');
  const posted = [];
  for (let i = 0; i < 23; i++) posted.push((await suite.api.postChirp(user.token, `Number ${i}`)).id);
  const newestFirst = [...posted].reverse();
  await inApp(t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    assert.deepEqual((await readFeed(page)).map((c) => c.id), newestFirst.slice(0, 20));
    const more = nextResponse(page, 'GET', '/api/timelines/home', (url) => url.searchParams.has('cursor'));
    await page.click('#feed-more');
    assert.equal((await more).status(), 200);
    await feedIdle(page);
    assert.deepEqual((await readFeed(page)).map((c) => c.id), newestFirst);
    assert.ok(await page.locator('#feed-more').isHidden(), 'no more after the last page');
    assert.equal(await page.evaluate(() => document.activeElement.closest('li')?.dataset.chirpId), newestFirst[20], 'reading goes on from the first new chirp');

    // The same on one's profile page.
    await page.click(`#feed li[data-chirp-id="${posted[0]}"] .author`);
    await profileShown(page, user.id.slice(0, 8));
    assert.equal((await readFeed(page)).length, 20);
    const next = nextResponse(page, 'GET', '/api/chirps', (url) => url.searchParams.has('cursor'));
    await page.click('#feed-more');
    assert.equal(new URL((await next).url()).searchParams.get('author_id'), user.id);
    await feedIdle(page);
    assert.deepEqual((await readFeed(page)).map((c) => c.id), newestFirst);
    assert.ok(requests.filter((r) => r.startsWith('GET /api/chirps?')).every((r) => r.includes('limit=20')));
  });
});

test('after a dropped connection the home stream resumes with Last-Event-ID: nothing missed, no reload', async (t) => {
  const user = await suite.api.newUser('outage');
  const friend = await suite.api.newUser('friend');
  await suite.api.follow(user.token, friend.id);
  const proxy = await startProxy(suite.server.url);
  t.after(() => proxy.close());
  const expectedErrors = [/^Failed to load resource: net::ERR_/];
  await runInApp(suite.browser, proxy.url, t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    await feedLive(page);
    const before = await suite.api.postChirp(friend.token, 'Before the outage');
    await chirpInFeed(page, before.id);
    const fetched = homeFetches(requests);
    const isStream = (request) => new URL(request.url()).pathname === '/api/timelines/home/stream';
    const reconnect = page.waitForRequest(isStream, { timeout: 20_000 });

    proxy.cut();
    await page.locator('#live-indicator').waitFor({ state: 'hidden' });
    const during = await suite.api.postChirp(friend.token, 'During the outage');
    await suite.api.deleteChirp(friend.token, before.id);
    proxy.restore();

    const headers = await (await reconnect).allHeaders();
    assert.ok(headers['last-event-id'], 'resumed with Last-Event-ID');
    await chirpInFeed(page, during.id, { timeout: 20_000 });
    await chirpInFeed(page, before.id, { state: 'detached' });
    await feedLive(page);
    assert.equal(homeFetches(requests), fetched, 'caught up from the stream, not by fetching Home again');
  }, { expectedErrors });
});

test('when the home stream is refused (503), Home still loads, and the stream is tried again later', async (t) => {
  const user = await suite.api.newUser('refused');
  const friend = await suite.api.newUser('friend');
  await suite.api.follow(user.token, friend.id);
  const earlier = await suite.api.postChirp(friend.token, 'Posted before the page opened');
  const expectedErrors = [/^Failed to load resource: the server responded with a status of 503/];
  await inApp(t, async ({ page, requests }) => {
    let refusals = 0;
    await page.route('**/api/timelines/home/stream', (route) => {
      if (refusals++ > 0) return route.fallback();
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        headers: { 'Retry-After': '1' },
        body: JSON.stringify({ error: 'the most streams this server keeps open are open' }),
      });
    });
    await logIn(page, user.email, user.password);
    await chirpInFeed(page, earlier.id);
    assert.ok(await page.locator('#live-indicator').isHidden(), 'not live');
    // Retried after 15 seconds, as the public feed's EventSource is.
    await page.locator('#live-indicator').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(refusals, 2);
    const live = await suite.api.postChirp(friend.token, 'Live once the stream is open');
    await chirpInFeed(page, live.id);
    assert.ok(homeFetches(requests) >= 2, 'Home read again: the new stream starts from now');
  }, { expectedErrors });
});
