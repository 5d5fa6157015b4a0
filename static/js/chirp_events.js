// What happens to chirps on this page, for every list that shows them (the feed, a thread,
// search results) to follow:
// - `posted` (detail: the chirp): one posted it here, in any composer;
// - `deleted` (detail: the chirp): one deleted it here;
// - `liked` (detail: `{ id, liked }`): one liked it, or took the like back, here;
// - `counts` (detail: the chirp): its like and reply counts as the server has them now;
// - `hidden` (detail: `{ userId }`): every chirp by this user is hidden now (a moderator
//   suspended them here).
// Chirps posted and deleted elsewhere come through the live streams instead (feed_view.js).

export const chirpEvents = new EventTarget();

export function announce(type, detail) {
  chirpEvents.dispatchEvent(new CustomEvent(type, { detail }));
}
