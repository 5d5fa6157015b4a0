// Conversations in the web app: replying from a chirp's Reply button (a reply box with the
// composer's counter and errors) and from a thread's composer; the thread view at
// #/chirp/<id> with its chain of ancestors (Show earlier past 50), its replies a page at a
// time, and a deleted link ending the chain; likes, pressed and counted, given and taken
// back, with counts read with the access token; and the header's search box, finding chirps
// by their words and people by the start of their handle or name, and showing the server's
// word on a query it refuses.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { appSuite } from './support/suite.js';
import {
  chirpItem,
  eventually,
  feedIdle,
  likeOf,
  logIn,
  nextResponse,
  profileShown,
  readFeed,
  readThread,
  replyCountOf,
  search,
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

/** Opens an address of the app by typing it (`#/chirp/<id>`, say). */
async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

const focusedId = (page) => page.evaluate(() => document.activeElement?.id);

test('Reply opens a reply box under the chirp: the counter and errors of the composer; the reply shows in the thread, and the reply count goes up', async (t) => {
  const kim = await newPerson('kim', 'Kim Wexler');
  const parent = await suite.api.postChirp(kim.token, 'Who wants coffee?');
  const user = await suite.api.newUser('replier');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await showTab(page, 'Everyone');
    const item = chirpItem(page, '#feed', parent.id);
    assert.equal(await replyCountOf(item), '0 replies');
    assert.equal(await item.locator('.reply-count').getAttribute('href'), `#/chirp/${parent.id}`);

    const replyButton = item.locator('button.reply-button');
    assert.equal(await replyButton.getAttribute('aria-expanded'), 'false');
    await replyButton.click();
    const box = item.locator('form.reply-box');
    await box.waitFor();
    assert.equal(await replyButton.getAttribute('aria-expanded'), 'true');
    assert.equal(await replyButton.getAttribute('aria-controls'), await box.getAttribute('id'));
    assert.equal(await box.locator('label').textContent(), 'Reply to Kim Wexler');
    const textarea = box.locator('textarea');
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'TEXTAREA', 'the box takes focus');

    // The composer's counter and limit: 140 characters (not UTF-16 units) and no more.
    const submit = box.locator('button[type=submit]');
    assert.ok(await submit.isDisabled(), 'nothing to post yet');
    await textarea.fill('🐦'.repeat(141));
    assert.match(await box.locator('.counter').textContent(), /^141 \/ 140: 1 too many$/);
    assert.ok(await box.locator('.counter.counter-over').isVisible());
    assert.equal(await textarea.getAttribute('aria-invalid'), 'true');
    assert.ok(await submit.isDisabled(), '141 characters are too many');
    await textarea.fill('🐦'.repeat(140));
    assert.equal(await box.locator('.counter').textContent(), '140 / 140');
    assert.ok(await submit.isEnabled());

    // Escape closes it, and focus goes back to Reply.
    await textarea.press('Escape');
    await box.waitFor({ state: 'detached' });
    assert.equal(await replyButton.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('reply-button')), true);

    // Post a reply: it carries reply_to and an Idempotency-Key, and is stored as a reply.
    await replyButton.click();
    await item.locator('form.reply-box textarea').fill('Me! Coffee first, then whatever kerfuffle comes.');
    const posted = nextResponse(page, 'POST', '/api/chirps');
    await item.locator('form.reply-box button[type=submit]').click();
    const answer = await posted;
    assert.equal(answer.status(), 201);
    assert.deepEqual(answer.request().postDataJSON(), { body: 'Me! Coffee first, then whatever kerfuffle comes.', reply_to: parent.id });
    assert.ok(answer.request().headers()['idempotency-key'], 'with an Idempotency-Key');
    const reply = await answer.json();
    assert.equal(reply.reply_to, parent.id);
    assert.equal(reply.body, 'Me! Coffee first, then whatever **** comes.');
    await item.locator('form.reply-box').waitFor({ state: 'detached' });
    assert.equal(await text(page, '#status'), 'Reply posted, with some words replaced by ****.');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('reply-button')), true, 'focus back on Reply');

    // The parent counts it; the reply is in the feed, saying whom it answers.
    await eventually(async () => assert.equal(await replyCountOf(item), '1 reply'));
    const replyItem = chirpItem(page, '#feed', reply.id);
    await replyItem.waitFor();
    assert.equal((await readFeed(page))[0].id, reply.id, 'newest first: on top');
    const context = replyItem.locator('.chirp-context a');
    assert.equal(await context.textContent(), 'Replying to a chirp');
    assert.equal(await context.getAttribute('href'), `#/chirp/${parent.id}`);
    assert.equal((await suite.api.chirp(parent.id)).reply_count, 1);

    // The reply count opens the thread: the chirp highlighted, its reply under it.
    const asked = nextResponse(page, 'GET', `/api/chirps/${parent.id}/thread`);
    await item.locator('.reply-count').click();
    assert.equal((await asked).status(), 200);
    await threadShown(page, parent.id);
    assert.equal(await page.evaluate(() => location.hash), `#/chirp/${parent.id}`);
    assert.equal(await focusedId(page), 'thread-heading', 'focus moves to the view\'s heading');
    assert.equal(await text(page, '#thread-heading'), 'Conversation');
    assert.deepEqual(await readThread(page), { chain: [parent.id], replies: [reply.id] });
    assert.equal(await chirpItem(page, '#thread-chain', parent.id).getAttribute('aria-current'), 'true');
    assert.equal(await chirpItem(page, '#thread-replies', reply.id).locator('.chirp-context a').textContent(), 'Replying to Kim Wexler');
    assert.ok(await page.locator('#composer').isHidden(), 'a thread has its own composer');
    assert.equal(await text(page, '#thread-reply-label'), 'Reply to Kim Wexler');

    // The highlighted chirp's Reply goes to the thread's composer; a second reply, from there,
    // comes after the first (oldest first), and the count follows.
    await chirpItem(page, '#thread-chain', parent.id).locator('button.reply-button').click();
    assert.equal(await focusedId(page), 'thread-reply-body');
    await page.fill('#thread-reply-body', 'x'.repeat(141));
    assert.ok(await page.locator('#thread-reply-submit').isDisabled());
    assert.match(await text(page, '#thread-reply-counter'), /^141 \/ 140/);
    await page.fill('#thread-reply-body', 'Me too, from the thread');
    const second = nextResponse(page, 'POST', '/api/chirps');
    await page.click('#thread-reply-submit');
    const secondReply = await (await second).json();
    assert.equal(secondReply.reply_to, parent.id);
    await chirpItem(page, '#thread-replies', secondReply.id).waitFor();
    assert.deepEqual((await readThread(page)).replies, [reply.id, secondReply.id]);
    assert.equal(await page.inputValue('#thread-reply-body'), '', 'the composer is cleared');
    assert.equal(await text(page, '#status'), 'Reply posted.');
    await eventually(async () => assert.equal(await replyCountOf(chirpItem(page, '#thread-chain', parent.id)), '2 replies'));

    // The reply's own thread: the parent above it, the reply highlighted.
    await chirpItem(page, '#thread-replies', reply.id).locator('.reply-count').click();
    await threadShown(page, reply.id);
    assert.deepEqual(await readThread(page), { chain: [parent.id, reply.id], replies: [] });
    assert.equal(await text(page, '#thread-replies-message'), 'No replies yet.');

    // Back to the feed: the parent's count there is current too.
    await page.click('#thread-view .back-link');
    await feedIdle(page);
    await eventually(async () => assert.equal(await replyCountOf(chirpItem(page, '#feed', parent.id)), '2 replies'));
  });
});

test('a reply to a chirp deleted meanwhile shows the server\'s 404 next to the box; a thread of no chirp says so', async (t) => {
  const author = await suite.api.newUser('vanishing');
  const doomed = await suite.api.postChirp(author.token, 'Here one moment');
  const user = await suite.api.newUser('late');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    await go(page, `#/chirp/${doomed.id}`);
    await threadShown(page, doomed.id);
    await suite.api.deleteChirp(author.token, doomed.id);

    await page.fill('#thread-reply-body', 'Too late');
    const refused = nextResponse(page, 'POST', '/api/chirps');
    await page.click('#thread-reply-submit');
    assert.equal((await refused).status(), 404);
    await eventually(async () => assert.equal(await text(page, '#thread-reply-error'), 'The chirp to reply to was not found: it may have been deleted.'));
    assert.equal(await page.inputValue('#thread-reply-body'), 'Too late', 'the draft is kept');

    await page.reload();
    await page.locator('html[data-ready]').waitFor();
    await eventually(async () => assert.equal(await text(page, '#thread-heading'), 'Chirp not found'));
    assert.equal(await text(page, '#thread-message'), 'No chirp has this id: it may have been deleted.');
    assert.ok(await page.locator('#thread-reply').isHidden());
  });
});

test('a thread: ancestors oldest first, Show earlier past 50 of them, replies a page at a time, and a deleted link ends the chain', async (t) => {
  const user = await suite.api.newUser('threader');
  // A chain of 53: chain[i] replies to chain[i - 1].
  const chain = [];
  for (let i = 0; i < 53; i++) chain.push(await suite.api.postChirp(user.token, `Link ${i}`, chain[i - 1]?.id));
  // 22 replies to the last one.
  const replies = [];
  for (let i = 0; i < 22; i++) replies.push((await suite.api.postChirp(user.token, `Answer ${i}`, chain[52].id)).id);
  await inApp(t, async ({ page }) => {
    await go(page, `#/chirp/${chain[52].id}`);
    await threadShown(page, chain[52].id);
    let shown = await readThread(page);
    assert.deepEqual(shown.chain, chain.slice(2).map((c) => c.id), 'the 50 nearest ancestors, oldest first, then the chirp');
    assert.deepEqual(shown.replies, replies.slice(0, 20), 'the first 20 replies, oldest first');
    assert.ok(await page.locator('#thread-reply').isHidden(), 'logged out: no composer');
    assert.equal(await page.locator('#thread-view button.reply-button, #thread-view button.like-button').count(), 0);

    // More replies follows the Link header.
    const more = nextResponse(page, 'GET', `/api/chirps/${chain[52].id}/thread`, (url) => url.searchParams.has('cursor'));
    await page.click('#thread-more');
    assert.equal((await more).status(), 200);
    await eventually(async () => assert.deepEqual((await readThread(page)).replies, replies));
    assert.ok(await page.locator('#thread-more').isHidden(), 'no more after the last page');
    assert.equal(await page.evaluate(() => document.activeElement.closest('li')?.dataset.chirpId), replies[20], 'reading goes on from the first new reply');

    // Show earlier opens the thread of the first ancestor shown.
    const earlier = page.locator('#thread-earlier');
    assert.ok(await earlier.isVisible());
    assert.equal(await earlier.getAttribute('href'), `#/chirp/${chain[2].id}`);
    await earlier.click();
    await threadShown(page, chain[2].id);
    shown = await readThread(page);
    assert.deepEqual(shown.chain, [chain[0].id, chain[1].id, chain[2].id]);
    assert.deepEqual(shown.replies, [chain[3].id]);
    assert.ok(await earlier.isHidden(), 'the root is there: nothing earlier');
    assert.equal(await chirpItem(page, '#thread-chain', chain[0].id).locator('.chirp-context').count(), 0, 'the root replies to nothing');
    assert.equal(await focusedId(page), 'thread-heading');

    // A deleted link ends the chain: nothing above it, and the chirp below says so.
    await suite.api.deleteChirp(user.token, chain[1].id);
    await go(page, `#/chirp/${chain[3].id}`);
    await threadShown(page, chain[3].id);
    assert.deepEqual((await readThread(page)).chain, [chain[2].id, chain[3].id]);
    assert.equal(await text(page, `#thread-chain li[data-chirp-id="${chain[2].id}"] .chirp-context`), 'Replying to a deleted chirp');
    assert.ok(await earlier.isHidden());
  });
});

test('like a chirp: the count goes up and the button is pressed; unlike: down again; counts are read with the access token', async (t) => {
  const author = await suite.api.newUser('likeable');
  const chirp = await suite.api.postChirp(author.token, 'Like me if you can');
  const user = await suite.api.newUser('liker');
  await inApp(t, async ({ page }) => {
    // Logged out, the count shows, and there is nothing to press.
    const item = chirpItem(page, '#feed', chirp.id);
    assert.deepEqual(await likeOf(item), { pressed: null, count: 0 });

    await logIn(page, user.email, user.password);
    const listed = nextResponse(page, 'GET', '/api/chirps');
    await showTab(page, 'Everyone');
    assert.match((await (await listed).request().allHeaders()).authorization ?? '', /^Bearer /, 'the list is read with the token');
    assert.deepEqual(await likeOf(item), { pressed: 'false', count: 0 });

    const liked = nextResponse(page, 'PUT', `/api/chirps/${chirp.id}/like`);
    const reread = nextResponse(page, 'GET', `/api/chirps/${chirp.id}`);
    await item.locator('button.like-button').click();
    assert.equal((await liked).status(), 204);
    const fresh = await reread;
    assert.match((await fresh.request().allHeaders()).authorization ?? '', /^Bearer /, 'the count is read with the token');
    assert.equal((await fresh.json()).like_count, 1);
    await eventually(async () => assert.deepEqual(await likeOf(item), { pressed: 'true', count: 1 }));
    assert.equal(await item.locator('.like-button').textContent(), 'Like, 1 like', 'named for screen readers');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('like-button')), true, 'focus stays on the button');
    assert.equal((await suite.api.chirp(chirp.id)).like_count, 1);
    assert.deepEqual((await suite.api.likers(chirp.id)).map((p) => p.id), [user.id]);

    // The same chirp in its thread: pressed there too; unlike it there.
    await item.locator('.reply-count').click();
    await threadShown(page, chirp.id);
    const inThread = chirpItem(page, '#thread-chain', chirp.id);
    assert.deepEqual(await likeOf(inThread), { pressed: 'true', count: 1 });
    const unliked = nextResponse(page, 'DELETE', `/api/chirps/${chirp.id}/like`);
    await inThread.locator('button.like-button').click();
    assert.equal((await unliked).status(), 204);
    await eventually(async () => assert.deepEqual(await likeOf(inThread), { pressed: 'false', count: 0 }));
    assert.equal((await suite.api.chirp(chirp.id)).like_count, 0);
    // The feed's copy followed.
    assert.deepEqual(await likeOf(item), { pressed: 'false', count: 0 });

    // A like given elsewhere (another device) counts, but this page cannot know it is one's
    // own: it shows unpressed, and pressing it likes it again, which changes nothing.
    await suite.api.like(user.token, chirp.id);
    await page.reload();
    await page.locator('html[data-ready]').waitFor();
    await threadShown(page, chirp.id);
    assert.deepEqual(await likeOf(inThread), { pressed: 'false', count: 1 });
    const again = nextResponse(page, 'PUT', `/api/chirps/${chirp.id}/like`);
    await inThread.locator('button.like-button').press('Enter');
    assert.equal((await again).status(), 204);
    await eventually(async () => assert.deepEqual(await likeOf(inThread), { pressed: 'true', count: 1 }));
    const off = nextResponse(page, 'DELETE', `/api/chirps/${chirp.id}/like`);
    await inThread.locator('button.like-button').press('Space');
    assert.equal((await off).status(), 204);
    await eventually(async () => assert.deepEqual(await likeOf(inThread), { pressed: 'false', count: 0 }));
    assert.equal((await suite.api.chirp(chirp.id)).like_count, 0);
  });
});

test('search: a word finds its chirps, newest first, More follows Link; a handle or name prefix in any case finds the person', async (t) => {
  const word = `kerplunk${randomUUID().slice(0, 6)}`;
  const zed = await newPerson('zed', `Zebediah ${word}`);
  const posted = [];
  for (let i = 0; i < 21; i++) posted.push((await suite.api.postChirp(zed.token, `Chirp ${i} says ${word.toUpperCase()}`)).id);
  const other = await suite.api.postChirp(zed.token, 'Nothing to find here');
  const newestFirst = [...posted].reverse();
  await inApp(t, async ({ page }) => {
    // Chirps by a word, in any letter case.
    const answers = await search(page, word);
    assert.equal(answers.chirps.status(), 200);
    assert.equal(await page.evaluate(() => location.hash), `#/search?q=${word}`);
    assert.equal(await focusedId(page), 'search-heading', 'focus moves to the view\'s heading');
    assert.equal(await text(page, '#search-heading'), `Results for “${word}”`);
    assert.equal(await page.inputValue('#search-input'), word);
    const shownChirps = () => page.$$eval('#search-chirps li.chirp', (items) => items.map((li) => li.dataset.chirpId));
    assert.deepEqual(await shownChirps(), newestFirst.slice(0, 20));
    assert.ok(!(await shownChirps()).includes(other.id));
    const more = nextResponse(page, 'GET', '/api/search/chirps', (url) => url.searchParams.has('cursor'));
    await page.click('#search-more');
    assert.equal((await more).status(), 200);
    await eventually(async () => assert.deepEqual(await shownChirps(), newestFirst));
    assert.ok(await page.locator('#search-more').isHidden());
    assert.equal(await text(page, `#search-chirps li[data-chirp-id="${posted[0]}"] .author-name`), `Zebediah ${word}`);

    // People by the start of their handle, in another letter case.
    const prefix = zed.handle.slice(0, 9).toUpperCase();
    await search(page, prefix);
    const person = page.locator(`#search-people li[data-user-id="${zed.id}"] a`);
    assert.equal(await person.getAttribute('href'), `#/@${zed.handle}`);
    assert.equal(await person.locator('.author-name').textContent(), `Zebediah ${word}`);
    assert.equal(await person.locator('.author-handle').textContent(), `@${zed.handle}`);
    assert.equal(await text(page, '#search-chirps-message'), `No chirps contain every word of “${prefix}”.`);
    // ... and by the start of their display name.
    await search(page, 'zebed');
    assert.ok(await page.locator(`#search-people li[data-user-id="${zed.id}"]`).isVisible());

    // A person found opens their profile.
    await search(page, prefix);
    await person.click();
    await profileShown(page, `Zebediah ${word}`);
    assert.equal(await page.evaluate(() => location.hash), `#/@${zed.handle}`);
    assert.equal(await page.inputValue('#search-input'), '', 'the box empties off the results');
  });
});

test('search: an empty, blank or too-long query shows the server\'s message, once', async (t) => {
  const user = await suite.api.newUser('searcher');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    for (const q of ['', '   ', 'x'.repeat(201), '\u200b']) {
      const { users, chirps } = await search(page, q);
      assert.equal(chirps.status(), 400, `q=${JSON.stringify(q)}`);
      assert.equal(users.status(), 400);
      const { error } = await chirps.json();
      assert.ok(error);
      await eventually(async () => assert.equal(await text(page, '#search-message'), error));
      assert.equal(await text(page, '#search-heading'), 'Search');
      assert.ok(await page.locator('#search-people-section').isHidden());
      assert.ok(await page.locator('#search-chirps-section').isHidden());
    }
    // A search that works again clears the message.
    await search(page, 'anything');
    assert.equal(await text(page, '#search-message'), '');
    assert.ok(await page.locator('#search-chirps-section').isVisible());
  });
});
