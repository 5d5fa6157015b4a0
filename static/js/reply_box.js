// The reply box that Reply opens under a chirp: a composer like the main one (the same
// counter, limit, Idempotency-Key per draft and error line; see composer.js) whose posts
// answer that chirp. Cancel or Escape closes it, and focus goes back to the Reply button;
// so does posting, after which the parent's reply count is read again.

import { refreshCounts } from './chirp_actions.js';
import { announce } from './chirp_events.js';
import { bindComposer } from './composer.js';
import { el, say } from './dom.js';
import { getSession } from './session.js';

let opened = 0;
let onSessionLost = () => {};

/** `sessionLost(error)` is called when a reply finds the session over. */
export function startReplyBoxes({ sessionLost }) {
  onSessionLost = sessionLost;
}

/** Opens the reply box under `item` (the chirp's list item), or closes it if it is open. */
export function toggleReplyBox(chirp, button, item) {
  const open = item.querySelector('.reply-box');
  if (open) {
    close(open, button);
    return;
  }
  const n = ++opened;
  const id = (part) => `reply-${n}-${part}`;
  const name = item.querySelector('.author .author-name')?.textContent ?? 'this chirp';
  const textarea = el('textarea', {
    id: id('body'),
    name: 'body',
    rows: 2,
    placeholder: 'Say something in 140 characters or fewer',
    ariaDescribedby: id('counter'),
  });
  const counter = el('span', { id: id('counter'), className: 'counter' }, '0 / 140');
  const submit = el('button', { type: 'submit', className: 'button button-primary button-small' }, 'Reply');
  const cancel = el('button', { type: 'button', className: 'button button-quiet button-small' }, 'Cancel');
  const error = el('p', { className: 'form-error', role: 'alert' });
  const form = el(
    'form',
    { id: id('form'), className: 'composer reply-box', noValidate: true },
    el('label', { htmlFor: id('body'), className: 'composer-label' }, `Reply to ${name}`),
    textarea,
    el('div', { className: 'composer-footer' }, counter, cancel, submit),
    error,
  );

  bindComposer({
    form,
    textarea,
    counter,
    submit,
    error,
    replyTo: chirp.id,
    onPosted(reply, censored) {
      say(document.getElementById('status'), censored ? 'Reply posted, with some words replaced by ****.' : 'Reply posted.');
      close(form, button);
      announce('posted', reply);
      refreshCounts(chirp.id);
    },
    onSessionLost: (failure) => onSessionLost(failure),
  });
  cancel.addEventListener('click', () => close(form, button));
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    close(form, button);
  });

  button.setAttribute('aria-expanded', 'true');
  button.setAttribute('aria-controls', form.id);
  item.append(form);
  textarea.focus();
}

function close(form, button) {
  const hadFocus = form.contains(document.activeElement);
  form.remove();
  button.setAttribute('aria-expanded', 'false');
  button.removeAttribute('aria-controls');
  if ((hadFocus || document.activeElement === document.body) && button.isConnected && getSession()) button.focus();
}
