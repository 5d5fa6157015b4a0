// Notifications in the web app: the bell in the header counts the unread ones (GET
// /api/notifications/unread_count when the session starts, and again on each `notification`
// event of the live Home stream), and links to #/notifications: newest first, each naming who
// did what and linking there, those after the read marker marked new; opening it moves the
// marker to the newest (PUT /api/markers/notifications) and the count goes to zero; while it is
// open, a new one goes on top, read at once; filters by type (`types[]`); and More following
// the Link header.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { appSuite } from './support/suite.js';
import { bellCount, eventually, feedLive, go, logIn, nextResponse, readNotifications, text } from './support/ui.js';

const suite = appSuite();
const { inApp } = suite;

/** Someone with a handle and a display name. */
async function newPerson(name, displayName) {
  const user = await suite.api.newUser(name);
  const handle = `${name}_${randomUUID().slice(0, 8)}`;
  await suite.api.setProfile(user.token, { handle, display_name: displayName });
  return { ...user, handle };
}

const unreadOnServer = async (user) =>
  (await suite.api.call('GET', '/api/notifications/unread_count', { authorization: `Bearer ${user.token}` })).body.count;

/** Waits until the notifications page has drawn its list. */
async function notificationsShown(page) {
  await page.locator('#notifications-view').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.getElementById('notifications-list').hasAttribute('aria-busy'));
}

test('the bell counts notifications live; its page lists them newest first, and opening it reads them all', async (t) => {
  const kim = await newPerson('kim', 'Kim Wexler');
  const mike = await newPerson('mike', 'Mike Ehrmantraut');
  const user = await suite.api.newUser('popular');
  const mine = await suite.api.postChirp(user.token, 'Anyone up for coffee?');
  // Before the page opens: counted when the session starts.
  await suite.api.follow(kim.token, user.id);
  await inApp(t, async ({ page, requests }) => {
    assert.ok(await page.locator('#bell').isHidden(), 'logged out: no bell');
    const counted = nextResponse(page, 'GET', '/api/notifications/unread_count');
    await logIn(page, user.email, user.password);
    assert.equal((await counted).status(), 200);
    await eventually(async () => assert.equal(await bellCount(page), 1));
    assert.equal(await text(page, '#bell'), 'Notifications 1 unread');
    await feedLive(page);

    // A like arrives on the home stream: the count rises, without a reload.
    await page.evaluate(() => { window.__sameDocument = true; });
    await suite.api.like(kim.token, mine.id);
    await eventually(async () => assert.equal(await bellCount(page), 2));
    assert.equal(await text(page, '#bell'), 'Notifications 2 unread');
    assert.equal(await page.evaluate(() => window.__sameDocument), true);

    // The page: newest first, each naming who and what, linking there; both new.
    const marked = nextResponse(page, 'PUT', '/api/markers/notifications');
    await page.click('#bell');
    await notificationsShown(page);
    assert.equal(await page.evaluate(() => location.hash), '#/notifications');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'notifications-heading');
    assert.equal(await page.getAttribute('#bell', 'aria-current'), 'page');
    let shown = await readNotifications(page);
    assert.deepEqual(shown.map((n) => [n.type, n.text, n.href, n.unread]), [
      ['like', `New: Kim Wexler@${kim.handle} liked your chirp`, `#/chirp/${mine.id}`, true],
      ['follow', `New: Kim Wexler@${kim.handle} followed you`, null, true],
    ]);
    assert.equal(shown[1].actorHref, `#/@${kim.handle}`, 'a follow links to the follower');

    // Opening it moved the marker to the newest: the count is zero, here and on the server.
    const marker = await marked;
    assert.equal(marker.status(), 200);
    assert.deepEqual(marker.request().postDataJSON(), { last_read_id: shown[0].id });
    await eventually(async () => assert.equal(await bellCount(page), 0));
    assert.ok(await page.locator('#bell-count').isHidden());
    assert.equal(await text(page, '#bell'), 'Notifications');
    assert.equal(await unreadOnServer(user), 0);

    // While it is open, a new one goes on top, read at once; and more likes of one chirp are one line.
    const reply = await suite.api.postChirp(mike.token, 'Always', mine.id);
    await eventually(async () => assert.equal((await readNotifications(page)).length, 3), 10_000);
    shown = await readNotifications(page);
    assert.deepEqual([shown[0].type, shown[0].text, shown[0].href], ['reply', `New: Mike Ehrmantraut@${mike.handle} replied to your chirp`, `#/chirp/${reply.id}`]);
    await suite.api.like(mike.token, mine.id);
    await eventually(async () => assert.equal((await readNotifications(page))[0].type, 'like'), 10_000);
    shown = await readNotifications(page);
    assert.deepEqual(shown.map((n) => n.type), ['like', 'reply', 'follow']);
    assert.equal(shown[0].text, `New: Mike Ehrmantraut@${mike.handle} and 1 other liked your chirp`);
    await eventually(async () => assert.equal(await unreadOnServer(user), 0));
    assert.equal(await bellCount(page), 0);

    // Filters: one type, asked of the server with types[]; All again.
    const follows = nextResponse(page, 'GET', '/api/notifications', (url) => url.searchParams.getAll('types[]').join() === 'follow');
    await page.getByRole('button', { name: 'Follows' }).click();
    assert.equal((await follows).status(), 200);
    await notificationsShown(page);
    assert.equal(await page.getAttribute('#notification-filters button[data-type="follow"]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('#notification-filters button[data-type=""]', 'aria-pressed'), 'false');
    assert.deepEqual((await readNotifications(page)).map((n) => n.type), ['follow']);
    assert.equal((await readNotifications(page))[0].unread, false, 'read by now');
    await page.getByRole('button', { name: 'Mentions' }).click();
    await notificationsShown(page);
    await eventually(async () => assert.equal(await text(page, '#notifications-message'), 'No mentions yet.'));
    await page.getByRole('button', { name: 'All' }).click();
    await notificationsShown(page);
    assert.deepEqual((await readNotifications(page)).map((n) => n.type), ['like', 'reply', 'follow']);
    assert.ok(requests.some((r) => r === 'GET /api/notifications?types%5B%5D=follow&limit=20'));

    // A line links to where it happened.
    await page.click('#notifications-list li.notification >> nth=1 >> a.notification-link');
    await page.locator(`#thread-chain li.chirp-highlight[data-chirp-id="${reply.id}"]`).waitFor();
    assert.equal(await page.getAttribute('#bell', 'aria-current'), null);
  });
});

test('a mention names you; More follows the Link header; a new session starts with its own count', async (t) => {
  const saul = await newPerson('saul', 'Saul Goodman');
  const user = await newPerson('busy', 'Busy Bee');
  const topic = await suite.api.postChirp(user.token, 'Tell me everything');
  await suite.api.postChirp(saul.token, `Hey @${user.handle}, look at this`);
  const replies = [];
  for (let i = 0; i < 22; i++) replies.push(await suite.api.postChirp(saul.token, `Reply number ${i}`, topic.id));
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await eventually(async () => assert.equal(await bellCount(page), 23));
    await go(page, '#/notifications');
    await notificationsShown(page);
    assert.equal((await readNotifications(page)).length, 20);
    assert.equal((await readNotifications(page))[0].href, `#/chirp/${replies.at(-1).id}`);
    const more = nextResponse(page, 'GET', '/api/notifications', (url) => url.searchParams.has('max_id'));
    await page.click('#notifications-more');
    assert.equal((await more).status(), 200);
    await eventually(async () => assert.equal((await readNotifications(page)).length, 23));
    const all = await readNotifications(page);
    assert.equal(new Set(all.map((n) => n.id)).size, 23, 'none twice');
    assert.equal(all.at(-1).type, 'mention');
    assert.equal(all.at(-1).text, `New: Saul Goodman@${saul.handle} mentioned you`);
    assert.ok(await page.locator('#notifications-more').isHidden(), 'no more after the last page');
    assert.equal(await page.evaluate(() => document.activeElement.closest('li')?.dataset.notificationId), all[20].id, 'reading goes on from the first new line');
    await eventually(async () => assert.equal(await bellCount(page), 0));

    // Logged out, the page has nothing to show; someone else logs in here: the list and the
    // count are theirs.
    await page.click('#logout-button');
    await page.locator('#login-form').waitFor();
    assert.ok(await page.locator('#bell').isHidden());
    assert.equal(await text(page, '#notifications-message'), 'Log in to see your notifications.');
    assert.equal((await readNotifications(page)).length, 0);
    await suite.api.follow(user.token, saul.id);
    await page.fill('#login-email', saul.email);
    await page.fill('#login-password', saul.password);
    const theirs = nextResponse(page, 'GET', '/api/notifications');
    await page.click('#login-form button[type=submit]');
    assert.equal((await theirs).status(), 200);
    await notificationsShown(page);
    assert.deepEqual((await readNotifications(page)).map((n) => [n.type, n.text]), [['follow', 'New: Busy Bee@' + user.handle + ' followed you']]);
    await eventually(async () => assert.equal(await unreadOnServer(saul), 0));
    await eventually(async () => assert.equal(await bellCount(page), 0));
  });
});
