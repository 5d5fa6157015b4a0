// The live feed: chirps posted and deleted through the API (by someone else, elsewhere)
// reach an already open page through GET /api/chirps/stream, without a reload, in the
// feed's order and filter, once each, and across a dropped connection.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { inApp as runInApp } from './support/browser.js';
import { startProxy } from './support/proxy.js';
import { appSuite } from './support/suite.js';
import { chirpInFeed, feedLive, listFetches, logIn, post, readFeed, reloadFeed, showTab } from './support/ui.js';

const suite = appSuite();
const { inApp } = suite;

test('a chirp posted through the API appears in an open feed without a reload; deleting it takes it away', async (t) => {
  const author = await suite.api.newUser('elsewhere');
  await inApp(t, async ({ page, requests }) => {
    await feedLive(page);
    assert.ok(requests.includes('GET /api/chirps/stream'), 'the page follows the stream');
    // Gone after a reload: proves the page below is the same document.
    await page.evaluate(() => { window.__sameDocument = true; });
    const fetched = listFetches(requests);

    const chirp = await suite.api.postChirp(author.token, 'Posted through the API, seen live');
    await chirpInFeed(page, chirp.id, { timeout: 5_000 });
    const feed = await readFeed(page);
    assert.equal(feed[0].id, chirp.id, 'newest first: on top');
    assert.equal(feed[0].body, 'Posted through the API, seen live');
    assert.equal(feed[0].author, author.id.slice(0, 8));
    assert.equal(feed.filter((c) => c.id === chirp.id).length, 1);

    await suite.api.deleteChirp(author.token, chirp.id);
    await chirpInFeed(page, chirp.id, { state: 'detached', timeout: 5_000 });

    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    assert.equal(listFetches(requests), fetched, 'nor was the list fetched again');
  });
});

test('live chirps take their place in the sort order and respect the author filter', async (t) => {
  const kim = await suite.api.newUser('kim');
  const mike = await suite.api.newUser('mike');
  const kimsFirst = await suite.api.postChirp(kim.token, 'Kim, before the page opened');
  await inApp(t, async ({ page, requests }) => {
    await feedLive(page);
    await reloadFeed(page, () => page.click('#sort-toggle'), (url) => url.searchParams.get('sort') === 'asc');
    const late = await suite.api.postChirp(mike.token, 'Mike, live, with the oldest first');
    await chirpInFeed(page, late.id);
    assert.equal((await readFeed(page)).at(-1).id, late.id, 'oldest first: at the bottom');

    // Kim's profile page, with only her chirps, newest first: a stream for her alone
    // replaces the one for everyone.
    const mark = requests.length;
    const author = page.locator(`#feed li[data-chirp-id="${kimsFirst.id}"] .author`);
    await reloadFeed(page, () => author.click(), (url) => url.searchParams.get('author_id') === kim.id);
    assert.ok(requests.slice(mark).includes(`GET /api/chirps/stream?author_id=${kim.id}`));
    await feedLive(page);
    const mikes = await suite.api.postChirp(mike.token, 'Mike, while the feed shows only Kim');
    const kims = await suite.api.postChirp(kim.token, 'Kim, live, while the feed shows only her');
    // Events come in order, so by the time Kim's shows, Mike's would have too.
    await chirpInFeed(page, kims.id);
    assert.deepEqual((await readFeed(page)).map((c) => c.id), [kims.id, kimsFirst.id]);

    const everyone = await reloadFeed(page, () => page.click('#back-to-feed'), (url) => !url.searchParams.has('author_id'));
    assert.ok(everyone.some((c) => c.id === mikes.id), 'back to everyone, Mike included');
    assert.equal(everyone.at(-1).id, kims.id, 'still oldest first');
    assert.equal(requests.slice(mark).filter((r) => r === 'GET /api/chirps/stream').length, 1);
  });
});

test('your own post shows once, though the stream brings it too', async (t) => {
  const user = await suite.api.newUser('poster');
  const other = await suite.api.newUser('neighbour');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    // Everyone's feed (Home has its own test in social.test.js): the neighbour is not followed.
    await showTab(page, 'Everyone');
    await feedLive(page);
    const mine = await post(page, 'Mine, from the composer');
    // Events come in order: once a later chirp has arrived, the event for mine has too.
    const later = await suite.api.postChirp(other.token, 'Posted after yours');
    await chirpInFeed(page, later.id);
    const feed = await readFeed(page);
    assert.deepEqual(feed.slice(0, 2).map((c) => c.id), [later.id, mine.id]);
    assert.equal(feed.filter((c) => c.id === mine.id).length, 1, 'no duplicate');
    assert.equal(feed.find((c) => c.id === mine.id).canDelete, true, 'still shown as yours');
  });
});

test('after a dropped connection the stream resumes with Last-Event-ID: nothing missed, no reload', async (t) => {
  const author = await suite.api.newUser('outage');
  const proxy = await startProxy(suite.server.url);
  t.after(() => proxy.close());
  // The dropped stream and the attempts while the network is down, as Chromium logs them.
  const expectedErrors = [/^Failed to load resource: net::ERR_/];
  await runInApp(suite.browser, proxy.url, t, async ({ page, requests }) => {
    await feedLive(page);
    const before = await suite.api.postChirp(author.token, 'Before the outage');
    await chirpInFeed(page, before.id);
    const fetched = listFetches(requests);
    const isStream = (request) => new URL(request.url()).pathname === '/api/chirps/stream';
    const reconnect = page.waitForRequest(isStream, { timeout: 20_000 });

    proxy.cut();
    await page.locator('#live-indicator').waitFor({ state: 'hidden' });
    // While the page cannot hear about it: a new chirp, and the old one deleted.
    const during = await suite.api.postChirp(author.token, 'During the outage');
    await suite.api.deleteChirp(author.token, before.id);
    proxy.restore();

    const headers = await (await reconnect).allHeaders();
    assert.ok(headers['last-event-id'], 'EventSource resumes with Last-Event-ID');
    await chirpInFeed(page, during.id, { timeout: 20_000 });
    await chirpInFeed(page, before.id, { state: 'detached' });
    await feedLive(page);
    assert.equal(listFetches(requests), fetched, 'caught up from the stream, not by fetching the list');
  }, { expectedErrors });
});
