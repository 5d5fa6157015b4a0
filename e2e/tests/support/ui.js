// What a person does in the app, as reusable steps, and what the tests read back from it.

import assert from 'node:assert/strict';

const TIMEOUT = 10_000;

function isApi(response, method, pathname) {
  const url = new URL(response.url());
  return response.request().method() === method && url.pathname === pathname;
}

/** Resolves to the first response to `method pathname` (optionally matching `test(url)`). */
export function nextResponse(page, method, pathname, test = () => true) {
  return page.waitForResponse((r) => isApi(r, method, pathname) && test(new URL(r.url())), { timeout: TIMEOUT });
}

export async function logIn(page, email, password) {
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  const response = nextResponse(page, 'POST', '/api/login');
  await page.click('#login-form button[type=submit]');
  assert.equal((await response).status(), 200);
  await page.locator('#composer').waitFor({ state: 'visible' });
  await feedIdle(page);
}

/** Signs up through the form (`handle` optional); resolves to the POST /api/users response. */
export async function signUp(page, email, password, { handle = '' } = {}) {
  await page.click('#show-signup');
  await page.fill('#signup-email', email);
  await page.fill('#signup-password', password);
  await page.fill('#signup-handle', handle);
  const created = nextResponse(page, 'POST', '/api/users');
  await page.click('#signup-form button[type=submit]');
  return created;
}

/** Posts through the composer; resolves to the chirp the server stored, once it is in the feed. */
export async function post(page, text) {
  await page.fill('#chirp-body', text);
  const response = finalResponse(page, 'POST', '/api/chirps');
  await page.click('#chirp-submit');
  const answer = await response;
  assert.equal(answer.status(), 201, `POST /api/chirps: ${await answer.text()}`);
  const chirp = await answer.json();
  await page.locator(`#feed li[data-chirp-id="${chirp.id}"]`).waitFor();
  return chirp;
}

/**
 * The answer to `method pathname`: its first response that is not a 401. After a 401 the
 * app refreshes its token and retries, and the retry's response is the answer. Listening
 * starts before the action, so a retry that completes quickly is not missed.
 */
function finalResponse(page, method, pathname) {
  return page.waitForResponse((r) => isApi(r, method, pathname) && r.status() !== 401, { timeout: TIMEOUT });
}

/** Waits until the feed follows the live stream (the "Live" indicator shows). */
export async function feedLive(page) {
  await page.locator('#live-indicator').waitFor({ state: 'visible', timeout: TIMEOUT });
}

/** Waits until the chirp with this id is in the feed (`state: 'detached'`: until it is gone). */
export async function chirpInFeed(page, id, { state = 'attached', timeout = TIMEOUT } = {}) {
  await page.locator(`#feed li[data-chirp-id="${id}"]`).waitFor({ state, timeout });
}

/** How many times the page has fetched the list (the stream, /api/chirps/stream, aside). */
export function listFetches(requests) {
  return requests.filter((r) => r.startsWith('GET /api/chirps?')).length;
}

/** How many times the page has fetched a page of the home timeline (its stream aside). */
export function homeFetches(requests) {
  return requests.filter((r) => r.startsWith('GET /api/timelines/home?')).length;
}

/** Selects the Home or Everyone tab (`name`), and waits for the list it loads. */
export async function showTab(page, name) {
  const everyone = name === 'Everyone';
  const response = everyone ? nextResponse(page, 'GET', '/api/chirps') : nextResponse(page, 'GET', '/api/timelines/home');
  await page.getByRole('tab', { name }).click();
  assert.equal((await response).status(), 200);
  await feedIdle(page);
  assert.equal(await page.getAttribute(`#tab-${everyone ? 'everyone' : 'home'}`, 'aria-selected'), 'true');
}

/** Waits until the profile page shows `name` and its chirps have loaded. */
export async function profileShown(page, name) {
  await page.locator('#profile-view').waitFor({ state: 'visible', timeout: TIMEOUT });
  await eventually(async () => assert.equal(await text(page, '#profile-name'), name), TIMEOUT);
  await page.locator('#feed-view').waitFor({ state: 'visible', timeout: TIMEOUT });
  await feedIdle(page);
}

/** Waits until the feed has no request in flight. */
export async function feedIdle(page) {
  await page.waitForFunction(() => !document.getElementById('feed').hasAttribute('aria-busy'), null, {
    timeout: TIMEOUT,
  });
}

/** Runs `action` (which makes the feed reload), waits for the list it asked for, reads the feed. */
export async function reloadFeed(page, action, test = () => true) {
  const response = nextResponse(page, 'GET', '/api/chirps', test);
  await action();
  assert.equal((await response).status(), 200);
  await feedIdle(page);
  return readFeed(page);
}

/** The feed as shown: one entry per chirp, in order. */
export function readFeed(page) {
  return page.$$eval('#feed li.chirp', (items) =>
    items.map((li) => ({
      id: li.dataset.chirpId,
      userId: li.dataset.userId,
      author: li.querySelector('.author .author-name').textContent,
      handle: li.querySelector('.author .author-handle')?.textContent ?? null,
      href: li.querySelector('.author').getAttribute('href'),
      body: li.querySelector('.chirp-body').textContent,
      canDelete: Boolean(li.querySelector('button.delete')),
    })),
  );
}

/** The list item of the chirp with this id in `list` (a selector: `#feed`, `#thread-replies`, ...). */
export function chirpItem(page, list, id) {
  return page.locator(`${list} li.chirp[data-chirp-id="${id}"]`);
}

/** A chirp's Like as shown: `{ pressed, count }` (`pressed` null when it is not a button). */
export async function likeOf(item) {
  const count = Number(await item.locator('.like-count').textContent());
  const button = item.locator('button.like-button');
  const pressed = (await button.count()) ? await button.getAttribute('aria-pressed') : null;
  return { pressed, count };
}

/** A chirp's reply count as shown ("2 replies"). */
export async function replyCountOf(item) {
  return (await item.locator('.reply-count').textContent()).trim();
}

/** Waits until the thread view shows the chirp with this id, highlighted, and has settled. */
export async function threadShown(page, id) {
  await page.locator('#thread-view').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.locator(`#thread-chain li.chirp-highlight[data-chirp-id="${id}"]`).waitFor({ timeout: TIMEOUT });
  await page.waitForFunction(() => !document.getElementById('thread-chain').hasAttribute('aria-busy'), null, {
    timeout: TIMEOUT,
  });
}

/** The thread as shown: the chain's ids (oldest first, the chirp last) and the replies' ids. */
export async function readThread(page) {
  const ids = (selector) => page.$$eval(`${selector} li.chirp`, (items) => items.map((li) => li.dataset.chirpId));
  return { chain: await ids('#thread-chain'), replies: await ids('#thread-replies') };
}

/**
 * Searches for `q` with the header's search box (Enter); resolves to the two answers,
 * `{ users, chirps }`, once the results are drawn.
 */
export async function search(page, q) {
  const users = nextResponse(page, 'GET', '/api/search/users', (url) => url.searchParams.get('q') === q);
  const chirps = nextResponse(page, 'GET', '/api/search/chirps', (url) => url.searchParams.get('q') === q);
  await page.fill('#search-input', q);
  await page.press('#search-input', 'Enter');
  const answers = { users: await users, chirps: await chirps };
  await page.locator('#search-view').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.waitForFunction(() => !document.getElementById('search-chirps').hasAttribute('aria-busy'), null, {
    timeout: TIMEOUT,
  });
  return answers;
}

/** Opens an address of the app by typing it (`#/chirp/<id>`, say). */
export async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

/** The unread count the header's bell shows (0 when its badge is hidden). */
export async function bellCount(page) {
  return Number(await page.getAttribute('#bell', 'data-unread'));
}

/** The notifications as listed: `{ id, type, text, href, unread }`, in order. */
export function readNotifications(page) {
  return page.$$eval('#notifications-list li.notification', (items) =>
    items.map((li) => ({
      id: li.dataset.notificationId,
      type: li.dataset.type,
      text: li.querySelector('.notification-text').textContent.replace(/\s+/g, ' ').trim(),
      href: li.querySelector('.notification-link')?.getAttribute('href') ?? null,
      actorHref: li.querySelector('.author').getAttribute('href'),
      unread: li.classList.contains('notification-unread'),
    })),
  );
}

export function storedSession(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('chirpy.session')));
}

export async function text(page, selector) {
  return (await page.locator(selector).textContent()).trim();
}

/** Polls `check` (which throws while the condition does not hold) until it passes. */
export async function eventually(check, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Page and document are no wider than the viewport: nothing to scroll sideways. */
export async function assertNoHorizontalScroll(page, width) {
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= width, `the page scrolls sideways: scrollWidth ${scrollWidth} > ${width}`);
}
