// The Chirpy web app: wires the page in index.html to the API.
//
// Views: logged out, the log-in / sign-up card and the public feed; logged in, the
// composer and the feed, or the account settings. Which one shows follows the session
// (see session.js), so a session that ends anywhere (log out, or a refused refresh token)
// brings the log-in card back. The feed follows the live stream (see live.js), so chirps
// posted and deleted anywhere show up without a reload.

import * as api from './api.js';
import { el, say, show } from './dom.js';
import { authorName, findChirp, placeChirp, renderChirp } from './feed.js';
import { newIdempotencyKey } from './idempotency.js';
import { followChirps } from './live.js';
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
  feedHeading: $('feed-heading'),
  liveIndicator: $('live-indicator'),
  sortToggle: $('sort-toggle'),
  filterBar: $('filter-bar'),
  filterLabel: $('filter-label'),
  clearFilter: $('clear-filter'),
  feedMessage: $('feed-message'),
  feed: $('feed'),

  settingsView: $('settings-view'),
  settingsForm: $('settings-form'),
  settingsEmail: $('settings-email'),
  settingsPassword: $('settings-password'),
  settingsConfirm: $('settings-confirm'),
  settingsError: $('settings-error'),
  settingsHeading: $('settings-heading'),
  settingsCancel: $('settings-cancel'),
};

/** What the feed shows: newest first unless toggled, everyone unless filtered. */
const feedState = { sort: 'desc', authorId: null };
let showingSettings = false;

// ---- Rendering the session ---------------------------------------------------------

function render() {
  const session = getSession();
  const loggedIn = Boolean(session);
  show(ui.authView, !loggedIn);
  show(ui.whoami, loggedIn);
  show(ui.accountNav, loggedIn);
  show(ui.composer, loggedIn && !showingSettings);
  show(ui.feedView, !showingSettings || !loggedIn);
  show(ui.settingsView, loggedIn && showingSettings);
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
  // A different person (or nobody) now: "you" and the delete buttons change hands.
  if (userId !== lastUserId) {
    lastUserId = userId;
    loadFeed();
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
  say(ui.signupError, '');
  await busy(ui.signupForm, async () => {
    try {
      await api.signUp(email, password);
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
    // Shown now rather than when the stream brings it; the stream's copy is then ignored.
    afterLoad(() => showChirp(chirp));
  } catch (error) {
    if (error.sessionExpired) sessionLost(error);
    else say(ui.chirpError, error.message);
  } finally {
    ui.chirpForm.removeAttribute('aria-busy');
    updateCounter();
  }
});

// ---- The feed ------------------------------------------------------------------------

// Only the answer to the latest request is shown, however the responses arrive.
let feedGeneration = 0;

// Changes that come while a list is loading (stream events, one's own post) wait for it and
// are then applied on top: the list may predate them. Applying one twice changes nothing.
let heldChanges = null;

function afterLoad(change) {
  if (heldChanges) heldChanges.push(change);
  else change();
}

function applyHeldChanges() {
  const changes = heldChanges ?? [];
  heldChanges = null;
  changes.forEach((change) => change());
}

async function loadFeed() {
  const generation = ++feedGeneration;
  heldChanges ??= [];
  ui.feed.setAttribute('aria-busy', 'true');
  renderFeedControls();
  let chirps = null;
  let failure = null;
  try {
    chirps = await api.listChirps(feedState);
  } catch (error) {
    failure = error;
  }
  if (generation !== feedGeneration) return;
  if (failure) {
    say(ui.feedMessage, `Could not load chirps: ${failure.message}`);
  } else {
    ui.feed.replaceChildren(...chirps.map(renderFeedItem));
    updateFeedMessage();
  }
  ui.feed.removeAttribute('aria-busy');
  applyHeldChanges();
  // Tells the browser tests that the first feed has been drawn (or failed to load).
  document.documentElement.dataset.ready = 'true';
}

function renderFeedItem(chirp) {
  const me = getSession()?.user ?? null;
  return renderChirp(chirp, { me, onAuthor: filterByAuthor, onDelete: removeChirp });
}

function updateFeedMessage() {
  if (ui.feed.children.length) say(ui.feedMessage, '');
  else say(ui.feedMessage, feedState.authorId ? 'No chirps by this author yet.' : 'No chirps yet. Be the first!');
}

/** Adds a chirp the feed should show, unless it is there already. */
function showChirp(chirp) {
  if (feedState.authorId && chirp.user_id !== feedState.authorId) return;
  if (findChirp(ui.feed, chirp.id)) return;
  placeChirp(ui.feed, renderFeedItem(chirp), feedState.sort);
  updateFeedMessage();
}

/** Takes a deleted chirp off the feed, if it is there. */
function dropChirp(id) {
  const item = findChirp(ui.feed, id);
  if (!item) return;
  // Focus inside the item (its delete button) would fall to <body>: keep it in the feed.
  if (item.contains(document.activeElement)) ui.feedHeading.focus();
  item.remove();
  updateFeedMessage();
}

// The stream for the author shown; a new one (and a new list) when the filter changes.
let stream = null;

function followFeed() {
  stream?.close();
  stream = followChirps(feedState.authorId, {
    onCreated: (chirp) => afterLoad(() => showChirp(chirp)),
    onDeleted: (id) => afterLoad(() => dropChirp(id)),
    onState: (live) => show(ui.liveIndicator, live),
    onSubscribed: loadFeed,
  });
}

function renderFeedControls() {
  const newestFirst = feedState.sort === 'desc';
  ui.sortToggle.textContent = newestFirst ? 'Newest first' : 'Oldest first';
  ui.sortToggle.dataset.sort = feedState.sort;
  const me = getSession()?.user ?? null;
  if (feedState.authorId) {
    ui.filterLabel.replaceChildren(
      'Showing chirps by ',
      el('strong', {}, authorName(feedState.authorId, me)),
      '.',
    );
  }
  show(ui.filterBar, Boolean(feedState.authorId));
  ui.feedHeading.textContent = feedState.authorId ? 'Chirps by one author' : 'Latest chirps';
}

function filterByAuthor(userId) {
  feedState.authorId = userId;
  renderFeedControls();
  followFeed();
  ui.clearFilter.focus();
}

ui.clearFilter.addEventListener('click', () => {
  feedState.authorId = null;
  renderFeedControls();
  followFeed();
  ui.feedHeading.focus();
});

ui.sortToggle.addEventListener('click', () => {
  feedState.sort = feedState.sort === 'desc' ? 'asc' : 'desc';
  loadFeed();
});

async function removeChirp(chirp, button) {
  button.disabled = true;
  try {
    await api.deleteChirp(chirp.id);
    afterLoad(() => dropChirp(chirp.id));
    say(ui.status, 'Chirp deleted.');
    ui.feedHeading.focus();
  } catch (error) {
    button.disabled = false;
    if (error.sessionExpired) sessionLost(error);
    else say(ui.status, `Could not delete the chirp: ${error.message}`);
  }
}

// ---- Account settings ----------------------------------------------------------------

function openSettings() {
  showingSettings = true;
  ui.settingsForm.reset();
  ui.settingsEmail.value = getSession()?.user.email ?? '';
  say(ui.settingsError, '');
  render();
  ui.settingsHeading.focus();
}

function closeSettings() {
  showingSettings = false;
  render();
  ui.chirpBody.focus();
}

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

render();
updateCounter();
if (getSession()) refreshUser();
// The first list loads once the stream listens (see followFeed).
followFeed();
