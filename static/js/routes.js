// The app's addresses, in the URL's fragment (the server serves one page): `#/` (or none)
// is the feed, `#/@handle` a user's profile page by handle, `#/u/<id>` by id (for users
// without a handle), `#/chirp/<id>` a chirp's thread, `#/search?q=...` search results,
// `#/notifications` one's notifications and `#/moderation` the moderators' reports. Other
// fragments (the skip link's `#main`) are not routes.

import { profileHref } from './profiles.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `{ view: 'feed' }`, `{ view: 'profile', user }` (a handle or an id), `{ view: 'thread', id }`,
 * `{ view: 'search', q }`, `{ view: 'notifications' }`, `{ view: 'moderation' }`, or null: not
 * a route.
 */
export function parseRoute(hash) {
  if (hash === '' || hash === '#') return { view: 'feed' };
  if (!hash.startsWith('#/')) return null;
  // The query is read before anything is decoded: `q` may hold `&`, `%` or `#`.
  const search = /^#\/search(?:\?(.*))?$/.exec(hash);
  if (search) return { view: 'search', q: new URLSearchParams(search[1] ?? '').get('q') ?? '' };
  let path;
  try {
    path = decodeURIComponent(hash.slice(1));
  } catch {
    return { view: 'feed' };
  }
  if (path === '/notifications') return { view: 'notifications' };
  if (path === '/moderation') return { view: 'moderation' };
  const handle = /^\/@(.+)$/.exec(path);
  if (handle) return { view: 'profile', user: handle[1] };
  const id = /^\/u\/(.+)$/.exec(path);
  if (id && UUID.test(id[1])) return { view: 'profile', user: id[1].toLowerCase() };
  const chirp = /^\/chirp\/(.+)$/.exec(path);
  if (chirp && UUID.test(chirp[1])) return { view: 'thread', id: chirp[1].toLowerCase() };
  return { view: 'feed' };
}

/** The address of a profile's page. */
export function profileRoute(profile) {
  return profileHref(profile, profile.id);
}

/** The address of a chirp's thread. */
export function threadRoute(id) {
  return `#/chirp/${id}`;
}

/** The address of the results for `q`. */
export function searchRoute(q) {
  return `#/search?${new URLSearchParams({ q })}`;
}
