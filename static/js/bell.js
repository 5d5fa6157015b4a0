// The bell in the header, logged in: a link to one's notifications (#/notifications) with the
// unread count beside it (from unread.js), which stays hidden at zero. Its accessible name
// says the count too ("Notifications 3 unread").

import { el, show } from './dom.js';
import { unreadEvents } from './unread.js';

const bell = document.getElementById('bell');
const badge = document.getElementById('bell-count');

/** What the badge shows: the count, up to 99. */
const shown = (count) => (count > 99 ? '99+' : String(count));

function paint(count) {
  const unread = typeof count === 'number' && count > 0;
  show(badge, unread);
  badge.replaceChildren(...(unread ? [shown(count), el('span', { className: 'visually-hidden' }, ' unread')] : []));
  bell.dataset.unread = String(unread ? count : 0);
}

unreadEvents.addEventListener('count', (event) => paint(event.detail));

/** Marks the bell as the current page's link (on #/notifications) or not. */
export function bellCurrent(current) {
  if (current) bell.setAttribute('aria-current', 'page');
  else bell.removeAttribute('aria-current');
}

paint(null);
