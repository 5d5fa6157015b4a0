// Rendering the list of chirps. Only DOM APIs and text nodes: a chirp body (or a display
// name) is data, and `<script>` or `<img onerror>` in it must show up as those characters.

import { el } from './dom.js';
import { displayName, handleText, knownProfile, profileHref } from './profiles.js';
import { friendlyTime, fullTime } from './text.js';

const AVATAR_COLOURS = 8;

/** A stable colour per author, from the first byte of their id. */
export function avatarClass(userId) {
  const byte = parseInt(userId.slice(0, 2), 16);
  return `avatar avatar-${Number.isNaN(byte) ? 0 : byte % AVATAR_COLOURS}`;
}

/**
 * How the feed names an author: `{ name, handle, href, named }` (`named`: the name is theirs,
 * not a stand-in). One's own chirps are named from the session (always current, no request),
 * "you" when one has neither name nor handle; others' from their cached profile, by the
 * start of their id until it is known (or when they have neither).
 */
export function authorLabel(userId, me) {
  const mine = Boolean(me) && userId === me.id;
  const profile = mine ? me : knownProfile(userId);
  const named = Boolean(profile?.display_name || profile?.handle);
  const name = mine && !named ? 'you' : displayName(profile, userId);
  // The handle is shown beside the display name; alone, it is the name already.
  const handle = profile?.display_name ? handleText(profile) : '';
  return { name, handle, href: profileHref(profile, userId), named };
}

/** Fills an author link (in a chirp, or anywhere else) with the author's name and handle. */
export function fillAuthor(link, userId, me) {
  const { name, handle, href } = authorLabel(userId, me);
  link.href = href;
  link.title = `Profile of ${handle || name}`;
  link.replaceChildren(el('span', { className: 'author-name' }, name));
  if (handle) link.append(el('span', { className: 'author-handle' }, handle));
}

/** Renames every chirp by `userId` in `list`, once their profile has arrived or changed. */
export function refreshAuthor(list, userId, me) {
  for (const item of list.children) {
    if (item.dataset.userId !== userId) continue;
    const link = item.querySelector('.author');
    if (link) fillAuthor(link, userId, me);
    const avatar = item.querySelector('.avatar');
    if (avatar) avatar.textContent = initials(userId, me);
  }
}

/** The avatar's letters: the initials of the name when there is one, else the id's start. */
export function initials(userId, me) {
  const { name, named } = authorLabel(userId, me);
  const words = name.replace(/^@/, '').split(/[\s_]+/).map((word) => [...word].find((c) => /[\p{L}\p{N}]/u.test(c)));
  const letters = words.filter(Boolean);
  if (!named || letters.length === 0) return userId.slice(0, 2);
  return letters.length > 1 ? letters[0] + letters.at(-1) : letters[0];
}

/**
 * One chirp as a list item. `me` is the logged-in user or null; `onDelete(chirp, button)` is
 * called when the delete button is activated. The author is a link to their profile page.
 */
export function renderChirp(chirp, { me, onDelete, now = new Date() }) {
  const mine = Boolean(me) && chirp.user_id === me.id;
  const created = new Date(chirp.created_at);

  const author = el('a', { className: mine ? 'author author-self' : 'author' });
  fillAuthor(author, chirp.user_id, me);

  const time = el('time', { dateTime: chirp.created_at, title: fullTime(created) }, friendlyTime(created, now));

  let remove = null;
  if (mine) {
    remove = el(
      'button',
      { type: 'button', className: 'button button-danger button-small delete' },
      'Delete',
      el('span', { className: 'visually-hidden' }, ` your chirp from ${fullTime(created)}`),
    );
    remove.addEventListener('click', () => onDelete(chirp, remove));
  }

  return el(
    'li',
    {
      className: mine ? 'chirp chirp-mine' : 'chirp',
      dataset: { chirpId: chirp.id, userId: chirp.user_id, createdAt: chirp.created_at },
    },
    el('span', { className: avatarClass(chirp.user_id), ariaHidden: 'true' }, initials(chirp.user_id, me)),
    el(
      'article',
      { className: 'chirp-main' },
      el('p', { className: 'chirp-meta' }, author, el('span', { className: 'dot', ariaHidden: 'true' }, '·'), time),
      el('p', { className: 'chirp-body' }, chirp.body),
    ),
    remove,
  );
}

/** The list item of the chirp with this id, or null. */
export function findChirp(list, id) {
  return [...list.children].find((item) => item.dataset.chirpId === id) ?? null;
}

/**
 * Where the server would list a chirp: by creation time to the microsecond, ties by id.
 * Timestamps come with 0 to 9 fraction digits, so they are padded before comparing as text.
 */
function orderKey({ createdAt, chirpId }) {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(createdAt);
  const time = match ? `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}` : createdAt;
  return `${time} ${chirpId}`;
}

/** Inserts a rendered chirp where it belongs in a list sorted `asc` or `desc`. */
export function placeChirp(list, item, sort) {
  const key = orderKey(item.dataset);
  const before = [...list.children].find((other) => {
    const otherKey = orderKey(other.dataset);
    return sort === 'desc' ? otherKey < key : otherKey > key;
  });
  list.insertBefore(item, before ?? null);
}
