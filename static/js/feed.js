// Rendering chirps, in any list: the feed, a thread, search results. Only DOM APIs and text
// nodes: a chirp body (or a display name) is data, and `<script>` or `<img onerror>` in it
// must show up as those characters. Each chirp carries its actions (Reply, Like with its
// count, the reply count linking to its thread), and every copy of a chirp on the page
// follows its counts and one's like (see chirp_events.js).

import { toggleLike } from './chirp_actions.js';
import { chirpEvents } from './chirp_events.js';
import { el } from './dom.js';
import { likedByMe } from './likes.js';
import { displayName, handleText, knownProfile, profileHref } from './profiles.js';
import { toggleReplyBox } from './reply_box.js';
import { threadRoute } from './routes.js';
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

const plural = (count, one, many) => (count === 1 ? one : many);

/**
 * One chirp as a list item. `me` is the logged-in user or null; `onDelete(chirp, button)` is
 * called when the delete button is activated, `onReply(chirp, button, item)` when Reply is
 * (by default, a reply box opens under the chirp). The author is a link to their profile
 * page. A reply says so, linking to its parent's thread: `replyingTo` names the parent's
 * author (`{ userId }`) when the caller knows it, or says the parent was deleted (`'deleted'`).
 * `highlight` marks the chirp a thread is about.
 */
export function renderChirp(chirp, { me, onDelete, onReply = toggleReplyBox, replyingTo, highlight = false, now = new Date() }) {
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

  const dataset = { chirpId: chirp.id, userId: chirp.user_id, createdAt: chirp.created_at };
  if (chirp.reply_to) dataset.replyTo = chirp.reply_to;
  const classes = ['chirp', mine && 'chirp-mine', highlight && 'chirp-highlight'].filter(Boolean).join(' ');
  return el(
    'li',
    { className: classes, dataset, ariaCurrent: highlight ? 'true' : undefined },
    el('span', { className: avatarClass(chirp.user_id), ariaHidden: 'true' }, initials(chirp.user_id, me)),
    el(
      'article',
      { className: 'chirp-main' },
      el('p', { className: 'chirp-meta' }, author, el('span', { className: 'dot', ariaHidden: 'true' }, '·'), time),
      chirp.reply_to ? replyContext(chirp, replyingTo, me) : null,
      el('p', { className: 'chirp-body' }, chirp.body),
      actions(chirp, { me, onReply, highlight, remove }),
    ),
  );
}

/** "Replying to ...": a link to the parent's thread, unless the parent is known to be gone. */
function replyContext(chirp, replyingTo, me) {
  if (replyingTo === 'deleted') return el('p', { className: 'chirp-context' }, 'Replying to a deleted chirp');
  const link = el('a', { className: 'reply-to', href: threadRoute(chirp.reply_to) }, 'Replying to ');
  if (replyingTo?.userId) link.append(el('span', { className: 'reply-to-name' }, authorLabel(replyingTo.userId, me).name));
  else link.append('a chirp');
  return el('p', { className: 'chirp-context' }, link);
}

/**
 * Reply and Like (logged in), the reply count, a link to the chirp's thread (in the thread
 * itself, just the count), and Delete on one's own chirps. Logged out, the like count is
 * shown, not a button: there is nobody to like it as.
 */
function actions(chirp, { me, onReply, highlight, remove }) {
  const likeCount = el('span', { className: 'like-count' }, String(chirp.like_count));
  const likeUnit = el('span', { className: 'visually-hidden like-unit' }, plural(chirp.like_count, ' like', ' likes'));
  let like;
  if (me) {
    like = el(
      'button',
      { type: 'button', className: 'chirp-action like-button', ariaPressed: String(likedByMe(chirp.id)) },
      el('span', { className: 'visually-hidden' }, 'Like, '),
      likeCount,
      likeUnit,
    );
    like.addEventListener('click', async () => {
      const focused = document.activeElement === like;
      await toggleLike(chirp, like);
      // A disabled button may lose focus: give it back.
      if (focused && like.isConnected && document.activeElement === document.body) like.focus();
    });
  } else {
    like = el('span', { className: 'chirp-action like-stat' }, likeCount, likeUnit);
  }

  const replies = el(
    highlight ? 'span' : 'a',
    { className: 'chirp-action reply-count', href: highlight ? undefined : threadRoute(chirp.id) },
    el('span', { className: 'reply-number' }, String(chirp.reply_count)),
    el('span', { className: 'reply-unit' }, plural(chirp.reply_count, ' reply', ' replies')),
  );

  const row = el('div', { className: 'chirp-actions' });
  if (me) {
    const opensBox = onReply === toggleReplyBox;
    const reply = el(
      'button',
      { type: 'button', className: 'chirp-action reply-button', ariaExpanded: opensBox ? 'false' : undefined },
      'Reply',
    );
    reply.addEventListener('click', () => onReply(chirp, reply, reply.closest('li')));
    row.append(reply);
  }
  row.append(like, replies);
  // One's own chirp's Delete, at the far end.
  if (remove) row.append(remove);
  return row;
}

/** Every copy of the chirp with this id on the page (a feed, a thread, search results). */
function copiesOf(id) {
  return [...document.querySelectorAll('li.chirp')].filter((item) => item.dataset.chirpId === id);
}

/** Shows a chirp's counts, as the server has them now, on one of its list items. */
export function paintCounts(item, chirp) {
  const likes = item.querySelector('.like-count');
  if (likes) likes.textContent = String(chirp.like_count);
  const likeUnit = item.querySelector('.like-unit');
  if (likeUnit) likeUnit.textContent = plural(chirp.like_count, ' like', ' likes');
  const replies = item.querySelector('.reply-number');
  if (replies) replies.textContent = String(chirp.reply_count);
  const replyUnit = item.querySelector('.reply-unit');
  if (replyUnit) replyUnit.textContent = plural(chirp.reply_count, ' reply', ' replies');
}

// Every copy of a chirp follows what one does to it, and its counts as they come.
chirpEvents.addEventListener('counts', (event) => {
  for (const item of copiesOf(event.detail.id)) paintCounts(item, event.detail);
});
chirpEvents.addEventListener('liked', (event) => {
  for (const item of copiesOf(event.detail.id)) {
    item.querySelector('.like-button')?.setAttribute('aria-pressed', String(event.detail.liked));
  }
});

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
