// A stand-in for someone else's web app: a page on its own origin (127.0.0.1, another port)
// whose script (site-client.js) calls the Chirpy API from the browser, so CORS applies.
// The site starts before the Chirpy server (whose CORS_ALLOWED_ORIGINS must name it), so
// it learns the API's address afterwards, through `useApi(url)`.

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'site-client.js');

const escapeAttribute = (value) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export async function startSite() {
  let apiUrl = null;
  const server = createServer(async (request, response) => {
    if (!apiUrl) {
      response.writeHead(503).end();
      return;
    }
    // Its own strict policy, allowing calls to the API: what fails then is CORS alone.
    const csp = `default-src 'self'; connect-src 'self' ${new URL(apiUrl).origin}`;
    if (request.url === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp });
      response.end(`<!doctype html>
<html lang="en" data-api="${escapeAttribute(apiUrl)}">
<head><meta charset="utf-8"><title>Another app</title><script type="module" src="/client.js"></script></head>
<body><p>A page on another origin than Chirpy's.</p></body>
</html>`);
    } else if (request.url === '/client.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Content-Security-Policy': csp });
      response.end(await readFile(CLIENT));
    } else {
      // Chromium asks every site for /favicon.ico; a 404 would be logged as an error.
      response.writeHead(request.url === '/favicon.ico' ? 204 : 404).end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    useApi(url) {
      apiUrl = url;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
