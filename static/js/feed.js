// Rendering the list of chirps. Only DOM APIs and text nodes: a chirp body is data, and
// `<script>` or `<img onerror>` in it must show up as those characters.

import { el } from './dom.js';
import { friendlyTime, fullTime, shortId } from './text.js';

const AVATAR_COLOURS = 8;

/** A stable colour per author, from the first byte of their id. */
function avatarClass(userId) {
  const byte = parseInt(userId.slice(0, 2), 16);
  return `avatar avatar-${Number.isNaN(byte) ? 0 : byte % AVATAR_COLOURS}`;
}

/** How the feed names an author: "you", or the start of their id. */
export function authorName(userId, me) {
  return me && userId === me.id ? 'you' : shortId(userId);
}

/**
 * One chirp as a list item. `me` is the logged-in user or null; `onAuthor(userId)` and
 * `onDelete(chirp, button)` are called when the author or the delete button is activated.
 */
export function renderChirp(chirp, { me, onAuthor, onDelete, now = new Date() }) {
  const mine = Boolean(me) && chirp.user_id === me.id;
  const name = authorName(chirp.user_id, me);
  const created = new Date(chirp.created_at);

  const author = el(
    'button',
    { type: 'button', className: mine ? 'author author-self' : 'author', title: `Only chirps by ${name}` },
    el('span', { className: 'visually-hidden' }, 'Show only chirps by '),
    name,
  );
  author.addEventListener('click', () => onAuthor(chirp.user_id));

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
    el('span', { className: avatarClass(chirp.user_id), ariaHidden: 'true' }, chirp.user_id.slice(0, 2)),
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
