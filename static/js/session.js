// The logged-in session, kept in localStorage so it survives a reload:
//   { user: { id, email, is_chirpy_red, handle, display_name, bio }, token, refreshToken }
// `token` is the short-lived access token (a JWT); `refreshToken` gets a new one from
// POST /api/refresh and is revoked by POST /api/revoke on log out.
//
// The user fields start from the login response and are replaced by GET /api/users/me
// after each login and on every load, so a Chirpy Red upgrade made by the Polka webhook
// (or an email changed on another device) shows up without logging in again.

const STORAGE_KEY = 'chirpy.session';

/** Fires `change` (detail: the session, or null, and why) whenever the session changes. */
export const sessionEvents = new EventTarget();

let current = load();

// Logging in or out in another tab of the app changes this one too.
window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE_KEY && event.key !== null) return;
  current = load();
  sessionEvents.dispatchEvent(new CustomEvent('change', { detail: current }));
});

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY));
    if (saved && saved.user && saved.user.id && saved.token && saved.refreshToken) return saved;
  } catch {
    // Unreadable or unavailable storage: start logged out.
  }
  return null;
}

function store() {
  try {
    if (current) localStorage.setItem(STORAGE_KEY, JSON.stringify(current));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode or a full quota: the session still works until the page is closed.
  }
  sessionEvents.dispatchEvent(new CustomEvent('change', { detail: current }));
}

/** The current session, or null when logged out. */
export function getSession() {
  return current;
}

/** Starts a session from a POST /api/login response. */
export function startSession(loggedIn) {
  current = {
    user: pickUser(loggedIn),
    token: loggedIn.token,
    refreshToken: loggedIn.refresh_token,
  };
  store();
}

/**
 * Keeps the tokens, replaces what we know about the user (from PUT /api/users or GET
 * /api/users/me). An answer about someone else (this session ended while it was on its
 * way, and another began) is ignored.
 */
export function updateUser(user) {
  if (!current || current.user.id !== user.id) return;
  current = { ...current, user: pickUser(user) };
  store();
}

/** Stores a new access token, unless the session changed while it was being fetched. */
export function replaceAccessToken(refreshToken, token) {
  if (!current || current.refreshToken !== refreshToken) return false;
  current = { ...current, token };
  store();
  return true;
}

export function endSession() {
  if (!current) return;
  current = null;
  store();
}

function pickUser({ id, email, is_chirpy_red, handle, display_name, bio }) {
  return {
    id,
    email,
    is_chirpy_red: Boolean(is_chirpy_red),
    handle: handle ?? null,
    display_name: display_name ?? '',
    bio: bio ?? '',
  };
}
