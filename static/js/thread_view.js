// A chirp's thread, `#/chirp/<id>`, from GET /api/chirps/{id}/thread: the chain of chirps it
// answers (oldest first; the server gives the 50 nearest, and **Show earlier chirps** opens
// the thread of the first of them to read further up), the chirp itself, highlighted, a
// reply composer when logged in, and its direct replies, oldest first, a page at a time
// (**More replies** follows the `Link` header). A deleted chirp ends the chain: nothing above
// it is shown, and the chirp below it says it replied to a deleted chirp.

import * as api from './api.js';
import { deleteChirp, refreshCounts } from './chirp_actions.js';
import { chirpEvents, announce } from './chirp_events.js';
import { bindComposer } from './composer.js';
import { say, show } from './dom.js';
import { authorLabel, findChirp, placeChirp, renderChirp } from './feed.js';
import { lookUpAuthors, profileEvents } from './profiles.js';
import { threadRoute } from './routes.js';
import { getSession } from './session.js';

const $ = (id) => document.getElementById(id);

const ui = {
  heading: $('thread-heading'),
  message: $('thread-message'),
  earlier: $('thread-earlier'),
  chain: $('thread-chain'),
  replyCard: $('thread-reply'),
  replyForm: $('thread-reply-form'),
  replyLabel: $('thread-reply-label'),
  replyBody: $('thread-reply-body'),
  replyCounter: $('thread-reply-counter'),
  replySubmit: $('thread-reply-submit'),
  replyError: $('thread-reply-error'),
  repliesSection: $('thread-replies-section'),
  repliesMessage: $('thread-replies-message'),
  replies: $('thread-replies'),
  more: $('thread-more'),
  status: $('status'),
};

/**
 * The thread shown: `id` the chirp it is about; `thread` the server's answer (its `ancestors`
 * cut where one was deleted since), or null while it loads or when there is none; `next`
 * the URL of the next page of replies.
 */
const state = { id: null, thread: null, next: null };
let generation = 0;
let onSessionLost = () => {};

const me = () => getSession()?.user ?? null;

/** Starts the view: `sessionLost(error)` is called when a request finds the session over. */
export function startThreads({ sessionLost }) {
  onSessionLost = sessionLost;
}

const composer = bindComposer({
  form: ui.replyForm,
  textarea: ui.replyBody,
  counter: ui.replyCounter,
  submit: ui.replySubmit,
  error: ui.replyError,
  replyTo: () => state.id,
  onPosted(reply, censored) {
    say(ui.status, censored ? 'Reply posted, with some words replaced by ****.' : 'Reply posted.');
    announce('posted', reply);
    refreshCounts(reply.reply_to);
  },
  onSessionLost: (error) => onSessionLost(error),
});

/**
 * Shows the thread of the chirp with this id. Resolves once it is drawn (or found missing),
 * to whether there is one; to undefined when another was asked for meanwhile.
 */
export async function openThread(id) {
  const mine = ++generation;
  if (state.id !== id) {
    state.thread = null;
    state.next = null;
    ui.chain.replaceChildren();
    ui.replies.replaceChildren();
    show(ui.earlier, false);
    show(ui.repliesSection, false);
    show(ui.replyCard, false);
    composer.clear();
  }
  state.id = id;
  ui.heading.textContent = 'Conversation';
  say(ui.message, '');
  ui.chain.setAttribute('aria-busy', 'true');
  let page;
  try {
    page = await api.getThread(id);
    const { ancestors, chirp, replies } = page.items;
    await lookUpAuthors([...ancestors, chirp, ...replies]);
  } catch (error) {
    if (mine !== generation) return undefined;
    ui.chain.removeAttribute('aria-busy');
    state.thread = null;
    ui.chain.replaceChildren();
    ui.replies.replaceChildren();
    show(ui.earlier, false);
    show(ui.repliesSection, false);
    show(ui.replyCard, false);
    if (error.sessionExpired) onSessionLost(error);
    if (error.status === 404) {
      ui.heading.textContent = 'Chirp not found';
      say(ui.message, 'No chirp has this id: it may have been deleted.');
    } else {
      say(ui.message, `Could not load the conversation: ${error.message}`);
    }
    return false;
  }
  if (mine !== generation) return undefined;
  ui.chain.removeAttribute('aria-busy');
  state.thread = page.items;
  state.next = page.next;
  drawChain();
  ui.replies.replaceChildren(...page.items.replies.map((reply) => renderReply(reply)));
  show(ui.more, Boolean(state.next));
  show(ui.repliesSection, true);
  updateRepliesMessage();
  drawComposer();
  return true;
}

/** Forgets the thread shown (the page shows something else now). */
export function closeThread() {
  generation += 1;
  state.id = null;
  state.thread = null;
  state.next = null;
  ui.chain.replaceChildren();
  ui.replies.replaceChildren();
  composer.clear();
}

/** The ancestors, oldest first, then the chirp; each reply names whom it answers. */
function drawChain() {
  const { ancestors, more_ancestors: more, chirp } = state.thread;
  const chain = [...ancestors, chirp];
  // What the first link answers: further up (more_ancestors), or a chirp deleted since.
  const top = (link) => (link.reply_to && !more ? 'deleted' : undefined);
  ui.chain.replaceChildren(
    ...chain.map((link, i) => {
      const replyingTo = i === 0 ? top(link) : { userId: chain[i - 1].user_id };
      if (link === chirp) return renderChirp(link, { me: me(), onDelete, replyingTo, highlight: true, onReply: focusComposer });
      return renderChirp(link, { me: me(), onDelete, replyingTo });
    }),
  );
  show(ui.earlier, more && ancestors.length > 0);
  if (more && ancestors.length) ui.earlier.href = threadRoute(ancestors[0].id);
}

function renderReply(reply) {
  return renderChirp(reply, { me: me(), onDelete, replyingTo: { userId: state.thread.chirp.user_id } });
}

function drawComposer() {
  const user = me();
  show(ui.replyCard, Boolean(user) && Boolean(state.thread));
  if (!state.thread) return;
  ui.replyLabel.textContent = `Reply to ${authorLabel(state.thread.chirp.user_id, user).name}`;
}

function updateRepliesMessage() {
  say(ui.repliesMessage, ui.replies.children.length ? '' : 'No replies yet.');
}

/** The highlighted chirp's Reply: the composer is right below it. */
function focusComposer() {
  ui.replyBody.focus();
}

async function loadMore() {
  if (!state.next || ui.more.disabled) return;
  const mine = generation;
  ui.more.disabled = true;
  ui.replies.setAttribute('aria-busy', 'true');
  let page = null;
  let failure = null;
  try {
    page = await api.nextPage(state.next);
    await lookUpAuthors(page.items.replies);
  } catch (error) {
    failure = error;
  }
  ui.more.disabled = false;
  ui.replies.removeAttribute('aria-busy');
  if (mine !== generation) return;
  if (failure) {
    if (failure.sessionExpired) onSessionLost(failure);
    else say(ui.status, `Could not load more replies: ${failure.message}`);
    return;
  }
  let first = null;
  for (const reply of page.items.replies) {
    if (findChirp(ui.replies, reply.id)) continue;
    const item = renderReply(reply);
    // In their place: one's own reply, posted meanwhile, is already at the end.
    placeChirp(ui.replies, item, 'asc');
    first ??= item;
  }
  state.next = page.next;
  show(ui.more, Boolean(state.next));
  updateRepliesMessage();
  // Reading goes on from the first new reply (the button may be gone).
  if (first) first.querySelector('.author').focus();
  else if (!state.next) ui.heading.focus();
}

ui.more.addEventListener('click', loadMore);

async function onDelete(chirp, button) {
  if (await deleteChirp(chirp, button)) ui.heading.focus();
}

// One's own reply to this chirp, from the composer here or a reply box: among the replies.
chirpEvents.addEventListener('posted', (event) => {
  const reply = event.detail;
  if (!state.thread || reply.reply_to !== state.id || findChirp(ui.replies, reply.id)) return;
  placeChirp(ui.replies, renderReply(reply), 'asc');
  updateRepliesMessage();
});

// A chirp deleted here: a reply goes; the chirp itself leaves its replies; an ancestor ends
// the chain where it was.
chirpEvents.addEventListener('deleted', (event) => {
  const { id } = event.detail;
  if (!state.thread) return;
  const reply = findChirp(ui.replies, id);
  if (reply) {
    reply.remove();
    updateRepliesMessage();
    return;
  }
  if (id === state.thread.chirp.id) {
    findChirp(ui.chain, id)?.remove();
    show(ui.replyCard, false);
    say(ui.message, 'This chirp is deleted. Its replies stay.');
    return;
  }
  const at = state.thread.ancestors.findIndex((ancestor) => ancestor.id === id);
  if (at < 0) return;
  state.thread = { ...state.thread, ancestors: state.thread.ancestors.slice(at + 1), more_ancestors: false };
  drawChain();
});

// Counts kept current by their own events (feed.js); names follow their profiles.
profileEvents.addEventListener('profile', () => {
  if (state.thread) drawComposer();
});
