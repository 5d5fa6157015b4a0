// The Chirpy API, as the web app uses it. Every call goes through `send`; calls that need
// the access token go through `authed`, which on a 401 gets a new access token with the
// refresh token and retries once. When the refresh token is refused too, the session is
// over: it is dropped locally and the caller gets an ApiError with `sessionExpired` set.

import { retryOnce } from './idempotency.js';
import { endSession, getSession, replaceAccessToken, startSession, updateUser } from './session.js';

export class ApiError extends Error {
  /** `status` 0 means no answer at all; `retryAfter` is the server's Retry-After, in seconds. */
  constructor(status, message, { sessionExpired = false, retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.sessionExpired = sessionExpired;
    this.retryAfter = retryAfter;
  }
}

const SESSION_EXPIRED = 'Your session has expired. Please log in again.';

/**
 * One request. Resolves to the parsed body, or with `page` set to `{ items, next }`: the
 * body and the URL of the next page from the `Link` header (null on the last page).
 */
async function send(method, path, { body, bearer, extraHeaders = {}, page = false } = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'Could not reach the Chirpy server. Check your connection and try again.');
  }
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    throw new ApiError(response.status, await errorMessage(response), {
      retryAfter: Number.isNaN(retryAfter) ? null : retryAfter,
    });
  }
  if (response.status === 204) return null;
  const parsed = await response.json();
  return page ? { items: parsed, next: nextLink(response.headers.get('Link')) } : parsed;
}

/**
 * The `rel="next"` URL of a `Link` header. Only a path on this server's API is followed:
 * the request for the next page may carry the access token.
 */
function nextLink(header) {
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(header ?? '');
  if (!match) return null;
  const url = match[1];
  return url.startsWith('/api/') ? url : null;
}

/** The server's own words: every error body is `{"error": "..."}`. */
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string' && body.error) return body.error;
  } catch {
    // Not JSON (a proxy's error page, say): fall through to a generic message.
  }
  return `The server answered ${response.status} ${response.statusText}`.trim();
}

// One refresh at a time: calls that fail together wait for the same new token.
let refreshing = null;

function refreshAccessToken(session) {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const { token } = await send('POST', '/api/refresh', { bearer: session.refreshToken });
        replaceAccessToken(session.refreshToken, token);
        return token;
      } catch (error) {
        if (error.status === 401) {
          endSession();
          throw new ApiError(401, SESSION_EXPIRED, { sessionExpired: true });
        }
        throw error;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

/** `send` with the access token; `options` as for `send`, less `bearer`. */
async function authed(method, path, options = {}) {
  const session = getSession();
  if (!session) throw new ApiError(401, 'Please log in first.', { sessionExpired: true });
  try {
    return await send(method, path, { ...options, bearer: session.token });
  } catch (error) {
    if (error.status !== 401) throw error;
  }
  const token = await refreshAccessToken(session);
  try {
    return await send(method, path, { ...options, bearer: token });
  } catch (error) {
    // A brand-new token refused: the account is gone. Retry only once, then give up.
    if (error.status === 401) {
      endSession();
      error.sessionExpired = true;
    }
    throw error;
  }
}

/**
 * Reads that say more with the access token send it when logged in: a profile's
 * `followed_by_me`, and chirps whose counts include one's own like at once, on any instance.
 */
function asViewer(method, path, options = {}) {
  return getSession() ? authed(method, path, options) : send(method, path, options);
}

/** `handle` is optional: an empty one is left out. */
export async function signUp(email, password, handle = '') {
  const body = { email, password };
  if (handle) body.handle = handle;
  return send('POST', '/api/users', { body });
}

export async function logIn(email, password) {
  const loggedIn = await send('POST', '/api/login', { body: { email, password } });
  startSession(loggedIn);
  return loggedIn;
}

/** Revokes the refresh token on the server, and forgets the session here whatever happens. */
export async function logOut() {
  const session = getSession();
  if (!session) return;
  try {
    await send('POST', '/api/revoke', { bearer: session.refreshToken });
  } catch {
    // Already revoked or expired, or the server is unreachable: logging out locally is
    // what the user asked for either way.
  } finally {
    endSession();
  }
}

/** Chirps come a page at a time, and each page says where the next one is. */
export const PAGE_SIZE = 20;

/**
 * The first page of chirps, `{ items, next }`: `sort` is `desc` (newest first) or `asc`;
 * `authorId` filters to one author. With the access token when logged in, so that a like
 * one has just given or taken back is in the counts.
 */
export async function listChirps({ sort = 'desc', authorId = null } = {}) {
  const query = new URLSearchParams({ sort });
  if (authorId) query.set('author_id', authorId);
  query.set('limit', String(PAGE_SIZE));
  return asViewer('GET', `/api/chirps?${query}`, { page: true });
}

/** The first page of the home timeline (one's own chirps and those of whom one follows). */
export async function homeTimeline() {
  return authed('GET', `/api/timelines/home?limit=${PAGE_SIZE}`, { page: true });
}

/** Paths only a logged-in user may read: their next pages need the access token too. */
const OWN_PATHS = ['/api/timelines/', '/api/notifications', '/api/users/me/', '/api/admin/'];

/**
 * The page a `next` names (from listChirps, homeTimeline, searchChirps, getThread or
 * listNotifications), asked for as its first page was: with the access token when logged in,
 * since the server then leaves out whom one blocks or is blocked by.
 */
export async function nextPage(url) {
  if (OWN_PATHS.some((path) => url.startsWith(path))) return authed('GET', url, { page: true });
  return asViewer('GET', url, { page: true });
}

/** One chirp, with its counts as they are now (one's own like included). */
export async function getChirp(id) {
  return asViewer('GET', `/api/chirps/${encodeURIComponent(id)}`);
}

/**
 * A chirp in its conversation: `{ items: { ancestors, more_ancestors, chirp, replies }, next }`,
 * `next` naming the next page of replies (open it with nextPage: its `replies` continue).
 */
export async function getThread(id) {
  // With the token, a thread leaves out whom one blocks or is blocked by.
  return asViewer('GET', `/api/chirps/${encodeURIComponent(id)}/thread?limit=${PAGE_SIZE}`, { page: true });
}

export async function likeChirp(id) {
  return authed('PUT', `/api/chirps/${encodeURIComponent(id)}/like`);
}

export async function unlikeChirp(id) {
  return authed('DELETE', `/api/chirps/${encodeURIComponent(id)}/like`);
}

/**
 * Chirps with every word of `q`, newest first: the first page, `{ items, next }` (with the
 * token, none by whom one blocks or is blocked by).
 */
export async function searchChirps(q) {
  return asViewer('GET', `/api/search/chirps?${new URLSearchParams({ q, limit: String(PAGE_SIZE) })}`, { page: true });
}

/** People whose handle or display name starts with `q`, in any letter case. */
export async function searchUsers(q) {
  return asViewer('GET', `/api/search/users?${new URLSearchParams({ q, limit: String(PAGE_SIZE) })}`);
}

/** A user's public profile, by id or handle; with `followed_by_me` when logged in. */
export async function getProfile(user) {
  return asViewer('GET', `/api/users/${encodeURIComponent(user)}`);
}

export async function follow(userId) {
  return authed('PUT', `/api/users/${encodeURIComponent(userId)}/follow`);
}

export async function unfollow(userId) {
  return authed('DELETE', `/api/users/${encodeURIComponent(userId)}/follow`);
}

// ---- Blocks, mutes and reports ---------------------------------------------------------

const userPath = (userId, what) => `/api/users/${encodeURIComponent(userId)}/${what}`;

export async function block(userId) {
  return authed('PUT', userPath(userId, 'block'));
}

export async function unblock(userId) {
  return authed('DELETE', userPath(userId, 'block'));
}

export async function mute(userId) {
  return authed('PUT', userPath(userId, 'mute'));
}

export async function unmute(userId) {
  return authed('DELETE', userPath(userId, 'mute'));
}

/**
 * The ids of everyone one blocks (`kind` 'blocks') or mutes ('mutes'), newest first: every
 * page of GET /api/users/me/blocks or /mutes, 100 at a time.
 */
export async function listShielded(kind) {
  let page = await authed('GET', `/api/users/me/${kind}?limit=100`, { page: true });
  const ids = page.items.map((shielded) => shielded.user_id);
  while (page.next) {
    page = await authed('GET', page.next, { page: true });
    ids.push(...page.items.map((shielded) => shielded.user_id));
  }
  return ids;
}

/** Reports a user to the moderators, with a reason and, if any, some of their chirps' ids. */
export async function report(userId, reason, chirpIds = []) {
  const body = { user_id: userId, reason };
  if (chirpIds.length) body.chirp_ids = chirpIds;
  return authed('POST', '/api/reports', { body });
}

// ---- Notifications ------------------------------------------------------------------------

/**
 * The first page of one's notifications, newest first, `{ items, next }`: of the `types`
 * given (`follow`, `reply`, `mention`, `like`), or of every type without.
 */
export async function listNotifications(types = []) {
  const query = new URLSearchParams();
  for (const type of types) query.append('types[]', type);
  query.set('limit', String(PAGE_SIZE));
  return authed('GET', `/api/notifications?${query}`, { page: true });
}

/** How many notifications came after the read marker. */
export async function unreadCount() {
  return (await authed('GET', '/api/notifications/unread_count')).count;
}

/** The read marker, `{ last_read_id, updated_at }` (`"0"`: nothing read yet). */
export async function getMarker() {
  return authed('GET', '/api/markers/notifications');
}

/** Moves the read marker up to the notification with this id (never back: the server sees to it). */
export async function moveMarker(lastReadId) {
  return authed('PUT', '/api/markers/notifications', { body: { last_read_id: lastReadId } });
}

// ---- Moderation (moderators only: anyone else gets a 403) ----------------------------------

/** Whether the server takes one for a moderator: GET /api/admin/reports answers 200, not 403. */
export async function isModerator() {
  try {
    await authed('GET', '/api/admin/reports?limit=1');
    return true;
  } catch (error) {
    if (error.status === 403) return false;
    throw error;
  }
}

/** Reports, open ones first (oldest first), then resolved ones (newest first). */
export async function listReports() {
  return authed('GET', '/api/admin/reports');
}

/** `note` is optional: an empty one is left out. */
const noteBody = (note) => (note ? { note } : {});

/** Resolves a report; resolves to the report as the server has it now. */
export async function resolveReport(reportId, note = '') {
  return authed('POST', `/api/admin/reports/${encodeURIComponent(reportId)}/resolve`, { body: noteBody(note) });
}

export async function suspendUser(userId, note = '') {
  return authed('POST', `/api/admin/users/${encodeURIComponent(userId)}/suspend`, { body: noteBody(note) });
}

/** Deletes anyone's chirp. */
export async function deleteAnyChirp(chirpId) {
  return authed('DELETE', `/api/admin/chirps/${encodeURIComponent(chirpId)}`);
}

// ---- One's own account -------------------------------------------------------------------

/** Sets any of `handle` (null removes it), `display_name` and `bio`; resolves to the user. */
export async function updateProfile(fields) {
  const user = await authed('PATCH', '/api/users/me', { body: fields });
  updateUser(user);
  return user;
}

/**
 * Opens a stream that needs the access token (the home timeline's), refreshing the token
 * once on a 401 as every other call does. Resolves to the open Response; rejects with an
 * ApiError (status 0: no answer; `sessionExpired` when the session is over), or with the
 * AbortError when `signal` aborts it.
 */
export async function openAuthedStream(path, { headers = {}, signal } = {}) {
  const session = getSession();
  if (!session) throw new ApiError(401, 'Please log in first.', { sessionExpired: true });
  const open = async (token) => {
    try {
      return await fetch(path, {
        headers: { Accept: 'text/event-stream', ...headers, Authorization: `Bearer ${token}` },
        cache: 'no-store',
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, 'Could not reach the Chirpy server.');
    }
  };
  let response = await open(session.token);
  if (response.status === 401) {
    const token = await refreshAccessToken(session);
    response = await open(token);
    if (response.status === 401) {
      endSession();
      throw new ApiError(401, SESSION_EXPIRED, { sessionExpired: true });
    }
  }
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    throw new ApiError(response.status, await errorMessage(response), {
      retryAfter: Number.isNaN(retryAfter) ? null : retryAfter,
    });
  }
  return response;
}

/**
 * Posts under `idempotencyKey` (see idempotency.js), retrying once with that same key when
 * the outcome is unknown, so a lost answer never becomes two chirps. `replyTo`: the id of
 * the chirp this answers (a 404 when it is gone).
 */
export async function postChirp(body, idempotencyKey, replyTo = null) {
  const chirp = replyTo ? { body, reply_to: replyTo } : { body };
  return retryOnce(() => authed('POST', '/api/chirps', { body: chirp, extraHeaders: { 'Idempotency-Key': idempotencyKey } }));
}

export async function deleteChirp(id) {
  return authed('DELETE', `/api/chirps/${encodeURIComponent(id)}`);
}

/** Who the server says we are now: Chirpy Red may have changed since we logged in. */
export async function refreshUser() {
  const user = await authed('GET', '/api/users/me');
  updateUser(user);
  return user;
}

/**
 * Changes the email and password. The server then revokes every refresh token of the
 * user, this session's included, so we log in again with the new credentials to keep
 * the session going.
 */
export async function updateAccount(email, password) {
  const user = await authed('PUT', '/api/users', { body: { email, password } });
  updateUser(user);
  try {
    await logIn(email, password);
  } catch {
    endSession();
    throw new ApiError(401, 'Your account was updated, but logging in again failed. Please log in with your new email and password.', { sessionExpired: true });
  }
  return user;
}
