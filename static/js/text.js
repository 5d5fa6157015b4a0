// Small pure helpers for text: counting characters the way the server does, short ids
// and friendly times.

/** The longest chirp the server accepts, in characters. */
export const MAX_CHIRP_CHARS = 140;

/**
 * The number of characters in `text` as the server counts them: Unicode scalar values.
 * `text.length` counts UTF-16 code units instead, so an emoji would count twice; spreading
 * the string iterates by code point.
 */
export function charCount(text) {
  return [...text].length;
}

/** A user who has neither a display name nor a handle is known by the start of their id. */
export function shortId(uuid) {
  return uuid.slice(0, 8);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** The full date and time, for a tooltip. */
export function fullTime(date) {
  return absolute.format(date);
}

/** "just now", "5 min. ago", "3 hr. ago", then "Nov 24". */
export function friendlyTime(date, now = new Date()) {
  const seconds = Math.round((now - date) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return relative.format(-minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 24) return relative.format(-hours, 'hour');
  return dayOnly.format(date);
}
