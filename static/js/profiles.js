// Public profiles, for naming authors: fetched with GET /api/users/{id} once per author and
// kept in memory, so a page of 20 chirps costs at most one request per distinct author.
// Lookups of an author already on the way share its request. A failed lookup (no answer,
// a 5xx) is not kept, so the next page asks again; a user who no longer exists is kept as
// null. Names may go stale while the page is open; a reload, or opening the profile, renews
// them.

import { getProfile } from './api.js';
import { shortId } from './text.js';

const MAX_ENTRIES = 500;

/** user id -> { profile (undefined while asked), promise } */
const entries = new Map();

/** Fires `profile` (detail: the profile) when one arrives or changes. */
export const profileEvents = new EventTarget();

function keep(id, entry) {
  entries.delete(id);
  entries.set(id, entry);
  // The oldest first out (Map keeps insertion order), so the cache stays small.
  while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value);
}

/** The profile of `userId` if it is known now (null: no such user; undefined: not known). */
export function knownProfile(userId) {
  return entries.get(userId)?.profile;
}

/** Resolves to the profile of `userId`, or null if nobody has that id (or it cannot be had now). */
export function lookUp(userId) {
  const entry = entries.get(userId);
  if (entry) return entry.promise;
  const promise = getProfile(userId).then(
    (profile) => {
      remember(profile);
      return profile;
    },
    (error) => {
      if (error.status === 404) keep(userId, { profile: null, promise: Promise.resolve(null) });
      else if (entries.get(userId)?.promise === promise) entries.delete(userId);
      return null;
    },
  );
  keep(userId, { profile: undefined, promise });
  return promise;
}

/** Looks up every author of `chirps` at once; resolves when all have answered. */
export function lookUpAuthors(chirps) {
  return Promise.all([...new Set(chirps.map((chirp) => chirp.user_id))].map(lookUp));
}

/** Keeps a profile fetched elsewhere (a profile page, one's own after an edit). */
export function remember(profile) {
  keep(profile.id, { profile, promise: Promise.resolve(profile) });
  profileEvents.dispatchEvent(new CustomEvent('profile', { detail: profile }));
}

/** Forgets everything: whoever is logged in now may see it differently (`followed_by_me`). */
export function forgetProfiles() {
  entries.clear();
}

/** The name to show for a user: the display name, else @handle, else the start of the id. */
export function displayName(profile, userId) {
  if (profile?.display_name) return profile.display_name;
  if (profile?.handle) return `@${profile.handle}`;
  return shortId(userId);
}

/** `@handle`, or '' when the user has none. */
export function handleText(profile) {
  return profile?.handle ? `@${profile.handle}` : '';
}

/** The app's address of a profile page: `#/@handle`, or `#/u/<id>` without a handle. */
export function profileHref(profile, userId) {
  return profile?.handle ? `#/@${profile.handle}` : `#/u/${userId}`;
}
