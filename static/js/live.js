// The live feed: chirps posted and deleted elsewhere, as it happens, from
// GET /api/chirps/stream (Server-Sent Events). After a dropped connection EventSource
// reconnects by itself and sends Last-Event-ID, and the server replays what was missed.
// Only when the server refuses the stream (503: too many open) does EventSource give up;
// then a new one is tried a little later.

const OPEN_TIMEOUT_MS = 3_000;
const RETRY_REFUSED_MS = 15_000;

/**
 * Follows chirps by `authorId` (or everyone's when null). Callbacks:
 * - `onCreated(chirp)`, `onDeleted(id)`: one per event;
 * - `onState(live)`: whether the stream is open now;
 * - `onSubscribed()`: the stream is listening, so a list loaded from now on misses nothing
 *   (later chirps arrive as events). Called once per new stream, because a new stream starts
 *   from "now"; also called if the first stream cannot open, so the list loads regardless.
 * Returns `close()`.
 */
export function followChirps(authorId, { onCreated, onDeleted, onState, onSubscribed }) {
  const url = authorId ? `/api/chirps/stream?${new URLSearchParams({ author_id: authorId })}` : '/api/chirps/stream';
  let source = null;
  let openTimer = null;
  let retryTimer = null;
  let everSubscribed = false;

  function open() {
    let subscribed = false;
    const subscribe = () => {
      clearTimeout(openTimer);
      if (subscribed) return;
      subscribed = true;
      everSubscribed = true;
      onSubscribed();
    };
    // A stream stuck before its first byte (all of the browser's connections to this server
    // busy, say) must not keep the list from loading.
    openTimer = setTimeout(() => {
      if (!everSubscribed) subscribe();
    }, OPEN_TIMEOUT_MS);

    source = new EventSource(url);
    source.addEventListener('open', () => {
      onState(true);
      subscribe();
    });
    source.addEventListener('error', () => {
      onState(false);
      if (source.readyState !== EventSource.CLOSED) return; // reconnecting on its own
      if (!everSubscribed) subscribe();
      retryTimer = setTimeout(open, RETRY_REFUSED_MS);
    });
    source.addEventListener('chirp.created', (event) => onCreated(JSON.parse(event.data)));
    source.addEventListener('chirp.deleted', (event) => onDeleted(JSON.parse(event.data).id));
  }

  open();
  return {
    close() {
      clearTimeout(openTimer);
      clearTimeout(retryTimer);
      source.close();
      onState(false);
    },
  };
}
