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

async function send(method, path, { body, bearer, extraHeaders = {} } = {}) {
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
  return response.json();
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

async function authed(method, path, body, extraHeaders) {
  const session = getSession();
  if (!session) throw new ApiError(401, 'Please log in first.', { sessionExpired: true });
  try {
    return await send(method, path, { body, bearer: session.token, extraHeaders });
  } catch (error) {
    if (error.status !== 401) throw error;
  }
  const token = await refreshAccessToken(session);
  try {
    return await send(method, path, { body, bearer: token, extraHeaders });
  } catch (error) {
    // A brand-new token refused: the account is gone. Retry only once, then give up.
    if (error.status === 401) {
      endSession();
      error.sessionExpired = true;
    }
    throw error;
  }
}

export async function signUp(email, password) {
  return send('POST', '/api/users', { body: { email, password } });
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

/** `sort` is `desc` (newest first) or `asc`; `authorId` filters to one author. */
export async function listChirps({ sort = 'desc', authorId = null } = {}) {
  const query = new URLSearchParams({ sort });
  if (authorId) query.set('author_id', authorId);
  return send('GET', `/api/chirps?${query}`);
}

/**
 * Posts under `idempotencyKey` (see idempotency.js), retrying once with that same key when
 * the outcome is unknown, so a lost answer never becomes two chirps.
 */
export async function postChirp(body, idempotencyKey) {
  return retryOnce(() => authed('POST', '/api/chirps', { body }, { 'Idempotency-Key': idempotencyKey }));
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
  const user = await authed('PUT', '/api/users', { email, password });
  updateUser(user);
  try {
    await logIn(email, password);
  } catch {
    endSession();
    throw new ApiError(401, 'Your account was updated, but logging in again failed. Please log in with your new email and password.', { sessionExpired: true });
  }
  return user;
}
