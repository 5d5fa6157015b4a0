// Safety in the web app: Mute and Block on a profile page (toggle buttons whose state comes from
// one's own lists, read once a session), what a block does (Follow cannot be pressed, the
// follow is gone, their replies leave one's threads and their chirps Everyone) and what a mute
// does (their chirps leave Home); reporting someone, with some of their chirps, and the
// server's word when it refuses; and the moderators' page, shown only to moderators (made with
// SQL, as an operator would): resolving a report, deleting a chirp and suspending a user, whose
// chirps then disappear.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { makeModerator } from './support/database.js';
import { appSuite } from './support/suite.js';
import {
  eventually,
  feedIdle,
  go,
  logIn,
  nextResponse,
  post,
  profileShown,
  readFeed,
  readThread,
  showTab,
  text,
  threadShown,
} from './support/ui.js';

const suite = appSuite();
const { inApp } = suite;

/** Someone with a handle and a display name. */
async function newPerson(name, displayName) {
  const user = await suite.api.newUser(name);
  const handle = `${name}_${randomUUID().slice(0, 8)}`;
  await suite.api.setProfile(user.token, { handle, display_name: displayName });
  return { ...user, handle };
}

const focusedId = (page) => page.evaluate(() => document.activeElement?.id);
const pressed = (page, selector) => page.getAttribute(selector, 'aria-pressed');

/** Opens someone's profile page by handle, and waits until Mute and Block can be pressed. */
async function openProfileOf(page, person) {
  await go(page, `#/@${person.handle}`);
  await profileShown(page, person.display_name ?? person.name);
  await page.locator('#block-button').waitFor({ state: 'visible' });
}

/** Presses Block or Mute (`selector`), and waits for the server's 204 and the pressed state. */
async function toggle(page, selector, method, path) {
  const done = nextResponse(page, method, path);
  await page.click(selector);
  assert.equal((await done).status(), 204);
  await eventually(async () => assert.equal(await pressed(page, selector), String(method === 'PUT')));
}

test('Block on a profile: pressed, the follow ends and Follow cannot be pressed; their replies leave the thread and their chirps Everyone; unblock', async (t) => {
  const kim = { ...(await newPerson('kim', 'Kim Wexler')), display_name: 'Kim Wexler' };
  const mike = await newPerson('mike', 'Mike Ehrmantraut');
  const user = await suite.api.newUser('blocker');
  await suite.api.follow(user.token, kim.id);
  const mine = await suite.api.postChirp(user.token, 'Who is coming to the office party?');
  const hers = await suite.api.postChirp(kim.token, 'Me, if there is coffee', mine.id);
  const his = await suite.api.postChirp(mike.token, 'Not me', mine.id);
  const herOwn = await suite.api.postChirp(kim.token, 'Kim, on Everyone');
  await inApp(t, async ({ page, requests }) => {
    await logIn(page, user.email, user.password);
    await openProfileOf(page, kim);
    assert.equal(await pressed(page, '#block-button'), 'false');
    assert.equal(await pressed(page, '#mute-button'), 'false');
    assert.match(await text(page, '#follow-button'), /^Unfollow/);
    assert.ok(await page.locator('#profile-shield-note').isHidden());
    assert.equal(await text(page, '#block-button'), `Block @${kim.handle}`, 'named for screen readers');

    await page.focus('#block-button');
    await toggle(page, '#block-button', 'PUT', `/api/users/${kim.id}/block`);
    assert.equal(await text(page, '#status'), `You block @${kim.handle} now: neither of you can follow, reply to or like the other.`);
    assert.equal(await focusedId(page), 'block-button', 'focus stays on the button');
    assert.match(await text(page, '#profile-shield-note'), /^You block @kim_\w+: neither of you can follow the other/);
    // The block ended the follow, and Follow cannot be pressed while it lasts.
    await eventually(async () => assert.match(await text(page, '#follow-button'), /^Follow/));
    assert.equal(await page.isDisabled('#follow-button'), true);
    assert.equal(await page.getAttribute('#follow-button', 'aria-describedby'), 'profile-shield-note');
    await eventually(async () => assert.equal(await text(page, '#profile-followers'), '0 followers'));
    assert.equal((await suite.api.profile(kim.id)).followers_count, 0, 'the follow is gone on the server');

    // Her reply leaves the thread (asked for with the token); Mike's stays.
    const asked = nextResponse(page, 'GET', `/api/chirps/${mine.id}/thread`);
    await go(page, `#/chirp/${mine.id}`);
    assert.match((await (await asked).request().allHeaders()).authorization ?? '', /^Bearer /);
    await threadShown(page, mine.id);
    assert.deepEqual((await readThread(page)).replies, [his.id]);
    assert.ok(!(await readThread(page)).replies.includes(hers.id));

    // Her chirps leave Everyone too (the server lists them there for anyone; the page knows whom one blocks).
    await go(page, '#/');
    await showTab(page, 'Everyone');
    const everyone = await readFeed(page);
    assert.ok(everyone.some((c) => c.id === his.id));
    assert.ok(!everyone.some((c) => c.userId === kim.id), 'none of hers');
    // And what she posts now does not come live.
    const live = await suite.api.postChirp(kim.token, 'Kim, live, blocked');
    const after = await post(page, 'Mine, after hers');
    assert.ok(!(await readFeed(page)).some((c) => c.id === live.id || c.id === herOwn.id));
    assert.ok((await readFeed(page)).some((c) => c.id === after.id));

    // Unblock: pressed no more, and Follow can be pressed again. One's lists were read once.
    await openProfileOf(page, kim);
    assert.equal(await pressed(page, '#block-button'), 'true', 'remembered from the lists');
    await toggle(page, '#block-button', 'DELETE', `/api/users/${kim.id}/block`);
    assert.equal(await text(page, '#status'), `You no longer block @${kim.handle}.`);
    assert.equal(await page.isDisabled('#follow-button'), false);
    assert.ok(await page.locator('#profile-shield-note').isHidden());
    assert.equal(requests.filter((r) => r === 'GET /api/users/me/blocks?limit=100').length, 1, 'blocks read once');
    assert.equal(requests.filter((r) => r === 'GET /api/users/me/mutes?limit=100').length, 1, 'mutes read once');
  });
});

test('someone who blocks you: Follow says why the server refuses', async (t) => {
  const walt = { ...(await newPerson('walt', 'Walter White')), display_name: 'Walter White' };
  const user = await suite.api.newUser('blocked');
  assert.equal((await suite.api.call('PUT', `/api/users/${user.id}/block`, { authorization: `Bearer ${walt.token}` })).status, 204);
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await openProfileOf(page, walt);
    // One cannot know that one is blocked, until one tries.
    assert.equal(await pressed(page, '#block-button'), 'false');
    const refused = nextResponse(page, 'PUT', `/api/users/${walt.id}/follow`);
    await page.click('#follow-button');
    assert.equal((await refused).status(), 403);
    await eventually(async () => assert.equal(await text(page, '#status'), `Could not follow @${walt.handle}: You cannot do this: one of you blocks the other`));
    assert.match(await text(page, '#follow-button'), /^Follow/);
  });
});

test('Mute someone you follow: their chirps leave Home, live ones too; unmute and they are back', async (t) => {
  const kim = { ...(await newPerson('kim', 'Kim Wexler')), display_name: 'Kim Wexler' };
  const user = await suite.api.newUser('muter');
  await suite.api.follow(user.token, kim.id);
  const before = await suite.api.postChirp(kim.token, 'Kim, before the mute');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    assert.ok((await readFeed(page)).some((c) => c.id === before.id), 'on Home');

    await page.click(`#feed li[data-chirp-id="${before.id}"] .author`);
    await profileShown(page, 'Kim Wexler');
    await page.locator('#mute-button').waitFor({ state: 'visible' });
    await toggle(page, '#mute-button', 'PUT', `/api/users/${kim.id}/mute`);
    assert.equal(await text(page, '#status'), `You mute @${kim.handle} now: their chirps stay off your Home.`);
    assert.match(await text(page, '#profile-shield-note'), /^You mute @kim_\w+: their chirps stay off your Home/);
    assert.match(await text(page, '#follow-button'), /^Unfollow/, 'still followed');
    assert.equal(await page.isDisabled('#follow-button'), false);
    // Her profile page still shows her chirps: one went there to see them.
    assert.ok((await readFeed(page)).some((c) => c.id === before.id));

    const home = nextResponse(page, 'GET', '/api/timelines/home');
    await page.click('#back-to-feed');
    assert.equal((await home).status(), 200);
    await feedIdle(page);
    assert.ok(!(await readFeed(page)).some((c) => c.id === before.id), 'gone from Home');
    const live = await suite.api.postChirp(kim.token, 'Kim, muted, live');
    const mine = await post(page, 'Mine, after the mute');
    assert.deepEqual((await readFeed(page)).map((c) => c.id), [mine.id], 'hers does not come');
    assert.ok(!(await readFeed(page)).some((c) => c.id === live.id));

    await go(page, `#/@${kim.handle}`);
    await profileShown(page, 'Kim Wexler');
    await page.locator('#mute-button').waitFor({ state: 'visible' });
    assert.equal(await pressed(page, '#mute-button'), 'true');
    await toggle(page, '#mute-button', 'DELETE', `/api/users/${kim.id}/mute`);
    assert.equal(await text(page, '#status'), `You no longer mute @${kim.handle}.`);
    await page.click('#back-to-feed');
    await eventually(async () => assert.ok((await readFeed(page)).some((c) => c.id === live.id)), 10_000);
    assert.ok((await readFeed(page)).some((c) => c.id === before.id));
  });
});

test('Report from a profile: a reason and some of the chirps shown; the server\'s word on a blank reason or a user gone; Escape closes it', async (t) => {
  const spammer = { ...(await newPerson('spammer', 'Buy Now')), display_name: 'Buy Now' };
  const first = await suite.api.postChirp(spammer.token, 'Cheap watches, click here');
  const second = await suite.api.postChirp(spammer.token, 'Cheap watches, click here again');
  const user = await suite.api.newUser('reporter');
  const moderator = await suite.api.newUser('moderator');
  await makeModerator(suite.server, moderator.id);
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await openProfileOf(page, spammer);
    assert.equal(await page.getAttribute('#report-button', 'aria-expanded'), 'false');

    // Escape closes it, and focus goes back to Report.
    await page.click('#report-button');
    await page.locator('#report-form').waitFor();
    assert.equal(await focusedId(page), 'report-reason');
    assert.equal(await page.getAttribute('#report-button', 'aria-expanded'), 'true');
    await page.keyboard.press('Escape');
    assert.ok(await page.locator('#report-form').isHidden());
    assert.equal(await focusedId(page), 'report-button');

    await page.click('#report-button');
    assert.equal(await text(page, '#report-heading'), `Report @${spammer.handle}`);
    // The chirps shown below, newest first, each a checkbox labelled with its text.
    const boxes = page.locator('#report-choice-list input[type=checkbox]');
    assert.deepEqual(await boxes.evaluateAll((inputs) => inputs.map((i) => i.value)), [second.id, first.id]);
    assert.match(await page.locator('#report-choice-list label').first().textContent(), /^Cheap watches, click here again/);

    // A blank reason: the server's word (whatever it is), beside the form.
    await page.fill('#report-reason', '   ');
    let sent = nextResponse(page, 'POST', '/api/reports');
    await page.click('#report-form button[type=submit]');
    const refused = await sent;
    assert.equal(refused.status(), 400);
    const { error } = await refused.json();
    assert.match(error, /\w/);
    await eventually(async () => assert.equal(await text(page, '#report-error'), error));
    assert.ok(await page.locator('#report-form').isVisible(), 'still open');
    assert.equal(await focusedId(page), 'report-reason');

    // A user gone meanwhile (a 404, as the server would answer): its word too.
    await page.route('**/api/reports', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: 'User not found' }) }));
    await page.fill('#report-reason', 'Spam, every few seconds.');
    sent = nextResponse(page, 'POST', '/api/reports');
    await page.click('#report-form button[type=submit]');
    assert.equal((await sent).status(), 404);
    await eventually(async () => assert.equal(await text(page, '#report-error'), 'User not found'));
    await page.unroute('**/api/reports');

    await page.check(`#report-choice-list input[value="${first.id}"]`);
    sent = nextResponse(page, 'POST', '/api/reports');
    await page.click('#report-form button[type=submit]');
    const answer = await sent;
    assert.equal(answer.status(), 201);
    assert.deepEqual(answer.request().postDataJSON(), { user_id: spammer.id, reason: 'Spam, every few seconds.', chirp_ids: [first.id] });
    await page.locator('#report-form').waitFor({ state: 'hidden' });
    assert.equal(await text(page, '#status'), `Thank you. Your report on @${spammer.handle} and 1 chirp is with the moderators.`);
    assert.equal(await focusedId(page), 'report-button');
  });

  // The moderators have it.
  const reports = await suite.api.call('GET', '/api/admin/reports', { authorization: `Bearer ${moderator.token}` });
  assert.equal(reports.status, 200);
  const mine = reports.body.filter((r) => r.reporter_id === user.id);
  assert.equal(mine.length, 1);
  assert.deepEqual([mine[0].user_id, mine[0].reason, mine[0].chirp_ids, mine[0].status], [spammer.id, 'Spam, every few seconds.', [first.id], 'open']);
});

test('only moderators see the Moderation link; a moderator resolves a report, deletes a chirp and suspends a user, whose chirp disappears', async (t) => {
  const spammer = { ...(await newPerson('spam', 'Spam King')), display_name: 'Spam King' };
  const spam = await suite.api.postChirp(spammer.token, 'Free money, reply to claim');
  const rude = await newPerson('rude', 'Rude Person');
  const insult = await suite.api.postChirp(rude.token, 'You are all idiots');
  const reporter = await newPerson('reporter', 'Careful Reader');
  const report = async (who, chirp, reason) => {
    const answer = await suite.api.call('POST', '/api/reports', {
      authorization: `Bearer ${reporter.token}`,
      body: { user_id: who.id, chirp_ids: [chirp.id], reason },
    });
    assert.equal(answer.status, 201);
    return answer.body;
  };
  const spamReport = await report(spammer, spam, 'Spam, every few seconds.');
  const rudeReport = await report(rude, insult, 'Insults everyone.');
  const moderator = await suite.api.newUser('mod');
  await makeModerator(suite.server, moderator.id);

  // Anyone else: no link, and the page says what the server says.
  await inApp(t, async ({ page }) => {
    const probe = nextResponse(page, 'GET', '/api/admin/reports');
    await logIn(page, reporter.email, reporter.password);
    assert.equal((await probe).status(), 403);
    assert.ok(await page.locator('#moderation-link').isHidden());
    await go(page, '#/moderation');
    await eventually(async () => assert.equal(await text(page, '#moderation-message'), 'Only moderators may do this'));
    assert.equal(await page.locator('#report-list li').count(), 0);
  });

  await inApp(t, async ({ page }) => {
    const probe = nextResponse(page, 'GET', '/api/admin/reports');
    await logIn(page, moderator.email, moderator.password);
    assert.equal((await probe).status(), 200);
    await page.locator('#moderation-link').waitFor({ state: 'visible' });
    const listed = nextResponse(page, 'GET', '/api/admin/reports', (url) => !url.searchParams.has('limit'));
    await page.click('#moderation-link');
    assert.equal((await listed).status(), 200);
    await page.locator(`#report-list li[data-report-id="${rudeReport.id}"]`).waitFor();
    assert.equal(await focusedId(page), 'moderation-heading');
    // Open ones first, oldest first.
    const ids = await page.$$eval('#report-list li.report', (items) => items.map((li) => li.dataset.reportId));
    assert.ok(ids.indexOf(spamReport.id) < ids.indexOf(rudeReport.id));
    const spamItem = page.locator(`#report-list li[data-report-id="${spamReport.id}"]`);
    const rudeItem = page.locator(`#report-list li[data-report-id="${rudeReport.id}"]`);
    assert.match(await spamItem.locator('.report-title').textContent(), /^Report on Spam King/);
    assert.match(await spamItem.locator('.report-meta').textContent(), /Open.*From Careful Reader/);
    assert.equal(await spamItem.locator('.report-reason').textContent(), 'Spam, every few seconds.');
    assert.equal(await spamItem.locator('.report-chirp-body').textContent(), 'Free money, reply to claim');

    // Resolve, with a note: the server's answer, in place.
    await spamItem.locator('.report-note').fill('Looked into it');
    const resolved = nextResponse(page, 'POST', `/api/admin/reports/${spamReport.id}/resolve`);
    await spamItem.locator('button.report-resolve').click();
    const resolveAnswer = await resolved;
    assert.equal(resolveAnswer.status(), 200);
    assert.deepEqual(resolveAnswer.request().postDataJSON(), { note: 'Looked into it' });
    await eventually(async () => assert.equal(await spamItem.locator('.report-answer').textContent(), 'Resolved.'));
    assert.match(await spamItem.locator('.report-meta').textContent(), /^Resolved/);
    assert.match(await spamItem.locator('.report-resolution').textContent(), /^Resolved .* by .*: “Looked into it”$/);
    assert.equal(await spamItem.locator('button.report-resolve').count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement.closest('li')?.dataset.reportId), spamReport.id, 'focus stays with the report');

    // Delete a chirp: gone on the server.
    const deleted = nextResponse(page, 'DELETE', `/api/admin/chirps/${insult.id}`);
    await rudeItem.locator('button.report-delete').click();
    assert.equal((await deleted).status(), 204);
    await eventually(async () => assert.equal(await rudeItem.locator('.report-answer').textContent(), 'Chirp deleted.'));
    assert.equal(await rudeItem.locator('.report-chirp-gone').textContent(), 'Deleted.');
    assert.equal((await suite.api.call('GET', `/api/chirps/${insult.id}`)).status, 404);

    // Suspend the spammer: their chirp disappears, here and on Everyone, and they cannot log in.
    const suspended = nextResponse(page, 'POST', `/api/admin/users/${spammer.id}/suspend`);
    await spamItem.locator('button.report-suspend').click();
    assert.equal((await suspended).status(), 204);
    await eventually(async () => assert.equal(await spamItem.locator('.report-answer').textContent(), 'Spam King is suspended: they cannot log in, and their chirps are hidden.'));
    await eventually(async () => assert.equal(await spamItem.locator('.report-chirp-gone').textContent(), 'This chirp is deleted or hidden.'));
    assert.match(await spamItem.locator('.report-meta').textContent(), /Suspended/);
    assert.equal(await spamItem.locator('button.report-suspend').count(), 0);

    await go(page, '#/');
    await showTab(page, 'Everyone');
    assert.ok(!(await readFeed(page)).some((c) => c.id === spam.id), 'the spam is gone');
    assert.equal((await suite.api.call('GET', `/api/chirps/${spam.id}`)).status, 404);
    const login = await suite.api.call('POST', '/api/login', { body: { email: spammer.email, password: spammer.password } });
    assert.equal(login.status, 403);
  });
});
