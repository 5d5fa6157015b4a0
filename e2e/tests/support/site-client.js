// Served by site.js to a page on another origin than the API's: a minimal third-party
// client. Everything here runs under that page's origin, so the browser applies CORS.

const api = document.documentElement.dataset.api;

/**
 * One API call. Resolves to what a script may read of the answer (the status, the body,
 * and the ETag and Link headers, readable only if the server exposes them); rejects when
 * the browser refuses to hand the answer over.
 */
async function call(path, { method = 'GET', body, token, headers = {} } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  if (token) sent.Authorization = `Bearer ${token}`;
  const response = await fetch(`${api}${path}`, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    etag: response.headers.get('ETag'),
    link: response.headers.get('Link'),
    body: text ? JSON.parse(text) : null,
  };
}

/** `chirp.created` events received by `follow()` so far. */
const events = [];

/** Opens the live stream; resolves once it is open, rejects if the browser refuses it. */
function follow() {
  const source = new EventSource(`${api}/api/chirps/stream`);
  source.addEventListener('chirp.created', (event) => events.push({ id: event.lastEventId, chirp: JSON.parse(event.data) }));
  return new Promise((resolve, reject) => {
    source.addEventListener('open', () => resolve(true), { once: true });
    source.addEventListener('error', () => {
      source.close();
      reject(new Error('the event stream was refused'));
    }, { once: true });
  });
}

window.otherApp = { call, follow, events };
document.documentElement.dataset.ready = 'true';
