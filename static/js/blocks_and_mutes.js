// Whom one blocks and whom one mutes, as far as this page knows: read once per session from
// GET /api/users/me/blocks and /mutes (every page of them), then kept up to date as one
// blocks, unblocks, mutes and unmutes here. (Changes made on another device show after a
// reload.) The server hides each from where the API says; the page uses these lists for the
// profile page's buttons, and to keep whom one blocks out of Everyone and the live feeds,
// whose streams cannot know who reads them, and whom one mutes out of a Home stream opened
// before the mute.

import * as api from './api.js';
import { getSession } from './session.js';

/**
 * Fires `change` (detail: `{ userId, blocked, muted }`) when one blocks, unblocks, mutes or
 * unmutes someone here.
 */
export const shieldEvents = new EventTarget();

/** Whose lists these are; `known`: both have arrived; `loading`: the request for them. */
let lists = fresh(null);

function fresh(userId) {
  return { userId, blocked: new Set(), muted: new Set(), known: false, loading: null };
}

/** The lists of whoever is logged in now (new, empty ones when someone else is). */
function current() {
  const userId = getSession()?.user.id ?? null;
  if (lists.userId !== userId) lists = fresh(userId);
  return lists;
}

/**
 * Loads the lists, once per session: resolves to whether they are known (false logged out, or
 * when they cannot be had now; the next call asks again). Calls made meanwhile share the request.
 */
export function loadShields() {
  const mine = current();
  if (!mine.userId) return Promise.resolve(false);
  if (mine.known) return Promise.resolve(true);
  mine.loading ??= Promise.all([api.listShielded('blocks'), api.listShielded('mutes')]).then(
    ([blocked, muted]) => {
      blocked.forEach((id) => mine.blocked.add(id));
      muted.forEach((id) => mine.muted.add(id));
      mine.known = true;
      return true;
    },
    () => {
      mine.loading = null;
      return false;
    },
  );
  return mine.loading;
}

/** Whether the lists have been read (false: the answers below are guesses). */
export function shieldsKnown() {
  return current().known;
}

/** Whether one blocks the user with this id. */
export function isBlocked(userId) {
  return current().blocked.has(userId);
}

/** Whether one mutes the user with this id. */
export function isMuted(userId) {
  return current().muted.has(userId);
}

function changed(userId) {
  const detail = { userId, blocked: isBlocked(userId), muted: isMuted(userId) };
  shieldEvents.dispatchEvent(new CustomEvent('change', { detail }));
}

/** Blocks (`on`) or unblocks the user; rejects with the ApiError when the server refuses. */
export async function setBlocked(userId, on) {
  const mine = current();
  if (on) await api.block(userId);
  else await api.unblock(userId);
  if (on) mine.blocked.add(userId);
  else mine.blocked.delete(userId);
  changed(userId);
}

/** Mutes (`on`) or unmutes the user; rejects with the ApiError when the server refuses. */
export async function setMuted(userId, on) {
  const mine = current();
  if (on) await api.mute(userId);
  else await api.unmute(userId);
  if (on) mine.muted.add(userId);
  else mine.muted.delete(userId);
  changed(userId);
}
