// The Chirpy web app: wires the page in index.html to the API.
//
// Views: logged out, the log-in / sign-up card and the public feed; logged in, the
// composer and the feed (Home or Everyone), or the settings. A profile page (#/@handle, or
// #/u/<id> for a user without a handle) shows a user and their chirps to anyone. Which
// view shows follows the session (see session.js), so a session that ends anywhere (log
// out, or a refused refresh token) brings the log-in card back, and the address (see
// routes.js). The chirps themselves, live, are feed_view.js's; the profile card is
// profile_view.js's.

import * as api from './api.js';
import { say, show } from './dom.js';
import { focusFeed, renameMe, sessionChanged, showAuthor, showFeed, showOwnChirp, startFeed } from './feed_view.js';
import { newIdempotencyKey } from './idempotency.js';
import { closeProfile, openProfile, startProfiles } from './profile_view.js';
import { forgetProfiles, remember } from './profiles.js';
import { parseRoute, profileRoute } from './routes.js';
import { getSession, sessionEvents } from './session.js';
import { MAX_CHIRP_CHARS, charCount } from './text.js';

const $ = (id) => document.getElementById(id);

const ui = {
  status: $('status'),
  whoami: $('whoami'),
  accountNav: $('account-nav'),
  whoamiEmail: $('whoami-email'),
  redBadge: $('red-badge'),
  settingsButton: $('settings-button'),
  logoutButton: $('logout-button'),

  authView: $('auth-view'),
  loginPanel: $('login-panel'),
  loginForm: $('login-form'),
  loginError: $('login-error'),
  authHeading: $('auth-heading'),
  signupPanel: $('signup-panel'),
  signupForm: $('signup-form'),
  signupError: $('signup-error'),
  signupHeading: $('signup-heading'),
  showSignup: $('show-signup'),
  showLogin: $('show-login'),

  composer: $('composer'),
  chirpForm: $('chirp-form'),
  chirpBody: $('chirp-body'),
  chirpCounter: $('chirp-counter'),
  chirpSubmit: $('chirp-submit'),
  chirpError: $('chirp-error'),

  feedView: $('feed-view'),
  profileView: $('profile-view'),
  profileName: $('profile-name'),

  settingsView: $('settings-view'),
  settingsForm: $('settings-form'),
  settingsEmail: $('settings-email'),
  settingsPassword: $('settings-password'),
  settingsConfirm: $('settings-confirm'),
  settingsError: $('settings-error'),
  settingsHeading: $('settings-heading'),
  settingsCancel: $('settings-cancel'),
  profileForm: $('profile-form'),
  profileHandle: $('profile-handle-input'),
  profileDisplayName: $('profile-display-name'),
  profileBio: $('profile-bio-input'),
  profileError: $('profile-error'),
};

/** Where the address points: `{ view: 'feed' }` or `{ view: 'profile', user }` (see routes.js). */
let route = parseRoute(location.hash) ?? { view: 'feed' };
/** On a profile page: whether there is a profile to show chirps under. */
let profileFound = false;
let showingSettings = false;

// ---- Rendering the session ---------------------------------------------------------

function render() {
  const session = getSession();
  const loggedIn = Boolean(session);
  show(ui.authView, !loggedIn);
  show(ui.whoami, loggedIn);
  show(ui.accountNav, loggedIn);
  const settings = loggedIn && showingSettings;
  const profile = route.view === 'profile';
  show(ui.composer, loggedIn && !settings && !profile);
  show(ui.profileView, profile && !settings);
  show(ui.feedView, !settings && (!profile || profileFound));
  show(ui.settingsView, settings);
  if (loggedIn) {
    ui.whoamiEmail.textContent = session.user.email;
    ui.whoamiEmail.title = session.user.email;
    show(ui.redBadge, session.user.is_chirpy_red);
  } else {
    ui.whoamiEmail.textContent = '';
    show(ui.redBadge, false);
  }
}

let lastUserId = getSession()?.user.id ?? null;

sessionEvents.addEventListener('change', () => {
  const userId = getSession()?.user.id ?? null;
  if (!userId) showingSettings = false;
  render();
  // The same person, perhaps renamed on another device (GET /api/users/me says so).
  if (userId && userId === lastUserId) renameMe();
  // A different person (or nobody) now: "you" and the delete buttons change hands.
  if (userId !== lastUserId) {
    lastUserId = userId;
    // `followed_by_me` was someone else's view.
    forgetProfiles();
    sessionChanged();
    if (route.view === 'profile') showRoute({ focus: false });
    if (userId) refreshUser();
  }
});

/** Asks the server who we are (Chirpy Red now?) instead of trusting the last login. */
async function refreshUser() {
  try {
    await api.refreshUser();
  } catch (error) {
    // Any other failure keeps what we knew; it is only the badge.
    if (error.sessionExpired) sessionLost(error);
  }
}

/** Ends up on the log-in card after a session ended on its own, saying why. */
function sessionLost(error) {
  showLogin();
  say(ui.loginError, error.message);
  ui.authHeading.focus();
}

// ---- Log in and sign up --------------------------------------------------------------

function showLogin() {
  show(ui.loginPanel, true);
  show(ui.signupPanel, false);
  say(ui.signupError, '');
}

function showSignup() {
  show(ui.loginPanel, false);
  show(ui.signupPanel, true);
  say(ui.loginError, '');
}

ui.showSignup.addEventListener('click', () => {
  showSignup();
  ui.signupHeading.focus();
});

ui.showLogin.addEventListener('click', () => {
  showLogin();
  ui.authHeading.focus();
});

/** Disables a form's buttons while `work` runs, so a double click sends one request. */
async function busy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((button) => { button.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    buttons.forEach((button) => { button.disabled = false; });
  }
}

ui.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = ui.loginForm.elements.email.value.trim();
  const password = ui.loginForm.elements.password.value;
  say(ui.loginError, '');
  await busy(ui.loginForm, async () => {
    try {
      await api.logIn(email, password);
      ui.loginForm.reset();
      say(ui.status, `Welcome back, ${email}.`);
      ui.chirpBody.focus();
    } catch (error) {
      say(ui.loginError, error.message);
      ui.loginForm.elements.password.select();
    }
  });
});

ui.signupForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = ui.signupForm.elements.email.value.trim();
  const password = ui.signupForm.elements.password.value;
  const handle = bareHandle(ui.signupForm.elements.handle.value);
  say(ui.signupError, '');
  await busy(ui.signupForm, async () => {
    try {
      await api.signUp(email, password, handle);
    } catch (error) {
      say(ui.signupError, error.message);
      return;
    }
    try {
      await api.logIn(email, password);
      ui.signupForm.reset();
      showLogin();
      say(ui.status, `Welcome to Chirpy, ${email}!`);
      ui.chirpBody.focus();
    } catch (error) {
      showLogin();
      say(ui.loginError, `Your account is ready, but logging in failed: ${error.message}`);
    }
  });
});

ui.logoutButton.addEventListener('click', async () => {
  ui.logoutButton.disabled = true;
  try {
    await api.logOut();
  } finally {
    ui.logoutButton.disabled = false;
  }
  showLogin();
  say(ui.status, 'You are logged out.');
  ui.authHeading.focus();
});

// ---- Posting -------------------------------------------------------------------------

let wasOver = false;

function updateCounter() {
  const text = ui.chirpBody.value;
  const count = charCount(text);
  const over = count > MAX_CHIRP_CHARS;
  // The counter is not a live region (it would speak on every key); crossing the limit is
  // announced once, in the status line.
  if (over !== wasOver) {
    say(ui.status, over ? `Too long to post: chirps are at most ${MAX_CHIRP_CHARS} characters.` : '');
    wasOver = over;
  }
  ui.chirpCounter.textContent = over
    ? `${count} / ${MAX_CHIRP_CHARS}: ${count - MAX_CHIRP_CHARS} too many`
    : `${count} / ${MAX_CHIRP_CHARS}`;
  ui.chirpCounter.classList.toggle('counter-over', over);
  ui.chirpCounter.classList.toggle('counter-near', !over && count > MAX_CHIRP_CHARS - 20);
  ui.chirpBody.setAttribute('aria-invalid', String(over));
  ui.chirpSubmit.disabled = over || text.trim() === '';
}

ui.chirpBody.addEventListener('input', updateCounter);

// Ctrl+Enter (or Cmd+Enter) posts from the text area, as in most chat boxes.
ui.chirpBody.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    ui.chirpForm.requestSubmit();
  }
});

// One Idempotency-Key per draft: pressing Post again on the same text after a failure
// reuses it, so a post that did reach the server is not posted twice.
let draft = { text: null, key: null };

function keyFor(text) {
  if (draft.text !== text) draft = { text, key: newIdempotencyKey() };
  return draft.key;
}

ui.chirpForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  updateCounter();
  if (ui.chirpSubmit.disabled) return;
  const body = ui.chirpBody.value;
  say(ui.chirpError, '');
  ui.chirpSubmit.disabled = true;
  ui.chirpForm.setAttribute('aria-busy', 'true');
  try {
    const chirp = await api.postChirp(body, keyFor(body));
    draft = { text: null, key: null };
    ui.chirpBody.value = '';
    const censored = chirp.body !== body;
    say(ui.status, censored ? 'Posted, with some words replaced by ****.' : 'Posted.');
    showOwnChirp(chirp);
  } catch (error) {
    if (error.sessionExpired) sessionLost(error);
    else say(ui.chirpError, error.message);
  } finally {
    ui.chirpForm.removeAttribute('aria-busy');
    updateCounter();
  }
});

// ---- Account settings ----------------------------------------------------------------

function openSettings() {
  showingSettings = true;
  const user = getSession()?.user;
  ui.profileForm.reset();
  ui.profileHandle.value = user?.handle ?? '';
  ui.profileDisplayName.value = user?.display_name ?? '';
  ui.profileBio.value = user?.bio ?? '';
  say(ui.profileError, '');
  ui.settingsForm.reset();
  ui.settingsEmail.value = user?.email ?? '';
  say(ui.settingsError, '');
  render();
  ui.settingsHeading.focus();
}

function closeSettings() {
  showingSettings = false;
  render();
  if (route.view === 'profile') ui.profileName.focus();
  else ui.chirpBody.focus();
}

/** What the server wants of a handle typed with its `@`, or with spaces around it. */
function bareHandle(text) {
  return text.trim().replace(/^@/, '');
}

ui.profileForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const handle = bareHandle(ui.profileHandle.value);
  const fields = {
    // An empty handle removes it.
    handle: handle || null,
    display_name: ui.profileDisplayName.value.trim(),
    bio: ui.profileBio.value.trim(),
  };
  say(ui.profileError, '');
  await busy(ui.profileForm, async () => {
    try {
      // As the server keeps it (profanity masked): the session, the cache and the page.
      const user = await api.updateProfile(fields);
      remember({ id: user.id, handle: user.handle ?? null, display_name: user.display_name, bio: user.bio });
      renameMe();
      closeSettings();
      say(ui.status, user.handle ? `Your profile is saved. You are @${user.handle}.` : 'Your profile is saved.');
    } catch (error) {
      if (error.sessionExpired) sessionLost(error);
      else {
        say(ui.profileError, error.message);
        if (error.status === 409 || /handle/i.test(error.message)) ui.profileHandle.focus();
      }
    }
  });
});

ui.settingsButton.addEventListener('click', openSettings);
ui.settingsCancel.addEventListener('click', closeSettings);

ui.settingsForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = ui.settingsEmail.value.trim();
  const password = ui.settingsPassword.value;
  say(ui.settingsError, '');
  if (password !== ui.settingsConfirm.value) {
    say(ui.settingsError, 'The two new passwords do not match.');
    ui.settingsConfirm.focus();
    return;
  }
  await busy(ui.settingsForm, async () => {
    try {
      await api.updateAccount(email, password);
      refreshUser();
      closeSettings();
      say(ui.status, 'Your email and password are updated.');
    } catch (error) {
      if (error.sessionExpired) sessionLost(error);
      else say(ui.settingsError, error.message);
    }
  });
});

// ---- Start ---------------------------------------------------------------------------

// ---- Routes ----------------------------------------------------------------------------

// The profile asked for last, so that only the latest answer counts.
let routeGeneration = 0;

/** Shows what the address names; `focus`: move focus there (after a click, not on load). */
async function showRoute({ focus }) {
  const mine = ++routeGeneration;
  showingSettings = false;
  if (route.view !== 'profile') {
    closeProfile();
    profileFound = false;
    render();
    showFeed();
    if (focus) focusFeed();
    return;
  }
  render();
  if (focus) ui.profileName.focus();
  const profile = await openProfile(route.user);
  if (mine !== routeGeneration || profile === undefined) return;
  profileFound = Boolean(profile);
  render();
  if (!profile) {
    // Tells the browser tests the page has settled: there are no chirps to show here.
    document.documentElement.dataset.ready = 'true';
    return;
  }
  showAuthor(profile.id);
  // The address to share is by handle when there is one (#/u/<id> stays valid too).
  const canonical = profileRoute(profile);
  if (location.hash !== canonical) history.replaceState(null, '', canonical);
}

window.addEventListener('hashchange', () => {
  // Other fragments (the skip link's #main) are places on the page, not routes.
  const next = parseRoute(location.hash);
  if (!next) return;
  route = next;
  showRoute({ focus: true });
});

// ---- Start ---------------------------------------------------------------------------

startProfiles({ sessionLost, editProfile: openSettings });
startFeed({ sessionLost });
render();
updateCounter();
if (getSession()) refreshUser();
// The first list loads once its stream listens (see feed_view.js).
showRoute({ focus: false });
