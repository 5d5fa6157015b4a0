// What one can do to a chirp from any list that shows it: like it or take the like back,
// delete one's own, and fetch its counts afresh. Each tells the page what changed (see
// chirp_events.js), so every copy of the chirp on the page follows.

import * as api from './api.js';
import { announce } from './chirp_events.js';
import { say } from './dom.js';
import { likedByMe, rememberLike } from './likes.js';

const status = () => document.getElementById('status');

let onSessionLost = () => {};

/** `sessionLost(error)` is called when an action finds the session over. */
export function startChirpActions({ sessionLost }) {
  onSessionLost = sessionLost;
}

function failed(what, error) {
  if (error.sessionExpired) onSessionLost(error);
  else say(status(), `Could not ${what}: ${error.message}`);
}

// Counts asked for now, by chirp id: `again` when another change came while one was on
// its way, whose answer might predate that change.
const asking = new Map();

/** Whether the chirp with this id is on the page, in any list. */
function shown(id) {
  return [...document.querySelectorAll('li.chirp')].some((item) => item.dataset.chirpId === id);
}

/**
 * Fetches the chirp with this id, if it is on the page (with one's access token, so one's own
 * like is in the count at once, whichever instance answers), and announces its counts.
 * Changes that come together share a request, plus one more if a change came while it was
 * on its way.
 */
export async function refreshCounts(id) {
  if (!shown(id)) return undefined;
  const pending = asking.get(id);
  if (pending) {
    pending.again = true;
    return pending.done;
  }
  const entry = { again: false, done: null };
  entry.done = (async () => {
    try {
      do {
        entry.again = false;
        try {
          announce('counts', await api.getChirp(id));
        } catch (error) {
          // Gone since, or not to be had now: the counts shown stay as they were.
          if (error.sessionExpired) onSessionLost(error);
          return;
        }
      } while (entry.again);
    } finally {
      asking.delete(id);
    }
  })();
  asking.set(id, entry);
  return entry.done;
}

/** Likes the chirp, or takes the like back if one likes it (as far as this page knows). */
export async function toggleLike(chirp, button) {
  const liked = likedByMe(chirp.id);
  button.disabled = true;
  try {
    if (liked) await api.unlikeChirp(chirp.id);
    else await api.likeChirp(chirp.id);
    rememberLike(chirp.id, !liked);
    announce('liked', { id: chirp.id, liked: !liked });
  } catch (error) {
    failed(liked ? 'take the like back' : 'like the chirp', error);
    return;
  } finally {
    button.disabled = false;
  }
  await refreshCounts(chirp.id);
}

/** Deletes one of one's own chirps; resolves to whether it is gone. */
export async function deleteChirp(chirp, button) {
  button.disabled = true;
  try {
    await api.deleteChirp(chirp.id);
  } catch (error) {
    button.disabled = false;
    failed('delete the chirp', error);
    return false;
  }
  say(status(), 'Chirp deleted.');
  announce('deleted', chirp);
  // One reply fewer under its parent.
  if (chirp.reply_to) refreshCounts(chirp.reply_to);
  return true;
}
