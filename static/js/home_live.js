// The live home timeline: GET /api/timelines/home/stream, Server-Sent Events that need the
// access token. EventSource cannot send an Authorization header, and a token must never go
// in a URL (it would be logged), so the stream is read with fetch() and parsed by sse.js.
// What EventSource does by itself is done here: reconnect after a drop, sending
// Last-Event-ID so the server replays what was missed. Besides, the server ends the stream
// when the access token expires: the next connection then gets a 401, and api.js refreshes
// the token (as for any other call) and connects again with Last-Event-ID. A 503 (too many
// streams open, or a server shutting down) is retried 15 seconds later, as live.js does.

import { openAuthedStream } from './api.js';
import { SseParser } from './sse.js';

const STREAM = '/api/timelines/home/stream';
const OPEN_TIMEOUT_MS = 3_000;
const RETRY_REFUSED_MS = 15_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;
// A stream that lasted at least this long ended normally (its token expired, say) and is
// reopened at once; shorter ones back off, so a server that keeps ending it is not hammered.
const HEALTHY_MS = 1_000;

/**
 * Follows the home timeline. Callbacks:
 * - `onCreated(chirp)`, `onDeleted(id)`: a chirp by oneself or by someone one follows;
 * - `onFollowed(edge)`, `onUnfollowed(edge)`: `{ follower_id, followee_id }`, one's own
 *   follows, made here or on any other device;
 * - `onNotification(data)`: one of one's own notifications, `{ id, type, actor_id, chirp_id }`;
 * - `onState(live)`: whether the stream is open now;
 * - `onSubscribed()`: a stream from "now" is listening, so a list loaded from now on misses
 *   nothing (resumed streams replay instead, and do not call it); also called if the first
 *   stream cannot open, so the list loads regardless;
 * - `onSessionLost(error)`: the refresh token was refused too; the session is over.
 * Returns `close()`.
 */
export function followHome({ onCreated, onDeleted, onFollowed, onUnfollowed, onNotification, onState, onSubscribed, onSessionLost }) {
  const controller = new AbortController();
  let closed = false;
  let lastEventId = '';
  let everSubscribed = false;
  let failures = 0;
  let retryTimer = null;

  const subscribe = () => {
    clearTimeout(openTimer);
    everSubscribed = true;
    onSubscribed();
  };
  // A stream stuck before its answer must not keep the list from loading.
  const openTimer = setTimeout(() => {
    if (!everSubscribed) subscribe();
  }, OPEN_TIMEOUT_MS);

  const handlers = {
    'chirp.created': (data) => onCreated(data),
    'chirp.deleted': (data) => onDeleted(data.id),
    'follow.created': (data) => onFollowed(data),
    'follow.deleted': (data) => onUnfollowed(data),
    notification: (data) => onNotification(data),
  };

  function later(delay) {
    if (!closed) retryTimer = setTimeout(connect, delay);
  }

  function backoff() {
    failures += 1;
    return Math.min(RETRY_MIN_MS * 2 ** (failures - 1), RETRY_MAX_MS);
  }

  async function connect() {
    const resuming = lastEventId !== '';
    let response;
    try {
      response = await openAuthedStream(STREAM, {
        headers: resuming ? { 'Last-Event-ID': lastEventId } : {},
        signal: controller.signal,
      });
    } catch (error) {
      if (error.sessionExpired) {
        onSessionLost(error);
        return;
      }
      if (closed) return;
      if (!everSubscribed) subscribe();
      if (error.status === 400 && resuming) {
        // The server cannot resume from there (the events are too old): start from now.
        lastEventId = '';
        later(0);
      } else if (error.status === 503) {
        later(Math.max(RETRY_REFUSED_MS, (error.retryAfter ?? 0) * 1000));
      } else {
        later(backoff());
      }
      return;
    }

    const opened = Date.now();
    onState(true);
    if (!resuming) subscribe();
    const parser = new SseParser(lastEventId);
    try {
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          let data;
          try {
            data = JSON.parse(event.data);
          } catch {
            continue; // not an event of ours
          }
          handlers[event.type]?.(data);
        }
        lastEventId = parser.lastEventId;
      }
    } catch {
      // Dropped (or closed: then `closed` says so below).
    }
    lastEventId = parser.lastEventId;
    if (closed) return;
    onState(false);
    if (Date.now() - opened >= HEALTHY_MS) {
      failures = 0;
      later(parser.retry ?? 0);
    } else {
      later(Math.max(parser.retry ?? 0, backoff()));
    }
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(openTimer);
      clearTimeout(retryTimer);
      controller.abort();
      onState(false);
    },
  };
}
