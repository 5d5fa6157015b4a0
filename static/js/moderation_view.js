// The moderators' page, `#/moderation`: the reports (GET /api/admin/reports: open ones first,
// oldest first, then resolved ones, newest first), each naming whom it reports and who did,
// why, and the chirps it names (read afresh, so a deleted or hidden one says so). Each has
// Resolve (while open), Suspend user and, for each chirp, Delete chirp, with an optional note
// for the first two; what the server answers shows under the report. The header's Moderation
// link shows only to those the server takes for moderators: GET /api/admin/reports answers them
// 200, anyone else 403 (the User has no such field).

import * as api from './api.js';
import { announce } from './chirp_events.js';
import { el, say, show } from './dom.js';
import { authorLabel, fillAuthor } from './feed.js';
import { lookUp, profileEvents } from './profiles.js';
import { threadRoute } from './routes.js';
import { getSession } from './session.js';
import { friendlyTime, fullTime } from './text.js';

const $ = (id) => document.getElementById(id);

const ui = {
  link: $('moderation-link'),
  heading: $('moderation-heading'),
  message: $('moderation-message'),
  list: $('report-list'),
};

/**
 * `reports` by id, in the server's order; `chirps` by id: the chirp, `null` when it cannot be
 * read (deleted, or hidden by a suspension), `'deleted'` once deleted here; `suspended`: the
 * users suspended here.
 */
const state = { reports: new Map(), chirps: new Map(), suspended: new Set() };
let generation = 0;
let probe = 0;
let onSessionLost = () => {};

const me = () => getSession()?.user ?? null;

/** Starts the view: `sessionLost(error)` is called when a request finds the session over. */
export function startModeration({ sessionLost }) {
  onSessionLost = sessionLost;
}

/** Shows the header's Moderation link if the server takes whoever is logged in for a moderator. */
export async function checkModerator() {
  const mine = ++probe;
  show(ui.link, false);
  if (!me()) return;
  let moderator = false;
  try {
    moderator = await api.isModerator();
  } catch {
    // No answer now: no link, until the next page load.
  }
  if (mine === probe) show(ui.link, moderator);
}

/** Shows the reports; resolves once drawn (undefined if left meanwhile). */
export async function openModeration() {
  const mine = ++generation;
  ui.list.replaceChildren();
  say(ui.message, '');
  if (!me()) {
    say(ui.message, 'Log in as a moderator to see reports.');
    return false;
  }
  ui.list.setAttribute('aria-busy', 'true');
  let reports;
  try {
    reports = await api.listReports();
    const users = reports.flatMap((r) => [r.user_id, r.reporter_id, r.resolved_by].filter(Boolean));
    const chirpIds = [...new Set(reports.flatMap((r) => r.chirp_ids))];
    await Promise.all([...[...new Set(users)].map(lookUp), ...chirpIds.map(readChirp)]);
  } catch (error) {
    if (mine !== generation) return undefined;
    ui.list.removeAttribute('aria-busy');
    if (error.sessionExpired) onSessionLost(error);
    // A 403 says it in the server's words: only moderators may do this.
    else say(ui.message, error.status === 403 ? error.message : `Could not load the reports: ${error.message}`);
    return false;
  }
  if (mine !== generation) return undefined;
  ui.list.removeAttribute('aria-busy');
  state.reports = new Map(reports.map((report) => [report.id, report]));
  ui.list.replaceChildren(...reports.map(renderReport));
  const open = reports.filter((r) => r.status === 'open').length;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  say(ui.message, reports.length ? `${plural(open, 'open report', 'open reports')}, ${reports.length - open} resolved.` : 'No reports.');
  return true;
}

/** Forgets the reports (the page shows something else now). */
export function closeModeration() {
  generation += 1;
  ui.list.replaceChildren();
  state.reports.clear();
  state.chirps.clear();
}

/** Reads a reported chirp afresh, into `state.chirps`. */
async function readChirp(id) {
  if (state.chirps.get(id) === 'deleted') return;
  try {
    state.chirps.set(id, await api.getChirp(id));
  } catch (error) {
    if (error.status !== 404) throw error;
    state.chirps.set(id, null);
  }
}

const idFor = (report, part) => `report-${report.id}-${part}`;

function userLink(userId) {
  const link = el('a', { className: 'author', dataset: { userId } });
  fillAuthor(link, userId, me());
  return link;
}

function time(at) {
  const date = new Date(at);
  return el('time', { dateTime: at, title: fullTime(date) }, friendlyTime(date));
}

function renderReport(report) {
  const open = report.status === 'open';
  const suspended = state.suspended.has(report.user_id);
  const note = el('input', { id: idFor(report, 'note'), type: 'text', name: 'note', autocomplete: 'off', className: 'report-note' });
  const answer = el('p', { className: 'report-answer', role: 'status' });

  const resolve = open ? el('button', { type: 'button', className: 'button button-primary button-small report-resolve' }, 'Resolve') : null;
  resolve?.addEventListener('click', () => act(report, resolve, () => doResolve(report, note.value.trim())));
  const suspend = suspended ? null : el('button', { type: 'button', className: 'button button-danger button-small report-suspend' }, 'Suspend user');
  suspend?.addEventListener('click', () => act(report, suspend, () => doSuspend(report, note.value.trim())));

  const article = el(
    'article',
    { className: 'report-main', tabIndex: -1, ariaLabelledby: idFor(report, 'title') },
    el('h2', { id: idFor(report, 'title'), className: 'report-title' }, 'Report on ', userLink(report.user_id)),
    el(
      'p',
      { className: 'report-meta' },
      el('span', { className: `report-status report-status-${report.status}` }, open ? 'Open' : 'Resolved'),
      suspended ? el('span', { className: 'report-status report-status-suspended' }, 'Suspended') : null,
      'From ',
      userLink(report.reporter_id),
      el('span', { className: 'dot', ariaHidden: 'true' }, '·'),
      time(report.created_at),
    ),
    el('p', { className: 'report-reason' }, report.reason),
    report.chirp_ids.length ? el('ul', { className: 'report-chirps', ariaLabel: 'Reported chirps' }, ...report.chirp_ids.map((id) => renderChirp(report, id))) : null,
    open ? null : resolution(report),
    el('div', { className: 'field report-note-field' }, el('label', { htmlFor: note.id }, 'Note ', el('span', { className: 'optional' }, '(optional, with Resolve or Suspend)')), note),
    el('div', { className: 'actions' }, resolve, suspend),
    answer,
  );
  return el('li', { className: `report report-${report.status}`, dataset: { reportId: report.id, userId: report.user_id } }, article);
}

function resolution(report) {
  const parts = ['Resolved '];
  if (report.resolved_at) parts.push(time(report.resolved_at));
  if (report.resolved_by) parts.push(' by ', userLink(report.resolved_by));
  if (report.resolution) parts.push(`: “${report.resolution}”`);
  return el('p', { className: 'report-resolution' }, ...parts);
}

function renderChirp(report, id) {
  const chirp = state.chirps.get(id);
  const body = chirp && chirp !== 'deleted'
    ? el('p', { className: 'report-chirp-body' }, chirp.body)
    : el('p', { className: 'report-chirp-gone' }, chirp === 'deleted' ? 'Deleted.' : 'This chirp is deleted or hidden.');
  const item = el('li', { className: 'report-chirp', dataset: { chirpId: id } }, body);
  if (chirp) item.append(el('a', { className: 'report-chirp-link', href: threadRoute(id) }, 'Its conversation'));
  if (chirp !== 'deleted') {
    const remove = el('button', { type: 'button', className: 'button button-danger button-small report-delete' }, 'Delete chirp');
    remove.addEventListener('click', () => act(report, remove, () => doDelete(id)));
    item.append(remove);
  }
  return item;
}

/** Runs one action of a report's, saying the server's answer under it. */
async function act(report, button, action) {
  if (button.disabled) return;
  button.disabled = true;
  let said;
  try {
    said = await action();
  } catch (error) {
    button.disabled = false;
    if (error.sessionExpired) onSessionLost(error);
    else answerOn(report.id, error.message, { focus: false });
    return;
  }
  // The report is drawn again; its buttons may be gone: focus goes to the report.
  answerOn(report.id, said, { focus: true });
}

function itemOf(reportId) {
  return [...ui.list.children].find((item) => item.dataset.reportId === reportId) ?? null;
}

/** Draws a report again in its place, from what is known now. */
function redraw(reportId) {
  const item = itemOf(reportId);
  const report = state.reports.get(reportId);
  if (item && report) item.replaceWith(renderReport(report));
}

function answerOn(reportId, message, { focus }) {
  const item = itemOf(reportId);
  if (!item) return;
  say(item.querySelector('.report-answer'), message);
  if (focus) item.querySelector('.report-main').focus();
}

const nameOf = (userId) => authorLabel(userId, me()).name;

async function doResolve(report, note) {
  const resolved = await api.resolveReport(report.id, note);
  if (resolved.resolved_by) await lookUp(resolved.resolved_by);
  state.reports.set(report.id, resolved);
  redraw(report.id);
  return 'Resolved.';
}

async function doSuspend(report, note) {
  const userId = report.user_id;
  await api.suspendUser(userId, note);
  state.suspended.add(userId);
  // Their chirps are hidden now: every list here lets them go, and the reports say so.
  announce('hidden', { userId });
  const theirs = [...state.reports.values()].filter((r) => r.user_id === userId);
  await Promise.all([...new Set(theirs.flatMap((r) => r.chirp_ids))].map((id) => readChirp(id).catch(() => {})));
  theirs.forEach((r) => redraw(r.id));
  return `${nameOf(userId)} is suspended: they cannot log in, and their chirps are hidden.`;
}

async function doDelete(chirpId) {
  await api.deleteAnyChirp(chirpId);
  state.chirps.set(chirpId, 'deleted');
  announce('deleted', { id: chirpId });
  for (const r of state.reports.values()) if (r.chirp_ids.includes(chirpId)) redraw(r.id);
  return 'Chirp deleted.';
}

// Names follow their profiles as they arrive.
profileEvents.addEventListener('profile', (event) => {
  const { id } = event.detail;
  for (const link of ui.list.querySelectorAll('a.author')) {
    if (link.dataset.userId === id) fillAuthor(link, id, me());
  }
});
