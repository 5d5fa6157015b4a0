// The report form on a profile page: what is wrong (the reason) and, if it is about some of
// them, which of the chirps shown below (at most 20, the server's limit), sent with
// POST /api/reports. What the server refuses (a blank reason, a user who is gone) shows in its
// own words beside the form. Escape or Cancel closes it, and focus goes back to Report.

import * as api from './api.js';
import { el, say, show } from './dom.js';
import { chirpsShown } from './feed_view.js';
import { fullTime } from './text.js';

const $ = (id) => document.getElementById(id);

const ui = {
  form: $('report-form'),
  heading: $('report-heading'),
  reason: $('report-reason'),
  chirps: $('report-choices'),
  chirpList: $('report-choice-list'),
  error: $('report-error'),
  cancel: $('report-cancel'),
  opener: $('report-button'),
  status: $('status'),
};

/** The most chirps one report may name. */
const MOST_CHIRPS = 20;

/** Whom the open form reports, `{ profile, name }`, or null. */
let target = null;
let onSessionLost = () => {};

/** `sessionLost(error)` is called when sending finds the session over. */
export function startReports({ sessionLost }) {
  onSessionLost = sessionLost;
}

/** Opens the form about `profile` (whom the page calls `name`), or closes it if it is open. */
export function toggleReport(profile, name) {
  if (target) {
    closeReport({ focus: true });
    return;
  }
  target = { profile, name };
  ui.form.reset();
  say(ui.error, '');
  ui.heading.textContent = `Report ${name}`;
  const theirs = chirpsShown().filter((chirp) => chirp.userId === profile.id).slice(0, MOST_CHIRPS);
  ui.chirpList.replaceChildren(...theirs.map((chirp, i) => {
    const id = `report-choice-${i}`;
    const when = fullTime(new Date(chirp.createdAt));
    return el(
      'li',
      { className: 'report-choice' },
      el('input', { type: 'checkbox', id, name: 'chirp_ids', value: chirp.id }),
      el('label', { htmlFor: id }, el('span', { className: 'report-choice-body' }, chirp.body), el('span', { className: 'report-choice-time' }, when)),
    );
  }));
  show(ui.chirps, theirs.length > 0);
  show(ui.form, true);
  ui.opener.setAttribute('aria-expanded', 'true');
  ui.reason.focus();
}

/** Closes the form; `focus`: give focus back to the Report button. */
export function closeReport({ focus = false } = {}) {
  target = null;
  show(ui.form, false);
  ui.opener.setAttribute('aria-expanded', 'false');
  ui.chirpList.replaceChildren();
  if (focus && !ui.opener.hidden) ui.opener.focus();
}

ui.cancel.addEventListener('click', () => closeReport({ focus: true }));

ui.form.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  event.preventDefault();
  closeReport({ focus: true });
});

ui.form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!target || ui.form.getAttribute('aria-busy') === 'true') return;
  const { profile, name } = target;
  const chirpIds = [...ui.chirpList.querySelectorAll('input:checked')].map((box) => box.value);
  const buttons = [...ui.form.querySelectorAll('button')];
  say(ui.error, '');
  ui.form.setAttribute('aria-busy', 'true');
  buttons.forEach((button) => { button.disabled = true; });
  try {
    // A blank one goes as typed: the server says what it makes of it.
    const typed = ui.reason.value;
    await api.report(profile.id, typed.trim() || typed, chirpIds);
  } catch (error) {
    if (error.sessionExpired) onSessionLost(error);
    else {
      say(ui.error, error.message);
      ui.reason.focus();
    }
    return;
  } finally {
    ui.form.removeAttribute('aria-busy');
    buttons.forEach((button) => { button.disabled = false; });
  }
  closeReport({ focus: true });
  const about = chirpIds.length === 1 ? ' and 1 chirp' : chirpIds.length ? ` and ${chirpIds.length} chirps` : '';
  say(ui.status, `Thank you. Your report on ${name}${about} is with the moderators.`);
});
