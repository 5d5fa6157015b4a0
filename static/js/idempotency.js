// Posting safely more than once. A POST that failed without a clear "no" (no answer at all,
// a 5xx, or a 409 because the same key is still being handled) may or may not have reached
// the server, so it is sent once more with the same Idempotency-Key: the server posts it
// at most once and replays the first answer to the retry.

const DEFAULT_PAUSE_MS = 500;
const MAX_PAUSE_MS = 5_000;

/**
 * A fresh key, a random (v4) UUID. crypto.randomUUID exists only in secure contexts (https,
 * localhost); getRandomValues works everywhere, so the app still posts over plain http.
 */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Failures after which the request may have been handled, or will be if asked again. */
function worthRetrying(error) {
  if (error.sessionExpired) return false;
  return error.status === 0 || error.status === 409 || error.status >= 500;
}

/** Runs `attempt`, and once more after a pause if it failed in a way worth retrying. */
export async function retryOnce(attempt) {
  try {
    return await attempt();
  } catch (error) {
    if (!worthRetrying(error)) throw error;
    // The server's Retry-After when it gave one, within reason: a person is waiting.
    const pause = error.retryAfter > 0 ? Math.min(error.retryAfter * 1000, MAX_PAUSE_MS) : DEFAULT_PAUSE_MS;
    await new Promise((resolve) => setTimeout(resolve, pause));
    return attempt();
  }
}
