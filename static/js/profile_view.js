// A user's profile page, above their chirps (which feed_view.js shows): display name,
// handle, bio, follower, following and chirp counts, and, when logged in as someone else,
// Follow / Unfollow and Mute, Block and Report (profile_safety.js). The profile is asked for
// with the access token when there is one, since only then does the server say whether one
// follows them (`followed_by_me`). Follow cannot be pressed while one blocks them.

import * as api from './api.js';
import { isBlocked, loadShields, shieldEvents } from './blocks_and_mutes.js';
import { el, say, show } from './dom.js';
import { avatarClass, initials } from './feed.js';
import { showSafety, startSafety } from './profile_safety.js';
import { displayName, handleText, remember } from './profiles.js';
import { startReports } from './report_form.js';
import { getSession } from './session.js';

const $ = (id) => document.getElementById(id);

const ui = {
  avatar: $('profile-avatar'),
  name: $('profile-name'),
  handle: $('profile-handle'),
  details: $('profile-details'),
  bio: $('profile-bio'),
  followers: $('profile-followers'),
  following: $('profile-following'),
  chirps: $('profile-chirps'),
  follow: $('follow-button'),
  edit: $('edit-profile-button'),
  message: $('profile-message'),
  status: $('status'),
};

/** The profile shown, or null while it loads or when there is none. */
let current = null;
let generation = 0;
let onSessionLost = () => {};

/** Starts the page: `sessionLost(error)` when a request finds the session over, `editProfile()` for one's own. */
export function startProfiles({ sessionLost, editProfile }) {
  onSessionLost = sessionLost;
  startSafety({ sessionLost });
  startReports({ sessionLost });
  ui.edit.addEventListener('click', editProfile);
}

/**
 * Shows the profile of `user` (an id or a handle). Resolves to the profile, to null when
 * there is none to show (nobody has that handle, or it could not be loaded: the page says
 * which), or to undefined when another profile was asked for meanwhile.
 */
export async function openProfile(user) {
  const mine = ++generation;
  if (current?.id !== user && current?.handle?.toLowerCase() !== user.toLowerCase()) {
    current = null;
    ui.name.textContent = /^[0-9a-f-]{36}$/i.test(user) ? 'Profile' : `@${user}`;
    ui.handle.textContent = '';
    ui.avatar.textContent = '';
    show(ui.details, false);
    show(ui.follow, false);
    show(ui.edit, false);
    showSafety(null);
  }
  say(ui.message, '');
  let profile;
  try {
    // Whom one blocks and mutes (once a session), for the buttons.
    [profile] = await Promise.all([api.getProfile(user), loadShields()]);
  } catch (error) {
    if (mine !== generation) return undefined;
    current = null;
    show(ui.details, false);
    show(ui.follow, false);
    show(ui.edit, false);
    showSafety(null);
    if (error.sessionExpired) onSessionLost(error);
    if (error.status === 404) {
      ui.name.textContent = 'No such user';
      say(ui.message, /^[0-9a-f-]{36}$/i.test(user) ? 'Nobody has this id.' : `Nobody has the handle @${user}.`);
    } else {
      say(ui.message, `Could not load the profile: ${error.message}`);
    }
    return null;
  }
  if (mine !== generation) return undefined;
  remember(profile);
  render(profile);
  return profile;
}

/** Forgets the profile shown (the page shows something else now). */
export function closeProfile() {
  generation += 1;
  current = null;
  showSafety(null);
}

const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

function count(node, number, one, many) {
  const [value, ...label] = plural(number, one, many).split(' ');
  node.replaceChildren(el('strong', {}, value), ` ${label.join(' ')}`);
}

function render(profile) {
  current = profile;
  const me = getSession()?.user ?? null;
  const self = Boolean(me) && me.id === profile.id;
  ui.avatar.className = `${avatarClass(profile.id)} avatar-large`;
  ui.avatar.textContent = initials(profile.id, null);
  ui.name.textContent = displayName(profile, profile.id);
  // Without a display name, the handle is the name already.
  ui.handle.textContent = profile.display_name ? handleText(profile) : '';
  show(ui.handle, Boolean(ui.handle.textContent));
  ui.bio.textContent = profile.bio;
  show(ui.bio, Boolean(profile.bio));
  count(ui.followers, profile.followers_count, 'follower', 'followers');
  count(ui.following, profile.following_count, 'following', 'following');
  count(ui.chirps, profile.chirps_count, 'chirp', 'chirps');
  show(ui.details, true);

  show(ui.edit, self);
  const name = handleText(profile) || ui.name.textContent;
  const canFollow = Boolean(me) && !self && typeof profile.followed_by_me === 'boolean';
  show(ui.follow, canFollow);
  if (canFollow) {
    const following = profile.followed_by_me;
    ui.follow.replaceChildren(following ? 'Unfollow' : 'Follow', el('span', { className: 'visually-hidden' }, ` ${name}`));
    ui.follow.classList.toggle('button-primary', !following);
    ui.follow.classList.toggle('button-quiet', following);
    ui.follow.dataset.following = String(following);
    // A block ended any follow between the two, and forbids a new one: the line under the
    // buttons says why.
    ui.follow.disabled = isBlocked(profile.id);
    if (ui.follow.disabled) ui.follow.setAttribute('aria-describedby', 'profile-shield-note');
    else ui.follow.removeAttribute('aria-describedby');
  }
  showSafety(Boolean(me) && !self ? profile : null, name);
}

// Blocking (or muting) them here: the button is pressed, and a block ends the follows between
// the two, so their counts are read again.
shieldEvents.addEventListener('change', async (event) => {
  const profile = current;
  if (!profile || profile.id !== event.detail.userId) return;
  let fresh;
  try {
    fresh = await api.getProfile(profile.id);
  } catch {
    return;
  }
  remember(fresh);
  if (current?.id === profile.id) render(fresh);
});

ui.follow.addEventListener('click', async () => {
  const profile = current;
  if (!profile || ui.follow.disabled) return;
  const following = profile.followed_by_me;
  const name = handleText(profile) || displayName(profile, profile.id);
  const focused = document.activeElement === ui.follow;
  ui.follow.disabled = true;
  try {
    if (following) await api.unfollow(profile.id);
    else await api.follow(profile.id);
    say(ui.status, following ? `You no longer follow ${name}.` : `You follow ${name} now: their chirps show on Home.`);
    // The counts as the server has them now; failing that, what this change made of them.
    let fresh;
    try {
      fresh = await api.getProfile(profile.id);
    } catch {
      fresh = { ...profile, followed_by_me: !following, followers_count: profile.followers_count + (following ? -1 : 1) };
    }
    remember(fresh);
    if (current?.id === profile.id) render(fresh);
  } catch (error) {
    if (error.sessionExpired) onSessionLost(error);
    else say(ui.status, `Could not ${following ? 'unfollow' : 'follow'} ${name}: ${error.message}`);
  } finally {
    ui.follow.disabled = isBlocked(profile.id);
    // A disabled button may lose focus: give it back, as its label changed under it.
    if (focused && !ui.follow.hidden && document.activeElement === document.body) ui.follow.focus();
  }
});
