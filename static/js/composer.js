// A composer: a text area, its character counter, a submit button and an error line, bound to
// a form. The page's main composer, a thread's reply composer and the reply boxes that open
// under a chirp all work alike: the counter counts characters the way the server does and
// disables the button past 140, Ctrl+Enter posts, each draft keeps one Idempotency-Key (so
// pressing the button again after a failure cannot post twice), and the server's word on a
// failure shows in the error line.

import * as api from './api.js';
import { say } from './dom.js';
import { newIdempotencyKey } from './idempotency.js';
import { MAX_CHIRP_CHARS, charCount } from './text.js';

const status = () => document.getElementById('status');

/**
 * Binds `form`'s `textarea`, `counter`, `submit` and `error`. `replyTo` (an id, or a function
 * that returns the id at the moment of posting) makes each post a reply. `onPosted(chirp,
 * censored)` is called with the chirp as stored; `onSessionLost(error)` when the session is
 * found over. Returns `{ update, clear }`: redraw the counter, empty the draft.
 */
export function bindComposer({ form, textarea, counter, submit, error, replyTo = null, onPosted, onSessionLost }) {
  let wasOver = false;
  // One Idempotency-Key per draft: pressing Post again on the same text after a failure
  // reuses it, so a post that did reach the server is not posted twice.
  let draft = { text: null, parent: null, key: null };

  const parent = () => (typeof replyTo === 'function' ? replyTo() : replyTo);

  function keyFor(text, to) {
    if (draft.text !== text || draft.parent !== to) draft = { text, parent: to, key: newIdempotencyKey() };
    return draft.key;
  }

  function update() {
    const text = textarea.value;
    const count = charCount(text);
    const over = count > MAX_CHIRP_CHARS;
    // The counter is not a live region (it would speak on every key); crossing the limit is
    // announced once, in the status line.
    if (over !== wasOver) {
      say(status(), over ? `Too long to post: chirps are at most ${MAX_CHIRP_CHARS} characters.` : '');
      wasOver = over;
    }
    counter.textContent = over
      ? `${count} / ${MAX_CHIRP_CHARS}: ${count - MAX_CHIRP_CHARS} too many`
      : `${count} / ${MAX_CHIRP_CHARS}`;
    counter.classList.toggle('counter-over', over);
    counter.classList.toggle('counter-near', !over && count > MAX_CHIRP_CHARS - 20);
    textarea.setAttribute('aria-invalid', String(over));
    submit.disabled = over || text.trim() === '';
  }

  function clear() {
    draft = { text: null, parent: null, key: null };
    textarea.value = '';
    say(error, '');
    update();
  }

  textarea.addEventListener('input', update);

  // Ctrl+Enter (or Cmd+Enter) posts from the text area, as in most chat boxes.
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    update();
    if (submit.disabled) return;
    const body = textarea.value;
    const to = parent();
    say(error, '');
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const chirp = await api.postChirp(body, keyFor(body, to), to);
      draft = { text: null, parent: null, key: null };
      textarea.value = '';
      onPosted(chirp, chirp.body !== body);
    } catch (failure) {
      if (failure.sessionExpired) onSessionLost(failure);
      else if (failure.status === 404 && to) say(error, `${failure.message}: it may have been deleted.`);
      else say(error, failure.message);
    } finally {
      form.removeAttribute('aria-busy');
      update();
    }
  });

  update();
  return { update, clear };
}
