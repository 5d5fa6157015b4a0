// Which chirps one has liked, as far as this page knows. A Chirp says how many like it, not
// whether one does, so the page remembers what one did here: the chirps liked or unliked
// since it opened (or since this user logged in). A like given elsewhere, or before, is not
// known and shows unpressed; pressing it then asks the server to like it again, which
// changes nothing there (likes are idempotent), and from then on it is known.

const known = new Map();

/** Whether one likes the chirp with this id, as far as this page knows. */
export function likedByMe(id) {
  return known.get(id) === true;
}

/** Remembers what the server now has: one likes it (`liked`) or not. */
export function rememberLike(id, liked) {
  known.delete(id);
  known.set(id, liked);
  // The oldest first out (a Map keeps insertion order), so a long session stays small.
  if (known.size > 5_000) known.delete(known.keys().next().value);
}

/** Someone else (or nobody) is logged in now: what was known was the last user's. */
export function forgetLikes() {
  known.clear();
}
