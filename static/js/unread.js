// How many of one's notifications are unread (those after the read marker), for the bell in
// the header (bell.js) and the notifications page. Asked of GET /api/notifications/unread_count
// when a session starts, whenever Home's stream starts from "now" (it would have missed
// notifications meanwhile), and after each `notification` event that stream brings; the page
// moves the marker (moveMarker) and asks again. Asks that come while one is on its way share
// it, plus one more if they came after it left, so the last answer is never older than the
// last event.

import * as api from './api.js';

/**
 * Fires `count` (detail: the count, or null when there is nobody to count for or it is not
 * known yet) when it changes, and `arrived` (detail: the event's data, `{ id, type, actor_id,
 * chirp_id }`; cancelable) when the home stream brings a notification. A listener that takes
 * care of the count itself (the notifications page, reading it at once) cancels the event.
 */
export const unreadEvents = new EventTarget();

let count = null;
// Whose count it is: answers about an earlier session are dropped.
let generation = 0;
let asking = null;

function set(value) {
  if (value === count) return;
  count = value;
  unreadEvents.dispatchEvent(new CustomEvent('count', { detail: value }));
}

/** The count as last heard, or null. */
export function unreadCount() {
  return count;
}

/** Asks the server for the count; resolves once it has answered (or failed: the count stays). */
export function refreshUnread() {
  if (asking) {
    asking.again = true;
    return asking.done;
  }
  const mine = generation;
  const entry = { again: false, done: null };
  entry.done = (async () => {
    try {
      do {
        entry.again = false;
        try {
          const value = await api.unreadCount();
          if (mine === generation) set(value);
        } catch {
          // No answer now (or the session is over, which the page hears of anyway): the
          // count shown stays until the next event or page load.
          return;
        }
      } while (entry.again && mine === generation);
    } finally {
      if (asking === entry) asking = null;
    }
  })();
  asking = entry;
  return entry.done;
}

/** The home stream brought a notification: the count is asked for again, unless a listener does it. */
export function notificationArrived(data) {
  const event = new CustomEvent('arrived', { detail: data, cancelable: true });
  if (unreadEvents.dispatchEvent(event)) refreshUnread();
}

/** Moves the read marker up to this notification id, then asks for the count again. */
export async function markRead(lastReadId) {
  await api.moveMarker(lastReadId);
  await refreshUnread();
}

/** Someone else (or nobody) is logged in now: the count was the last user's. */
export function forgetUnread() {
  generation += 1;
  asking = null;
  set(null);
}
