// The Chirpy web app: wires the page in index.html to the API.
//
// Views: logged out, the log-in / sign-up card and the public feed; logged in, the
// composer and the feed (Home or Everyone), or the settings. A profile page (#/@handle, or
// #/u/<id> for a user without a handle) shows a user and their chirps to anyone; a thread
// (#/chirp/<id>) a chirp in its conversation; search results (#/search?q=..., from the
// header's search box) people and chirps; #/notifications one's notifications (the header's
// bell counts the unread ones) and #/moderation, for moderators, the reports. Which view shows
// follows the session (see session.js), so a session that ends anywhere (log out, or a refused
// refresh token) brings the log-in card back, and the address (see routes.js). The chirps
// themselves, live, are feed_view.js's; the profile card is profile_view.js's, the thread
// thread_view.js's, the results search_view.js's, the notifications notifications_view.js's
// and the reports moderation_view.js's.

import * as api from './api.js';
import { bellCurrent } from './bell.js';
import { startChirpActions } from './chirp_actions.js';
import { announce } from './chirp_events.js';
import { bindComposer } from './composer.js';
import { say, show } from './dom.js';
import { focusFeed, renameMe, sessionChanged, showAuthor, showFeed, startFeed } from './feed_view.js';
import { forgetLikes } from './likes.js';
import { checkModerator, closeModeration, openModeration, startModeration } from './moderation_view.js';
import { closeNotifications, openNotifications, startNotifications } from './notifications_view.js';
import { closeProfile, openProfile, startProfiles } from './profile_view.js';
import { forgetProfiles, remember } from './profiles.js';
import { startReplyBoxes } from './reply_box.js';
import { parseRoute, profileRoute, searchRoute } from './routes.js';
import { closeSearch, openSearch, startSearch } from './search_view.js';
import { getSession, sessionEvents } from './session.js';
import { closeThread, openThread, startThreads } from './thread_view.js';
import { forgetUnread, refreshUnread } from './unread.js';

const $ = (id) => document.getElementById(id);

const ui = {
  status: $('status'),
  whoami: $('whoami'),
  accountNav: $('account-nav'),
  whoamiEmail: $('whoami-email'),
  redBadge: $('red-badge'),
  settingsButton: $('settings-button'),
  logoutButton: $('logout-button'),
  searchForm: $('search-form'),
  searchInput: $('search-input'),

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
  threadView: $('thread-view'),
  threadHeading: $('thread-heading'),
  searchView: $('search-view'),
  searchHeading: $('search-heading'),
  notificationsView: $('notifications-view'),
  notificationsHeading: $('notifications-heading'),
  moderationView: $('moderation-view'),
  moderationHeading: $('moderation-heading'),

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

/**
 * Where the address points: `{ view: 'feed' }`, `'profile'`, `'thread'`, `'search'`,
 * `'notifications'` or `'moderation'` (see routes.js).
 */
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
  const { view } = route;
  const profile = view === 'profile';
  show(ui.composer, loggedIn && !settings && view === 'feed');
  show(ui.profileView, profile && !settings);
  show(ui.threadView, view === 'thread' && !settings);
  show(ui.searchView, view === 'search' && !settings);
  show(ui.notificationsView, view === 'notifications' && !settings);
  show(ui.moderationView, view === 'moderation' && !settings);
  bellCurrent(view === 'notifications' && !settings);
  show(ui.feedView, !settings && (view === 'feed' || (profile && profileFound)));
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
    // `followed_by_me`, and the likes given here, were someone else's.
    forgetProfiles();
    forgetLikes();
    sessionChanged();
    // Reply and Like buttons, and the delete buttons, change hands there too.
    if (route.view !== 'feed') showRoute({ focus: false });
    // The bell's count, and the Moderation link, were someone else's too.
    forgetUnread();
    checkModerator();
    if (userId) {
      refreshUser();
      refreshUnread();
    }
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

const composer = bindComposer({
  form: ui.chirpForm,
  textarea: ui.chirpBody,
  counter: ui.chirpCounter,
  submit: ui.chirpSubmit,
  error: ui.chirpError,
  onPosted(chirp, censored) {
    say(ui.status, censored ? 'Posted, with some words replaced by ****.' : 'Posted.');
    announce('posted', chirp);
  },
  onSessionLost: (error) => sessionLost(error),
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
  else if (route.view === 'thread') ui.threadHeading.focus();
  else if (route.view === 'search') ui.searchHeading.focus();
  else if (route.view === 'notifications') ui.notificationsHeading.focus();
  else if (route.view === 'moderation') ui.moderationHeading.focus();
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

/** Tells the browser tests the page has settled, where no feed loads to say so. */
function settled() {
  document.documentElement.dataset.ready = 'true';
}

/** Shows what the address names; `focus`: move focus there (after a click, not on load). */
async function showRoute({ focus }) {
  const mine = ++routeGeneration;
  showingSettings = false;
  const { view } = route;
  if (view !== 'profile') {
    closeProfile();
    profileFound = false;
  }
  if (view !== 'thread') closeThread();
  if (view !== 'search') closeSearch();
  if (view !== 'notifications') closeNotifications();
  if (view !== 'moderation') closeModeration();
  // The box says what the results are for, and is cleared elsewhere.
  ui.searchInput.value = view === 'search' ? route.q : '';
  render();

  if (view === 'feed') {
    showFeed();
    if (focus) focusFeed();
    return;
  }
  if (view === 'thread') {
    if (focus) ui.threadHeading.focus();
    await openThread(route.id);
    if (mine === routeGeneration) settled();
    return;
  }
  if (view === 'search') {
    if (focus) ui.searchHeading.focus();
    await openSearch(route.q);
    if (mine === routeGeneration) settled();
    return;
  }
  if (view === 'notifications') {
    if (focus) ui.notificationsHeading.focus();
    await openNotifications();
    if (mine === routeGeneration) settled();
    return;
  }
  if (view === 'moderation') {
    if (focus) ui.moderationHeading.focus();
    await openModeration();
    if (mine === routeGeneration) settled();
    return;
  }
  if (focus) ui.profileName.focus();
  const profile = await openProfile(route.user);
  if (mine !== routeGeneration || profile === undefined) return;
  profileFound = Boolean(profile);
  render();
  if (!profile) {
    // There are no chirps to show here.
    settled();
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

// The search box opens the results' address; the same search again reads them again.
ui.searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const address = searchRoute(ui.searchInput.value);
  if (location.hash === address) showRoute({ focus: true });
  else location.hash = address;
});

// ---- Start ---------------------------------------------------------------------------

startProfiles({ sessionLost, editProfile: openSettings });
startChirpActions({ sessionLost });
startReplyBoxes({ sessionLost });
startThreads({ sessionLost });
startSearch({ sessionLost });
startNotifications({ sessionLost });
startModeration({ sessionLost });
startFeed({ sessionLost });
render();
composer.update();
if (getSession()) {
  refreshUser();
  refreshUnread();
  checkModerator();
}
// The first list loads once its stream listens (see feed_view.js).
showRoute({ focus: false });
