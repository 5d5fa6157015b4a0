// One's notifications, `#/notifications` (GET /api/notifications): newest first, 20 at a time
// (**More notifications** follows the `Link` header), of every type or of one (the filter
// buttons send `types[]`). Each names who did it (profiles.js) and what, and links to where:
// a follow to the follower's profile, a reply or a mention to its thread, likes to the thread
// of the chirp liked. Those after the read marker (GET /api/markers/notifications) are marked
// new. Opening the page moves the marker to the newest (PUT /api/markers/notifications), so the
// bell's count goes to zero; while it shows them all, one that arrives on Home's stream is
// added on top and read at once. A filtered list moves no marker: it leaves others unseen.

import * as api from './api.js';
import { el, say, show } from './dom.js';
import { avatarClass, fillAuthor, initials } from './feed.js';
import { lookUp, profileEvents } from './profiles.js';
import { threadRoute } from './routes.js';
import { getSession } from './session.js';
import { friendlyTime, fullTime } from './text.js';
import { markRead, unreadEvents } from './unread.js';

const $ = (id) => document.getElementById(id);

const ui = {
  heading: $('notifications-heading'),
  filters: $('notification-filters'),
  message: $('notifications-message'),
  list: $('notifications-list'),
  more: $('notifications-more'),
  status: $('status'),
};

/**
 * `open`: the page shows; `type`: the one type shown ('' for all); `next`: the URL of the next
 * page; `lastRead`: the marker when the page opened (as a BigInt: ids are up to 18 digits).
 */
const state = { open: false, type: '', next: null, lastRead: 0n };
let generation = 0;
let onSessionLost = () => {};

const me = () => getSession()?.user ?? null;

/** Starts the view: `sessionLost(error)` is called when a request finds the session over. */
export function startNotifications({ sessionLost }) {
  onSessionLost = sessionLost;
}

const EMPTY = {
  '': 'Nothing yet. When someone follows you, replies to you, mentions your @handle or likes your chirps, it shows here.',
  follow: 'No follows yet.',
  reply: 'No replies yet.',
  mention: 'No mentions yet.',
  like: 'No likes yet.',
};

/** Shows every notification, newest first, and reads them. Resolves once drawn (undefined if left meanwhile). */
export async function openNotifications() {
  state.open = true;
  state.type = '';
  paintFilters();
  return load();
}

/** Forgets the list (the page shows something else now). */
export function closeNotifications() {
  generation += 1;
  state.open = false;
  state.next = null;
  ui.list.replaceChildren();
}

function paintFilters() {
  for (const button of ui.filters.querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.dataset.type === state.type));
  }
}

const types = () => (state.type ? [state.type] : []);

/** Names before drawing: one profile request per actor not known yet. */
const lookUpActors = (items) => Promise.all([...new Set(items.map((n) => n.actor_id))].map(lookUp));

async function load() {
  const mine = ++generation;
  state.next = null;
  ui.list.replaceChildren();
  show(ui.more, false);
  say(ui.message, '');
  if (!me()) {
    say(ui.message, 'Log in to see your notifications.');
    return false;
  }
  ui.list.setAttribute('aria-busy', 'true');
  let marker;
  let page;
  try {
    [marker, page] = await Promise.all([api.getMarker(), api.listNotifications(types())]);
    await lookUpActors(page.items);
  } catch (error) {
    if (mine !== generation) return undefined;
    ui.list.removeAttribute('aria-busy');
    if (error.sessionExpired) onSessionLost(error);
    else say(ui.message, `Could not load your notifications: ${error.message}`);
    return false;
  }
  if (mine !== generation) return undefined;
  ui.list.removeAttribute('aria-busy');
  state.lastRead = BigInt(marker.last_read_id);
  state.next = page.next;
  ui.list.replaceChildren(...page.items.map(renderNotification));
  show(ui.more, Boolean(state.next));
  updateMessage();
  await readUpTo(page.items[0]);
  return true;
}

function updateMessage() {
  say(ui.message, ui.list.children.length ? '' : EMPTY[state.type]);
}

/** Moves the marker to `newest` (the first of the whole list), if it is past it. */
async function readUpTo(newest) {
  if (state.type !== '' || !newest || BigInt(newest.id) <= state.lastRead) return;
  try {
    await markRead(newest.id);
  } catch (error) {
    if (error.sessionExpired) onSessionLost(error);
    else say(ui.status, `Could not mark your notifications read: ${error.message}`);
  }
}

/** What happened, and where it links: `[words, href]` (href null: nowhere more to go). */
function describe(n) {
  const chirp = n.chirp_id ? threadRoute(n.chirp_id) : null;
  switch (n.type) {
    case 'follow':
      return ['followed you', null];
    case 'reply':
      return ['replied to your chirp', chirp];
    case 'mention':
      return ['mentioned you', chirp];
    case 'like': {
      const others = n.actors_count - 1;
      const who = others > 0 ? `and ${others} ${others === 1 ? 'other' : 'others'} ` : '';
      return [`${who}liked your chirp`, chirp];
    }
    default:
      return [n.type, chirp];
  }
}

function renderNotification(n) {
  const unread = BigInt(n.id) > state.lastRead;
  const actor = el('a', { className: 'author' });
  fillAuthor(actor, n.actor_id, me());
  const [words, href] = describe(n);
  // A like notification is as new as its latest like.
  const when = new Date(n.updated_at);
  const text = el(
    'p',
    { className: 'notification-text' },
    unread ? el('span', { className: 'notification-new' }, 'New', el('span', { className: 'visually-hidden' }, ': ')) : null,
    actor,
    ' ',
    href ? el('a', { className: 'notification-link', href }, words) : words,
  );
  const classes = ['notification', `notification-${n.type}`, unread && 'notification-unread'].filter(Boolean).join(' ');
  return el(
    'li',
    { className: classes, dataset: { notificationId: n.id, type: n.type, actorId: n.actor_id, chirpId: n.chirp_id ?? '' } },
    el('span', { className: avatarClass(n.actor_id), ariaHidden: 'true' }, initials(n.actor_id, me())),
    el('div', { className: 'notification-main' }, text, el('time', { className: 'notification-time', dateTime: n.updated_at, title: fullTime(when) }, friendlyTime(when))),
  );
}

async function loadMore() {
  if (!state.next || ui.more.disabled) return;
  const mine = generation;
  ui.more.disabled = true;
  ui.list.setAttribute('aria-busy', 'true');
  let page = null;
  let failure = null;
  try {
    page = await api.nextPage(state.next);
    await lookUpActors(page.items);
  } catch (error) {
    failure = error;
  }
  ui.more.disabled = false;
  ui.list.removeAttribute('aria-busy');
  if (mine !== generation) return;
  if (failure) {
    if (failure.sessionExpired) onSessionLost(failure);
    else say(ui.status, `Could not load more notifications: ${failure.message}`);
    return;
  }
  const shown = new Set([...ui.list.children].map((item) => item.dataset.notificationId));
  let first = null;
  for (const n of page.items) {
    if (shown.has(n.id)) continue;
    const item = renderNotification(n);
    ui.list.append(item);
    first ??= item;
  }
  state.next = page.next;
  show(ui.more, Boolean(state.next));
  // Reading goes on from the first new line (the button may be gone).
  if (first) first.querySelector('.author').focus();
  else if (!state.next) ui.heading.focus();
}

ui.more.addEventListener('click', loadMore);

ui.filters.addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (!button || button.dataset.type === state.type) return;
  state.type = button.dataset.type;
  paintFilters();
  load();
});

// ---- Live: one that arrives while the page shows them all goes on top, read at once ------

let adding = null;

/** Reads the newest page and puts what is newer than the top line on top; then the marker. */
async function addNewest() {
  if (adding) {
    adding.again = true;
    return;
  }
  adding = { again: false };
  const mine = generation;
  try {
    do {
      adding.again = false;
      const page = await api.listNotifications([]);
      await lookUpActors(page.items);
      if (mine !== generation) return;
      const top = ui.list.firstElementChild ? BigInt(ui.list.firstElementChild.dataset.notificationId) : 0n;
      const newer = page.items.filter((n) => BigInt(n.id) > top);
      for (const n of newer.reverse()) {
        // More likes of a chirp: its one line takes a new id, and moves up.
        for (const item of [...ui.list.children]) {
          if (n.type === 'like' && item.dataset.type === 'like' && item.dataset.chirpId === n.chirp_id) item.remove();
        }
        ui.list.prepend(renderNotification(n));
      }
      updateMessage();
      await readUpTo(page.items[0]);
    } while (adding.again && mine === generation);
  } catch (error) {
    if (error.sessionExpired) onSessionLost(error);
  } finally {
    adding = null;
  }
}

unreadEvents.addEventListener('arrived', (event) => {
  // Filtered, or still loading: the bell counts it, and All (or the load) reads it.
  if (!state.open || state.type !== '' || ui.list.hasAttribute('aria-busy') || !me()) return;
  event.preventDefault();
  addNewest();
});

// Names follow their profiles as they arrive.
profileEvents.addEventListener('profile', (event) => {
  const { id } = event.detail;
  for (const item of ui.list.children) {
    if (item.dataset.actorId !== id) continue;
    fillAuthor(item.querySelector('.author'), id, me());
    item.querySelector('.avatar').textContent = initials(id, me());
  }
});
