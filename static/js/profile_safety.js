// On someone else's profile page, logged in: Mute and Block, toggle buttons (aria-pressed:
// pressed while one mutes or blocks them, from one's own lists in blocks_and_mutes.js), a line
// saying what that means while either is pressed, and Report, which opens the report form
// (report_form.js). Whether they block one is not for one to know: the server's 403 says so
// when one tries to follow, reply or like.

import { isBlocked, isMuted, setBlocked, setMuted, shieldsKnown } from './blocks_and_mutes.js';
import { el, say, show } from './dom.js';
import { closeReport, toggleReport } from './report_form.js';

const $ = (id) => document.getElementById(id);

const ui = {
  box: $('profile-safety'),
  note: $('profile-shield-note'),
  mute: $('mute-button'),
  block: $('block-button'),
  report: $('report-button'),
  status: $('status'),
};

/** The profile the buttons are for, and how the page names them: `{ profile, name }`, or null. */
let shown = null;
let onSessionLost = () => {};

/** `sessionLost(error)` is called when a request finds the session over. */
export function startSafety({ sessionLost }) {
  onSessionLost = sessionLost;
}

/**
 * Shows the buttons for `profile`, named `name` on the page; null hides them (one's own
 * profile, or logged out). Mute and Block wait for one's lists: without them, whether they are
 * pressed is not known.
 */
export function showSafety(profile, name) {
  const same = shown?.profile.id === profile?.id;
  shown = profile ? { profile, name } : null;
  if (!same) closeReport();
  show(ui.box, Boolean(profile));
  if (profile) paint();
}

function label(button, text, name) {
  button.replaceChildren(text, el('span', { className: 'visually-hidden' }, ` ${name}`));
}

function paint() {
  const { profile, name } = shown;
  const known = shieldsKnown();
  const blocked = isBlocked(profile.id);
  const muted = isMuted(profile.id);
  show(ui.mute, known);
  show(ui.block, known);
  label(ui.mute, 'Mute', name);
  label(ui.block, 'Block', name);
  label(ui.report, 'Report', name);
  ui.mute.setAttribute('aria-pressed', String(muted));
  ui.block.setAttribute('aria-pressed', String(blocked));
  const notes = [];
  if (blocked) notes.push(`You block ${name}: neither of you can follow the other, or reply to or like the other's chirps, and their chirps stay out of your lists.`);
  if (muted) notes.push(`You mute ${name}: their chirps stay off your Home, and they cause you no notifications. They cannot tell.`);
  ui.note.textContent = notes.join(' ');
  show(ui.note, notes.length > 0);
}

const WORDS = {
  block: {
    set: setBlocked,
    on: (name) => `You block ${name} now: neither of you can follow, reply to or like the other.`,
    off: (name) => `You no longer block ${name}.`,
    verbs: ['block', 'unblock'],
  },
  mute: {
    set: setMuted,
    on: (name) => `You mute ${name} now: their chirps stay off your Home.`,
    off: (name) => `You no longer mute ${name}.`,
    verbs: ['mute', 'unmute'],
  },
};

async function toggle(kind, button) {
  if (!shown || button.disabled) return;
  const { profile, name } = shown;
  const words = WORDS[kind];
  const on = button.getAttribute('aria-pressed') !== 'true';
  const focused = document.activeElement === button;
  button.disabled = true;
  try {
    await words.set(profile.id, on);
    say(ui.status, on ? words.on(name) : words.off(name));
  } catch (error) {
    if (error.sessionExpired) onSessionLost(error);
    else say(ui.status, `Could not ${words.verbs[on ? 0 : 1]} ${name}: ${error.message}`);
  } finally {
    button.disabled = false;
    if (shown?.profile.id === profile.id) paint();
    // A disabled button may lose focus: give it back.
    if (focused && !button.hidden && document.activeElement === document.body) button.focus();
  }
}

ui.mute.addEventListener('click', () => toggle('mute', ui.mute));
ui.block.addEventListener('click', () => toggle('block', ui.block));
ui.report.addEventListener('click', () => {
  if (shown) toggleReport(shown.profile, shown.name);
});
