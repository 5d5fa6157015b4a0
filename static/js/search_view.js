// Search results, `#/search?q=...`: people whose handle or display name starts with `q`
// (GET /api/search/users; each links to their profile) and chirps that contain every word of
// it, newest first (GET /api/search/chirps, a page at a time: **More chirps** follows the
// `Link` header). Both are asked for at once. What the server refuses (an empty query, one
// too long) shows in its own words, once.

import * as api from './api.js';
import { deleteChirp } from './chirp_actions.js';
import { chirpEvents } from './chirp_events.js';
import { el, say, show } from './dom.js';
import { avatarClass, findChirp, initials, renderChirp } from './feed.js';
import { displayName, handleText, lookUpAuthors, profileHref, remember } from './profiles.js';
import { getSession } from './session.js';

const $ = (id) => document.getElementById(id);

const ui = {
  heading: $('search-heading'),
  message: $('search-message'),
  peopleSection: $('search-people-section'),
  peopleMessage: $('search-people-message'),
  people: $('search-people'),
  chirpsSection: $('search-chirps-section'),
  chirpsMessage: $('search-chirps-message'),
  chirps: $('search-chirps'),
  more: $('search-more'),
  status: $('status'),
};

/** The query shown, and the URL of the next page of its chirps (or null). */
const state = { q: null, next: null };
let generation = 0;
let onSessionLost = () => {};

const me = () => getSession()?.user ?? null;

/** Starts the view: `sessionLost(error)` is called when a request finds the session over. */
export function startSearch({ sessionLost }) {
  onSessionLost = sessionLost;
}

/** Shows the results for `q`; resolves once they are drawn (undefined if another search came meanwhile). */
export async function openSearch(q) {
  const mine = ++generation;
  state.q = q;
  state.next = null;
  ui.heading.textContent = q.trim() ? `Results for “${q.trim()}”` : 'Search';
  say(ui.message, '');
  ui.people.replaceChildren();
  ui.chirps.replaceChildren();
  say(ui.peopleMessage, '');
  say(ui.chirpsMessage, '');
  show(ui.more, false);
  ui.people.setAttribute('aria-busy', 'true');
  ui.chirps.setAttribute('aria-busy', 'true');

  const [people, chirps] = await Promise.allSettled([
    api.searchUsers(q),
    api.searchChirps(q).then(async (page) => {
      await lookUpAuthors(page.items);
      return page;
    }),
  ]);
  if (mine !== generation) return undefined;
  ui.people.removeAttribute('aria-busy');
  ui.chirps.removeAttribute('aria-busy');
  const failures = [people, chirps].filter((result) => result.status === 'rejected').map((result) => result.reason);
  const expired = failures.find((error) => error.sessionExpired);
  if (expired) onSessionLost(expired);

  // A query the server refuses (400) is refused by both searches: its word, once.
  const refusal = failures.find((error) => error.status === 400);
  if (refusal) {
    ui.heading.textContent = 'Search';
    say(ui.message, refusal.message);
    show(ui.peopleSection, false);
    show(ui.chirpsSection, false);
    return false;
  }
  show(ui.peopleSection, true);
  show(ui.chirpsSection, true);
  const words = `“${q.trim()}”`;

  if (people.status === 'fulfilled') {
    for (const profile of people.value) remember(profile);
    ui.people.replaceChildren(...people.value.map(renderPerson));
    say(ui.peopleMessage, people.value.length ? '' : `Nobody's handle or name starts with ${words}.`);
  } else {
    say(ui.peopleMessage, `Could not search people: ${people.reason.message}`);
  }

  if (chirps.status === 'fulfilled') {
    ui.chirps.replaceChildren(...chirps.value.items.map(renderItem));
    state.next = chirps.value.next;
    show(ui.more, Boolean(state.next));
    updateChirpsMessage();
  } else {
    say(ui.chirpsMessage, `Could not search chirps: ${chirps.reason.message}`);
  }
  return true;
}

/** Forgets the results (the page shows something else now). */
export function closeSearch() {
  generation += 1;
  state.q = null;
  state.next = null;
  ui.people.replaceChildren();
  ui.chirps.replaceChildren();
}

/** One person: avatar, name and handle, linking to their profile; the bio's start beneath. */
function renderPerson(profile) {
  const name = displayName(profile, profile.id);
  const handle = profile.display_name ? handleText(profile) : '';
  const link = el(
    'a',
    { className: 'author person-link', href: profileHref(profile, profile.id) },
    el('span', { className: 'author-name' }, name),
    handle ? el('span', { className: 'author-handle' }, handle) : null,
  );
  return el(
    'li',
    { className: 'person', dataset: { userId: profile.id } },
    el('span', { className: avatarClass(profile.id), ariaHidden: 'true' }, initials(profile.id, null)),
    el('div', { className: 'person-main' }, link, profile.bio ? el('p', { className: 'person-bio' }, profile.bio) : null),
  );
}

function renderItem(chirp) {
  return renderChirp(chirp, { me: me(), onDelete });
}

function updateChirpsMessage() {
  const words = `“${(state.q ?? '').trim()}”`;
  say(ui.chirpsMessage, ui.chirps.children.length ? '' : `No chirps contain every word of ${words}.`);
}

async function onDelete(chirp, button) {
  if (await deleteChirp(chirp, button)) ui.heading.focus();
}

async function loadMore() {
  if (!state.next || ui.more.disabled) return;
  const mine = generation;
  ui.more.disabled = true;
  ui.chirps.setAttribute('aria-busy', 'true');
  let page = null;
  let failure = null;
  try {
    page = await api.nextPage(state.next);
    await lookUpAuthors(page.items);
  } catch (error) {
    failure = error;
  }
  ui.more.disabled = false;
  ui.chirps.removeAttribute('aria-busy');
  if (mine !== generation) return;
  if (failure) {
    if (failure.sessionExpired) onSessionLost(failure);
    else say(ui.status, `Could not load more chirps: ${failure.message}`);
    return;
  }
  let first = null;
  for (const chirp of page.items) {
    if (findChirp(ui.chirps, chirp.id)) continue;
    const item = renderItem(chirp);
    ui.chirps.append(item);
    first ??= item;
  }
  state.next = page.next;
  show(ui.more, Boolean(state.next));
  if (first) first.querySelector('.author').focus();
  else if (!state.next) ui.heading.focus();
}

ui.more.addEventListener('click', loadMore);

// A chirp one deleted (here or in another view) leaves the results.
chirpEvents.addEventListener('deleted', (event) => {
  const item = findChirp(ui.chirps, event.detail.id);
  if (!item) return;
  item.remove();
  updateChirpsMessage();
});
