// The Chirpy web app in real headless Chromium, against a live server with its own
// database. Each test opens a fresh browser context (its own localStorage) and fails on
// any console error, page error or Content-Security-Policy violation.
//
// The tests in this file run one at a time (node:test's default within a file); the last
// one resets the database for clean screenshots.

import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { newEmail } from './support/api.js';
import { DESKTOP, MOBILE, SCREENSHOTS, openApp } from './support/browser.js';
import { makeModerator } from './support/database.js';
import { REPO } from './support/server.js';
import { appSuite } from './support/suite.js';
import {
  assertNoHorizontalScroll,
  eventually,
  logIn,
  nextResponse,
  post,
  profileShown,
  readFeed,
  reloadFeed,
  showTab,
  signUp,
  storedSession,
  text,
} from './support/ui.js';

const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

const suite = appSuite();
const { inApp } = suite;

test('sign up logs the new user in; a taken or invalid email shows the server error inline', async (t) => {
  const email = newEmail('signup');
  await inApp(t, async ({ page }) => {
    const created = await signUp(page, email, 'correct horse');
    assert.equal((await created).status(), 201);
    await page.locator('#composer').waitFor();
    assert.equal(await text(page, '#whoami-email'), email);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'chirp-body');
    assert.ok((await storedSession(page)).refreshToken, 'the session is stored');
  });

  await inApp(t, async ({ page }) => {
    // Emails are unique regardless of case: the server says so, and the app shows it.
    assert.equal((await signUp(page, email.toUpperCase(), 'another one')).status(), 409);
    await eventually(async () => assert.equal(await text(page, '#signup-error'), 'Email is already taken'));

    await page.fill('#signup-email', 'not-an-email');
    const invalid = nextResponse(page, 'POST', '/api/users');
    await page.press('#signup-password', 'Enter');
    assert.equal((await invalid).status(), 400);
    await eventually(async () => assert.equal(await text(page, '#signup-error'), 'Invalid email address'));
    assert.ok(await page.locator('#composer').isHidden(), 'still logged out');
  });
});

test('log in: a wrong password shows the server error inline; the session survives a reload', async (t) => {
  const user = await suite.api.newUser('login');
  await inApp(t, async ({ page }) => {
    await page.fill('#login-email', user.email);
    await page.fill('#login-password', 'wrong password');
    const refused = nextResponse(page, 'POST', '/api/login');
    await page.click('#login-form button[type=submit]');
    assert.equal((await refused).status(), 401);
    await eventually(async () => assert.equal(await text(page, '#login-error'), 'Incorrect email or password'));
    assert.equal(await page.getAttribute('#login-error', 'role'), 'alert');

    await logIn(page, user.email, user.password);
    assert.equal(await text(page, '#login-error'), '');
    assert.equal(await text(page, '#whoami-email'), user.email);

    await page.reload();
    await page.locator('html[data-ready]').waitFor();
    assert.ok(await page.locator('#composer').isVisible(), 'still logged in after a reload');
    assert.equal(await text(page, '#whoami-email'), user.email);
  });
});

test('posting: the counter counts characters like the server and blocks 141; profanity comes back filtered', async (t) => {
  const user = await suite.api.newUser('poster');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const submit = page.locator('#chirp-submit');

    assert.ok(await submit.isDisabled(), 'nothing to post yet');
    await page.fill('#chirp-body', '   \n ');
    assert.ok(await submit.isDisabled(), 'blank is not a chirp');

    await page.fill('#chirp-body', 'a'.repeat(141));
    assert.ok(await submit.isDisabled(), '141 characters are too many');
    assert.match(await text(page, '#chirp-counter'), /^141 \/ 140/);
    assert.ok(await page.locator('#chirp-counter.counter-over').isVisible());
    assert.equal(await page.getAttribute('#chirp-body', 'aria-invalid'), 'true');

    await page.fill('#chirp-body', 'a'.repeat(140));
    assert.ok(await submit.isEnabled(), '140 characters are fine');

    // 140 é: 280 bytes in UTF-8, 140 characters for the server.
    const accents = 'é'.repeat(140);
    await page.fill('#chirp-body', accents);
    assert.equal(await text(page, '#chirp-counter'), '140 / 140');
    assert.ok(await submit.isEnabled());
    assert.equal((await post(page, accents)).body, accents);
    assert.equal(await page.inputValue('#chirp-body'), '', 'the composer is cleared');

    // 140 birds: 280 UTF-16 code units (`text.length`), 140 characters.
    const birds = '🐦'.repeat(140);
    await page.fill('#chirp-body', birds);
    assert.equal(await text(page, '#chirp-counter'), '140 / 140');
    assert.ok(await submit.isEnabled());
    assert.equal((await post(page, birds)).body, birds);
    await page.fill('#chirp-body', '🐦'.repeat(141));
    assert.ok(await submit.isDisabled());

    const chirp = await post(page, 'What a kerfuffle! Fornax, sharbert.');
    assert.equal(chirp.body, 'What a ****! ****, ****.');
    const shown = (await readFeed(page)).find((c) => c.id === chirp.id);
    assert.equal(shown.body, 'What a ****! ****, ****.');
    assert.equal(shown.author, 'you');
    assert.match(await text(page, '#status'), /replaced by \*\*\*\*/);
  });
});

test('hostile text in a chirp is shown as text and never runs', async (t) => {
  const author = await suite.api.newUser('hostile');
  const viaApi = await suite.api.postChirp(author.token, HOSTILE);
  const user = await suite.api.newUser('reader');
  await inApp(t, async ({ page }) => {
    // Someone else's chirp, seen logged out ...
    let shown = (await readFeed(page)).find((c) => c.id === viaApi.id);
    assert.equal(shown.body, HOSTILE);

    // ... and one's own, posted through the app.
    await logIn(page, user.email, user.password);
    const mine = await post(page, HOSTILE);
    shown = (await readFeed(page)).find((c) => c.id === mine.id);
    assert.equal(shown.body, HOSTILE);
    // Home holds only one's own (the author is not followed): Everyone has both.
    await showTab(page, 'Everyone');
    assert.equal((await readFeed(page)).find((c) => c.id === viaApi.id).body, HOSTILE);

    const bodies = page.locator('#feed .chirp-body');
    assert.equal(await page.locator('#feed .chirp-body *').count(), 0, 'chirp bodies hold text only');
    assert.ok((await bodies.count()) >= 2);
    assert.equal(await page.locator('img[src="x"], #feed script').count(), 0);
    await page.waitForTimeout(200); // would a stray onerror have fired by now
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });
});

test('clicking an author opens their profile page with only their chirps; back returns to the feed', async (t) => {
  const other = await suite.api.newUser('other');
  const theirs = await suite.api.postChirp(other.token, 'A chirp by someone else');
  const user = await suite.api.newUser('filterer');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const mine = await post(page, 'A chirp of my own');
    await showTab(page, 'Everyone');
    let feed = await readFeed(page);
    assert.ok(feed.some((c) => c.id === theirs.id) && feed.some((c) => c.id === mine.id));

    // Without a handle or a name, an author is the start of their id, linked by id.
    const theirAuthor = page.locator(`#feed li[data-chirp-id="${theirs.id}"] .author`);
    assert.equal(await theirAuthor.textContent(), other.id.slice(0, 8));
    assert.equal(await theirAuthor.getAttribute('href'), `#/u/${other.id}`);
    feed = await reloadFeed(page, () => theirAuthor.click(), (url) => url.searchParams.get('author_id') === other.id);
    assert.deepEqual(feed.map((c) => c.id), [theirs.id]);
    await profileShown(page, other.id.slice(0, 8));
    assert.equal(await page.evaluate(() => location.hash), `#/u/${other.id}`);
    assert.ok(await page.locator('#composer').isHidden(), 'a profile page has no composer');
    assert.ok(await page.locator('#feed-tabs').isHidden(), 'nor tabs');
    assert.match(await text(page, '#profile-chirps'), /^1 chirp$/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'profile-name', 'focus moves to the profile');

    feed = await reloadFeed(page, () => page.click('#back-to-feed'), (url) => !url.searchParams.has('author_id'));
    assert.ok(feed.some((c) => c.id === theirs.id) && feed.some((c) => c.id === mine.id));
    assert.ok(await page.locator('#profile-view').isHidden());
    assert.equal(await page.getAttribute('#tab-everyone', 'aria-selected'), 'true', 'back on the tab it left');

    const myAuthor = page.locator(`#feed li[data-chirp-id="${mine.id}"] .author`);
    assert.equal(await myAuthor.textContent(), 'you');
    feed = await reloadFeed(page, () => myAuthor.click(), (url) => url.searchParams.get('author_id') === user.id);
    assert.deepEqual(feed.map((c) => c.id), [mine.id]);
    await profileShown(page, user.id.slice(0, 8));
    assert.ok(await page.locator('#edit-profile-button').isVisible(), 'one\'s own profile: edit it');
    assert.ok(await page.locator('#follow-button').isHidden(), 'and no following oneself');
  });
});

test('the feed is newest first by default and the toggle switches to oldest first', async (t) => {
  const user = await suite.api.newUser('sorter');
  const posted = [];
  for (const body of ['first', 'second', 'third']) posted.push((await suite.api.postChirp(user.token, `Sorting: ${body}`)).id);
  const positions = (feed) => posted.map((id) => feed.findIndex((c) => c.id === id));

  await inApp(t, async ({ page, requests }) => {
    assert.ok(requests.includes('GET /api/chirps?sort=desc&limit=20'), 'newest first by default, a page at a time');
    assert.equal(await text(page, '#sort-toggle'), 'Newest first');
    let [first, second, third] = positions(await readFeed(page));
    assert.ok(third < second && second < first, 'newest first');

    let feed = await reloadFeed(page, () => page.click('#sort-toggle'), (url) => url.searchParams.get('sort') === 'asc');
    [first, second, third] = positions(feed);
    assert.ok(first >= 0 && first < second && second < third, 'oldest first');
    assert.equal(await text(page, '#sort-toggle'), 'Oldest first');

    feed = await reloadFeed(page, () => page.click('#sort-toggle'), (url) => url.searchParams.get('sort') === 'desc');
    [first, second, third] = positions(feed);
    assert.ok(third < second && second < first);
  });
});

test('delete your own chirp; someone else\'s has no delete button', async (t) => {
  const other = await suite.api.newUser('bystander');
  const theirs = await suite.api.postChirp(other.token, 'You cannot delete me');
  const user = await suite.api.newUser('deleter');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const mine = await post(page, 'Delete me');
    await showTab(page, 'Everyone');
    const feed = await readFeed(page);
    assert.equal(feed.find((c) => c.id === theirs.id).canDelete, false);
    assert.equal(feed.find((c) => c.id === mine.id).canDelete, true);
    assert.ok(feed.filter((c) => c.canDelete).every((c) => c.userId === user.id), 'delete buttons only on mine');

    const deleted = nextResponse(page, 'DELETE', `/api/chirps/${mine.id}`);
    await page.click(`#feed li[data-chirp-id="${mine.id}"] button.delete`);
    assert.equal((await deleted).status(), 204);
    await page.locator(`#feed li[data-chirp-id="${mine.id}"]`).waitFor({ state: 'detached' });
    assert.equal(await text(page, '#status'), 'Chirp deleted.');
    assert.equal((await suite.api.call('GET', `/api/chirps/${mine.id}`)).status, 404);
    assert.equal((await suite.api.call('GET', `/api/chirps/${theirs.id}`)).status, 200);
  });
});

test('log out revokes the refresh token', async (t) => {
  const user = await suite.api.newUser('leaver');
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const { refreshToken } = await storedSession(page);
    assert.equal((await suite.api.refresh(refreshToken)).status, 200, 'the refresh token works while logged in');

    const revoked = nextResponse(page, 'POST', '/api/revoke');
    await page.click('#logout-button');
    const response = await revoked;
    assert.equal(response.status(), 204);
    assert.equal(response.request().headers().authorization, `Bearer ${refreshToken}`);
    await page.locator('#login-form').waitFor();
    assert.ok(await page.locator('#composer').isHidden());
    assert.equal(await storedSession(page), null);
    assert.equal(await text(page, '#status'), 'You are logged out.');

    const refused = await suite.api.refresh(refreshToken);
    assert.equal(refused.status, 401);
    assert.equal(typeof refused.body.error, 'string');

    await page.reload();
    await page.locator('html[data-ready]').waitFor();
    assert.ok(await page.locator('#login-form').isVisible(), 'still logged out after a reload');
  });
});

test('account settings change the email and password, and the session keeps working', async (t) => {
  const user = await suite.api.newUser('mover');
  const taken = await suite.api.newUser('taken');
  const newEmailAddress = newEmail('moved');
  const newPassword = 'a brand new password';
  await inApp(t, async ({ page }) => {
    await logIn(page, user.email, user.password);
    const oldRefresh = (await storedSession(page)).refreshToken;
    await page.click('#settings-button');
    await page.locator('#settings-form').waitFor();
    assert.ok(await page.locator('#composer').isHidden(), 'settings replace the composer');
    assert.equal(await page.inputValue('#settings-email'), user.email);

    await page.fill('#settings-password', newPassword);
    await page.fill('#settings-confirm', 'something else');
    await page.click('#settings-form button[type=submit]');
    assert.equal(await text(page, '#settings-error'), 'The two new passwords do not match.');

    // The server's word on a taken email, inline.
    await page.fill('#settings-email', taken.email);
    await page.fill('#settings-confirm', newPassword);
    const conflict = nextResponse(page, 'PUT', '/api/users');
    await page.click('#settings-form button[type=submit]');
    assert.equal((await conflict).status(), 409);
    await eventually(async () => assert.equal(await text(page, '#settings-error'), 'Email is already taken'));

    await page.fill('#settings-email', newEmailAddress);
    const updated = nextResponse(page, 'PUT', '/api/users');
    const relogged = nextResponse(page, 'POST', '/api/login');
    await page.click('#settings-form button[type=submit]');
    assert.equal((await updated).status(), 200);
    assert.equal((await relogged).status(), 200);
    await page.locator('#composer').waitFor();
    assert.equal(await text(page, '#status'), 'Your email and password are updated.');
    assert.equal(await text(page, '#whoami-email'), newEmailAddress);

    // The change revoked every refresh token; the app logged in again for a new one.
    const session = await storedSession(page);
    assert.equal(session.user.email, newEmailAddress);
    assert.equal((await suite.api.refresh(oldRefresh)).status, 401);
    assert.equal((await suite.api.refresh(session.refreshToken)).status, 200);
    await post(page, 'Posting after changing my email');

    assert.equal((await suite.api.call('POST', '/api/login', { body: { email: user.email, password: user.password } })).status, 401);
    await page.click('#logout-button');
    await page.locator('#login-form').waitFor();
    await logIn(page, newEmailAddress, newPassword);
  });
});

test('the Chirpy Red badge follows GET /api/users/me, after logging in and on every load', async (t) => {
  const user = await suite.api.newUser('subscriber');
  await inApp(t, async ({ page }) => {
    const asked = nextResponse(page, 'GET', '/api/users/me');
    await logIn(page, user.email, user.password);
    const me = await asked;
    assert.equal(me.status(), 200);
    assert.equal((await me.request().allHeaders()).authorization, `Bearer ${(await storedSession(page)).token}`);
    assert.ok(await page.locator('#red-badge').isHidden(), 'not Chirpy Red yet');

    // Polka upgrades the user; the session stored at login still says otherwise.
    await suite.api.upgrade(user.id);
    assert.equal((await storedSession(page)).user.is_chirpy_red, false);
    const askedAgain = nextResponse(page, 'GET', '/api/users/me');
    await page.reload();
    assert.equal((await askedAgain).status(), 200);
    await page.locator('#red-badge').waitFor();
    assert.equal(await text(page, '#red-badge'), 'Chirpy Red');
    assert.equal((await storedSession(page)).user.is_chirpy_red, true);
  });

  // The other way round: a stored session that claims Chirpy Red is corrected by the server.
  const plain = await suite.api.newUser('plain');
  await inApp(t, async ({ page }) => {
    await logIn(page, plain.email, plain.password);
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('chirpy.session'));
      session.user.is_chirpy_red = true;
      localStorage.setItem('chirpy.session', JSON.stringify(session));
    });
    const asked = nextResponse(page, 'GET', '/api/users/me');
    await page.reload();
    assert.equal((await asked).status(), 200);
    await eventually(async () => assert.ok(await page.locator('#red-badge').isHidden(), 'no badge: the server says no'));
    assert.equal((await storedSession(page)).user.is_chirpy_red, false);
  });
});

test('keyboard only: Tab through the log-in form, submit with Space, post with Enter', async (t) => {
  const user = await suite.api.newUser('keyboard');
  await inApp(t, async ({ page, requests }) => {
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.className);
    const focusVisible = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      });

    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'skip-link', 'the skip link comes first');
    assert.ok(await focusVisible(), 'focus is visible');
    const order = [];
    for (let i = 0; i < 5 && (await focused()) !== 'login-email'; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    assert.equal(await focused(), 'login-email', `Tab reaches the email field (went ${order.join(', ')})`);
    assert.ok(await focusVisible());
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'login-password');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Log in');
    assert.ok(await focusVisible());
    const loggedIn = nextResponse(page, 'POST', '/api/login');
    await page.keyboard.press('Space');
    assert.equal((await loggedIn).status(), 200);
    await page.locator('#composer').waitFor();

    // Logging in puts the cursor in the composer.
    await eventually(async () => assert.equal(await focused(), 'chirp-body'));
    await page.keyboard.type('Typed without a mouse');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'chirp-submit');
    assert.ok(await focusVisible());
    const posted = nextResponse(page, 'POST', '/api/chirps');
    await page.keyboard.press('Enter');
    assert.equal((await posted).status(), 201);
    await eventually(async () => assert.equal((await readFeed(page))[0]?.body, 'Typed without a mouse'));

    // On to the tabs (one Tab stop: the selected one), where an arrow key selects Everyone.
    for (let i = 0; i < 5 && (await focused()) !== 'tab-home'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'tab-home');
    assert.ok(await focusVisible());
    const everyone = nextResponse(page, 'GET', '/api/chirps');
    await page.keyboard.press('ArrowRight');
    assert.equal((await everyone).status(), 200);
    assert.equal(await focused(), 'tab-everyone');
    assert.equal(await page.getAttribute('#tab-everyone', 'aria-selected'), 'true');

    // On to the sort toggle, and Enter flips it.
    for (let i = 0; i < 5 && (await focused()) !== 'sort-toggle'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'sort-toggle');
    const sorted = nextResponse(page, 'GET', '/api/chirps', (url) => url.searchParams.get('sort') === 'asc');
    await page.keyboard.press('Enter');
    await sorted;
    assert.ok(requests.includes('GET /api/chirps?sort=asc&limit=20'));
  });
});

test('the test harness enforces the Content-Security-Policy', async (t) => {
  const app = await openApp(suite.browser, suite.server.url);
  try {
    const response = await app.page.request.get('/app/');
    assert.equal(response.status(), 200);
    // An inline script, as a careless innerHTML would add one: blocked, and reported.
    await app.page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.body.append(script);
    });
    await eventually(() => assert.ok(app.problems.some((p) => /Content Security Policy|CSP violation/.test(p))));
    assert.equal(await app.page.evaluate(() => window.__inline), undefined);
  } finally {
    await app.close();
  }
});

test('main screens at 1280 and 375 px wide: screenshots, and nothing scrolls sideways on a phone', async (t) => {
  // A clean database, so the screenshots show only the chirps made here.
  await suite.api.reset();
  const me = { email: 'saul@example.com', password: 'correct horse battery staple' };
  await suite.api.signUp(me.email, me.password);
  Object.assign(me, await suite.api.logIn(me.email, me.password));
  const kim = await suite.api.newUser('kim');
  const mike = await suite.api.newUser('mike');
  await suite.api.upgrade(me.id);
  await suite.api.setProfile(me.token, { handle: 'saul', display_name: 'Saul Goodman', bio: 'Attorney at law.' });
  await suite.api.setProfile(kim.token, { handle: 'kim', display_name: 'Kim Wexler', bio: 'Lawyer. Coffee first.' });
  await suite.api.setProfile(mike.token, { handle: 'mike', display_name: 'Mike Ehrmantraut' });
  await suite.api.follow(me.token, kim.id);
  await suite.api.follow(me.token, mike.id);
  // Someone to report, first, so that their chirp is the oldest.
  const spammer = await suite.api.newUser('spammer');
  await suite.api.setProfile(spammer.token, { handle: 'deals', display_name: 'Daily Deals' });
  const spam = await suite.api.postChirp(spammer.token, 'Cheap watches!!! Click the link in my bio, today only.');
  await suite.api.postChirp(kim.token, 'Morning, Chirpy! Coffee first, then whatever kerfuffle the day brings.');
  await suite.api.postChirp(mike.token, 'Tip: click a name to open their profile, and follow them to see their chirps on Home.');
  const upgraded = await suite.api.postChirp(me.token, 'Just upgraded to Chirpy Red. The badge looks great next to my name.');
  const shipped = await suite.api.postChirp(kim.token, 'Shipped the new release today. 140 characters is plenty when you keep it short.');
  await suite.api.like(mike.token, shipped.id);
  await suite.api.postChirp(mike.token, 'Congratulations! Reply to any chirp, like it, or open its conversation from the reply count.', shipped.id);
  // A moderator, with one open report and one resolved.
  const moderator = await suite.api.newUser('moderator');
  await suite.api.setProfile(moderator.token, { handle: 'rosa', display_name: 'Rosa (moderator)' });
  await makeModerator(suite.server, moderator.id);
  const reportSpam = async (who, reason) => {
    const answer = await suite.api.call('POST', '/api/reports', {
      authorization: `Bearer ${who.token}`,
      body: { user_id: spammer.id, chirp_ids: [spam.id], reason },
    });
    assert.equal(answer.status, 201);
    return answer.body;
  };
  const resolved = await reportSpam(kim, 'Posted the same link to everyone yesterday.');
  assert.equal((await suite.api.call('POST', `/api/admin/reports/${resolved.id}/resolve`, {
    authorization: `Bearer ${moderator.token}`,
    body: { note: 'Warned them.' },
  })).status, 200);
  await reportSpam(mike, 'Spam, every few seconds.');
  const updateDocs = process.env.UPDATE_DOCS_SCREENSHOTS === '1';
  const asKim = { authorization: `Bearer ${kim.token}` };

  for (const [device, viewport] of [['desktop', DESKTOP], ['mobile', MOBILE]]) {
    // Two unread notifications for each device's screens: Kim follows, and likes a chirp, anew.
    await suite.api.call('DELETE', `/api/users/${me.id}/follow`, asKim);
    await suite.api.call('DELETE', `/api/chirps/${upgraded.id}/like`, asKim);
    await suite.api.follow(kim.token, me.id);
    await suite.api.like(kim.token, upgraded.id);
    await inApp(t, async ({ page }) => {
      const shot = async (name) => {
        await page.evaluate(() => document.activeElement?.blur());
        // No hover highlight on whatever was clicked last.
        await page.mouse.move(0, 0);
        if (device === 'mobile') await assertNoHorizontalScroll(page, MOBILE.width);
        const path = join(SCREENSHOTS, `${device}-${name}.png`);
        await page.screenshot({ path });
        return path;
      };

      await shot('1-login');
      await page.click('#show-signup');
      await shot('2-signup');
      await page.click('#show-login');
      await page.fill('#login-email', me.email);
      await page.fill('#login-password', 'not my password');
      await page.click('#login-form button[type=submit]');
      await page.locator('#login-error:not(:empty)').waitFor();
      await shot('3-login-error');

      await logIn(page, me.email, me.password);
      await eventually(async () => assert.equal(await page.getAttribute('#bell', 'data-unread'), '2'));
      // One's own like shows pressed (the page knows it from here on).
      const like = page.locator(`#feed li[data-chirp-id="${shipped.id}"] button.like-button`);
      await like.click();
      await eventually(async () => assert.equal(await like.getAttribute('aria-pressed'), 'true'));
      await eventually(async () => assert.match(await like.textContent(), /2 likes/));
      await page.evaluate(() => { document.getElementById('status').textContent = ''; });
      const feed = await shot('4-feed');
      if (updateDocs) await copyFile(feed, join(REPO, `docs/screenshot-${device}.png`));

      await page.fill('#chirp-body', 'This chirp is getting far too long to post. '.repeat(4));
      await shot('5-composer-over-limit');
      await page.fill('#chirp-body', '');

      await reloadFeed(page, () => page.click(`#feed li[data-user-id="${kim.id}"] .author >> nth=0`));
      await profileShown(page, 'Kim Wexler');
      await page.evaluate(() => { document.getElementById('status').textContent = ''; });
      await shot('6-profile');
      await page.click('#report-button');
      await page.fill('#report-reason', 'Example: what is wrong, in a few words.');
      await shot('11-report');
      await page.keyboard.press('Escape');
      await page.click('#back-to-feed');
      await showTab(page, 'Everyone');
      await shot('7-everyone');

      await page.click(`#feed li[data-chirp-id="${shipped.id}"] .reply-count`);
      await page.locator(`#thread-chain li.chirp-highlight[data-chirp-id="${shipped.id}"]`).waitFor();
      await page.locator('#thread-replies li.chirp').waitFor();
      await shot('8-thread');
      await page.fill('#search-input', 'coffee');
      await page.press('#search-input', 'Enter');
      await page.locator('#search-chirps li.chirp').waitFor();
      await shot('9-search');

      await page.click('#settings-button');
      await page.locator('#settings-form').waitFor();
      await shot('10-settings');
      await page.click('#settings-cancel');

      const read = nextResponse(page, 'PUT', '/api/markers/notifications');
      await page.click('#bell');
      await read;
      await page.locator('#notifications-list li.notification-unread').first().waitFor();
      await eventually(async () => assert.equal(await page.getAttribute('#bell', 'data-unread'), '0'));
      await shot('12-notifications');

      await page.click('#logout-button');
      await page.locator('#login-form').waitFor();
      await page.evaluate(() => { location.hash = '#/'; });
      await logIn(page, moderator.email, moderator.password);
      await page.locator('#moderation-link').waitFor({ state: 'visible' });
      await page.click('#moderation-link');
      await page.locator('#report-list li.report-open .report-chirp-body').waitFor();
      await page.evaluate(() => { document.getElementById('status').textContent = ''; });
      await shot('13-moderation');
    }, { viewport });
  }
});

test('the footer links developers to the API explorer', async (t) => {
  await inApp(t, async ({ page }) => {
    const link = page.getByRole('link', { name: 'API explorer' });
    assert.equal(await link.getAttribute('href'), '/docs');
    const docs = await page.request.get('/docs');
    assert.equal(docs.status(), 200);
  });
});

test('the app also works at /app, without the trailing slash', async (t) => {
  // openApp waits for the first feed, which needs the scripts: relative URLs would break here.
  await inApp(t, async ({ page, requests }) => {
    assert.ok(await page.locator('#login-form').isVisible());
    assert.ok(requests.includes('GET /app/js/main.js') && requests.includes('GET /app/app.css'));
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.body).display), 'block', 'styled');
  }, { path: '/app' });
});
