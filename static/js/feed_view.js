// The chirps on the page: Home (logged in; one's own chirps and those of whom one follows),
// Everyone's, or one author's (under their profile page). Each comes a page at a time (the
// server's `Link` header says where the next is; **More chirps** fetches it) and stays live:
// Home through home_live.js, the others through live.js. Authors are named from their
// profiles (profiles.js), looked up once per author before a page is drawn. Whom one blocks
// is left out of Everyone and the live feeds, whom one mutes out of Home's stream (the server
// leaves them out of the rest; see blocks_and_mutes.js). Home's stream also brings one's
// notifications, for the bell (unread.js).

import * as api from './api.js';
import { isBlocked, isMuted, loadShields, shieldEvents } from './blocks_and_mutes.js';
import { deleteChirp, refreshCounts } from './chirp_actions.js';
import { chirpEvents } from './chirp_events.js';
import { say, show } from './dom.js';
import { findChirp, placeChirp, refreshAuthor, renderChirp } from './feed.js';
import { followHome } from './home_live.js';
import { followChirps } from './live.js';
import { knownProfile, lookUp, lookUpAuthors, profileEvents } from './profiles.js';
import { getSession } from './session.js';
import { notificationArrived, refreshUnread } from './unread.js';

const $ = (id) => document.getElementById(id);

const ui = {
  view: $('feed-view'),
  tabs: $('feed-tabs'),
  tabHome: $('tab-home'),
  tabEveryone: $('tab-everyone'),
  heading: $('feed-heading'),
  liveIndicator: $('live-indicator'),
  sortToggle: $('sort-toggle'),
  panel: $('feed-panel'),
  message: $('feed-message'),
  list: $('feed'),
  more: $('feed-more'),
  status: $('status'),
};

/**
 * What is shown: `mode` 'feed' (the `tab`, Home or Everyone; Everyone alone when logged
 * out), 'author' (`authorId`'s chirps, newest first) or null (nothing yet); `sort` is Everyone's order; `next`
 * the URL of the page after those shown, or null.
 */
const state = { mode: null, tab: 'everyone', sort: 'desc', authorId: null, next: null };
let onSessionLost = () => {};

const me = () => getSession()?.user ?? null;

/** 'home', 'everyone' or 'author': where the chirps come from. */
function source() {
  if (state.mode === 'author') return 'author';
  return state.tab === 'home' && getSession() ? 'home' : 'everyone';
}

function firstPage() {
  switch (source()) {
    case 'home':
      return api.homeTimeline();
    case 'author':
      return api.listChirps({ sort: 'desc', authorId: state.authorId });
    default:
      return api.listChirps({ sort: state.sort });
  }
}

function order() {
  return source() === 'everyone' ? state.sort : 'desc';
}

/**
 * Whether chirps by this user stay off the list: whom one blocks, off Everyone (the server
 * keeps them off Home) and any live feed; whom one mutes, off Home, whose stream may predate
 * the mute. A profile page shows its author's chirps regardless: one went there to see them.
 */
function leftOut(userId) {
  switch (source()) {
    case 'home':
      return isBlocked(userId) || isMuted(userId);
    case 'author':
      return false;
    default:
      return isBlocked(userId);
  }
}

// ---- Loading -------------------------------------------------------------------------

// Only the answer to the latest request is shown, however the responses arrive.
let generation = 0;
// The source of the chirps on the page now, to tell a reload from a switch.
let shownSource = null;

// Changes that come while a page is loading (stream events, one's own post) wait for it and
// are then applied on top: the page may predate them. Applying one twice changes nothing.
let heldChanges = null;

function afterLoad(change) {
  if (heldChanges) heldChanges.push(change);
  else change();
}

function applyHeldChanges() {
  const changes = heldChanges ?? [];
  heldChanges = null;
  changes.forEach((change) => change());
}

function failed(error) {
  if (error.sessionExpired) onSessionLost(error);
  return `Could not load chirps: ${error.message}`;
}

async function loadFeed() {
  const mine = ++generation;
  const from = `${source()} ${state.authorId ?? ''} ${order()}`;
  heldChanges ??= [];
  ui.list.setAttribute('aria-busy', 'true');
  renderControls();
  let page = null;
  let failure = null;
  try {
    page = await firstPage();
    // Names before the page is drawn: one request per author not known yet; and, once a
    // session, whom one blocks and mutes.
    await Promise.all([lookUpAuthors(page.items), loadShields()]);
  } catch (error) {
    failure = error;
  }
  if (mine !== generation) return;
  if (failure) {
    // Another source's chirps would pass for these: better none.
    if (shownSource !== from) ui.list.replaceChildren();
    state.next = null;
    say(ui.message, failed(failure));
  } else {
    ui.list.replaceChildren(...page.items.filter((chirp) => !leftOut(chirp.user_id)).map(renderItem));
    state.next = page.next;
    shownSource = from;
    updateMessage();
  }
  ui.list.removeAttribute('aria-busy');
  show(ui.more, Boolean(state.next));
  applyHeldChanges();
  // Tells the browser tests that the first feed has been drawn (or failed to load).
  document.documentElement.dataset.ready = 'true';
}

async function loadMore() {
  if (!state.next || ui.more.disabled) return;
  const mine = generation;
  heldChanges ??= [];
  ui.more.disabled = true;
  ui.list.setAttribute('aria-busy', 'true');
  let page = null;
  let failure = null;
  try {
    page = await api.nextPage(state.next);
    await lookUpAuthors(page.items);
  } catch (error) {
    failure = error;
  }
  ui.more.disabled = false;
  if (mine !== generation) return;
  let first = null;
  if (failure) {
    say(ui.status, failed(failure));
  } else {
    // A chirp that moved up a page (others were deleted since) is there already.
    for (const chirp of page.items) {
      if (findChirp(ui.list, chirp.id) || leftOut(chirp.user_id)) continue;
      const item = renderItem(chirp);
      ui.list.append(item);
      first ??= item;
    }
    state.next = page.next;
  }
  ui.list.removeAttribute('aria-busy');
  show(ui.more, Boolean(state.next));
  applyHeldChanges();
  // Reading goes on from the first new chirp (the button may be gone).
  if (first) first.querySelector('.author').focus();
  else if (!state.next) focusFeed();
}

function renderItem(chirp) {
  return renderChirp(chirp, { me: me(), onDelete: removeChirp });
}

function updateMessage() {
  if (ui.list.children.length) say(ui.message, '');
  else if (source() === 'author') say(ui.message, 'No chirps by this author yet.');
  else if (source() === 'home') say(ui.message, 'Nothing here yet. Your chirps and those of the people you follow show here: find people under Everyone.');
  else say(ui.message, 'No chirps yet. Be the first!');
}

// ---- Changes ---------------------------------------------------------------------------

/** Adds a chirp the list should show, unless it is there already or belongs on a later page. */
function showChirp(chirp) {
  if (source() === 'author' && chirp.user_id !== state.authorId) return;
  if (findChirp(ui.list, chirp.id) || leftOut(chirp.user_id)) return;
  const item = renderItem(chirp);
  placeChirp(ui.list, item, order());
  // Past the last chirp shown while more pages follow: it comes with them, in its place.
  if (!item.nextElementSibling && state.next && item.previousElementSibling) {
    item.remove();
    return;
  }
  updateMessage();
  if (knownProfile(chirp.user_id) === undefined) lookUp(chirp.user_id);
}

/** Takes a chirp off the list, if it is there. */
function dropChirp(id) {
  const item = findChirp(ui.list, id);
  if (!item) return;
  // Focus inside the item (its delete button) would fall to <body>: keep it in the feed.
  if (item.contains(document.activeElement)) focusFeed();
  item.remove();
  updateMessage();
}

/** Takes every chirp by `userId` off the list: Home, after unfollowing them. */
function dropAuthor(userId) {
  const items = [...ui.list.children].filter((item) => item.dataset.userId === userId);
  if (items.some((item) => item.contains(document.activeElement))) focusFeed();
  items.forEach((item) => item.remove());
  updateMessage();
}

/** One's own new chirp, shown now rather than when the stream brings it (its copy is then ignored). */
function showOwnChirp(chirp) {
  const where = source();
  if (where === 'author' && state.authorId !== chirp.user_id) return;
  afterLoad(() => showChirp(chirp));
}

async function removeChirp(chirp, button) {
  // The list follows the `deleted` event (below), as every list does.
  if (await deleteChirp(chirp, button)) focusFeed();
}

// What one does here, in any view: one's new chirps join the list, deleted ones leave it.
chirpEvents.addEventListener('posted', (event) => showOwnChirp(event.detail));
chirpEvents.addEventListener('deleted', (event) => afterLoad(() => dropChirp(event.detail.id)));

/** A reply came or went (by anyone): its parent's reply count, if the parent is on the page. */
function replyCountChanged(parentId) {
  if (parentId) refreshCounts(parentId);
}

// Blocking or muting someone here takes their chirps off the lists they are now left out of
// (Home's are gone on the server already; its stream ends the follows a block ends).
shieldEvents.addEventListener('change', (event) => {
  const { userId } = event.detail;
  if (leftOut(userId)) afterLoad(() => dropAuthor(userId));
});

// A moderator suspended someone (here): their chirps are hidden from every read now.
chirpEvents.addEventListener('hidden', (event) => afterLoad(() => dropAuthor(event.detail.userId)));

// A profile arrived or changed: the names on its author's chirps follow.
profileEvents.addEventListener('profile', (event) => refreshAuthor(ui.list, event.detail.id, me()));

// ---- Live ------------------------------------------------------------------------------

// The stream of the source shown; a new one (and a new list) when the source changes.
let stream = null;

function follow() {
  stream?.close();
  // The old stream's held changes were for the old list.
  heldChanges = null;
  generation += 1;
  ui.list.setAttribute('aria-busy', 'true');
  renderControls();
  const live = {
    onCreated: (chirp) => {
      replyCountChanged(chirp.reply_to);
      afterLoad(() => showChirp(chirp));
    },
    onDeleted: (id) => {
      replyCountChanged(findChirp(ui.list, id)?.dataset.replyTo);
      afterLoad(() => dropChirp(id));
    },
    onState: (open) => show(ui.liveIndicator, open),
    onSubscribed: loadFeed,
  };
  if (source() === 'home') {
    stream = followHome({
      ...live,
      // A follow (here, or on another device) brings that author's past chirps: read again.
      onFollowed: () => loadFeed(),
      onUnfollowed: ({ followee_id: followee }) => afterLoad(() => dropAuthor(followee)),
      onNotification: notificationArrived,
      // A stream from "now" may have missed notifications, as it would chirps.
      onSubscribed: () => {
        loadFeed();
        refreshUnread();
      },
      onSessionLost: (error) => onSessionLost(error),
    });
  } else {
    stream = followChirps(source() === 'author' ? state.authorId : null, live);
  }
}

// ---- Controls ----------------------------------------------------------------------------

const TABS = { home: 'tabHome', everyone: 'tabEveryone' };

function renderControls() {
  const where = source();
  const tabbed = state.mode === 'feed' && Boolean(getSession());
  show(ui.tabs, tabbed);
  for (const [tab, key] of Object.entries(TABS)) {
    const selected = tab === where;
    ui[key].setAttribute('aria-selected', String(selected));
    ui[key].tabIndex = selected ? 0 : -1;
  }
  // With tabs, the selected tab names the list; the heading stays for screen readers.
  if (tabbed) {
    ui.panel.setAttribute('role', 'tabpanel');
    ui.panel.setAttribute('aria-labelledby', ui[TABS[where]].id);
  } else {
    ui.panel.removeAttribute('role');
    ui.panel.removeAttribute('aria-labelledby');
  }
  ui.heading.classList.toggle('visually-hidden', tabbed);
  ui.heading.textContent = { home: 'Home', everyone: tabbed ? 'Everyone' : 'Latest chirps', author: 'Chirps' }[where];

  show(ui.sortToggle, where === 'everyone');
  ui.sortToggle.textContent = state.sort === 'desc' ? 'Newest first' : 'Oldest first';
  ui.sortToggle.dataset.sort = state.sort;
}

function selectTab(tab) {
  if (state.tab === tab && state.mode === 'feed') return;
  state.tab = tab;
  follow();
}

for (const [tab, key] of Object.entries(TABS)) {
  ui[key].addEventListener('click', () => selectTab(tab));
}

// Arrow keys move between the tabs (and select them), as in every tab list.
ui.tabs.addEventListener('keydown', (event) => {
  const tabs = Object.keys(TABS);
  const at = tabs.indexOf(state.tab);
  const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  const tab = tabs[(to + tabs.length) % tabs.length];
  selectTab(tab);
  ui[TABS[tab]].focus();
});

ui.sortToggle.addEventListener('click', () => {
  state.sort = state.sort === 'desc' ? 'asc' : 'desc';
  loadFeed();
});

ui.more.addEventListener('click', loadMore);

/** Focus to the top of the list: the selected tab, or the heading. */
export function focusFeed() {
  if (!ui.tabs.hidden) ui[TABS[source()]].focus();
  else ui.heading.focus();
}

// ---- What the page asks for --------------------------------------------------------------

/**
 * Sets the feed up; `sessionLost(error)` is called when a request finds the session over.
 * Nothing loads until the page says what to show (showFeed or showAuthor).
 */
export function startFeed({ sessionLost }) {
  onSessionLost = sessionLost;
  state.tab = getSession() ? 'home' : 'everyone';
}

/** The feed: Home or Everyone, whichever was shown last. */
export function showFeed() {
  if (state.mode === 'feed') return;
  state.mode = 'feed';
  state.authorId = null;
  follow();
}

/** One author's chirps, under their profile. */
export function showAuthor(userId) {
  if (state.mode === 'author' && state.authorId === userId) return;
  state.mode = 'author';
  state.authorId = userId;
  follow();
}

/**
 * Someone else (or nobody) is logged in now: names, delete buttons and Home change hands.
 * Home is where a session starts; Everyone is all there is without one.
 */
export function sessionChanged() {
  state.tab = getSession() ? 'home' : 'everyone';
  if (state.mode) follow();
}

/** The chirps on the list now, as `{ id, userId, body, createdAt }`, in order (a report names some). */
export function chirpsShown() {
  return [...ui.list.children].map((item) => ({
    id: item.dataset.chirpId,
    userId: item.dataset.userId,
    body: item.querySelector('.chirp-body')?.textContent ?? '',
    createdAt: item.dataset.createdAt,
  }));
}

/** One's own profile changed: the names on one's chirps follow. */
export function renameMe() {
  const user = me();
  if (user) refreshAuthor(ui.list, user.id, user);
}
