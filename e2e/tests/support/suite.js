// What every web-app test file sets up the same way: one server on its own database, an API
// client for it and one Chromium, started before the file's tests and stopped after them.

import { mkdir } from 'node:fs/promises';
import { after, before } from 'node:test';

import { createApi } from './api.js';
import { SCREENSHOTS, inApp, launchBrowser } from './browser.js';
import { startServer, stopCleanly } from './server.js';

/**
 * Registers the file's `before`/`after` hooks and returns `{ server, api, browser, inApp }`,
 * filled in once the hooks have run; `env` adds server variables (say, ACCESS_TOKEN_TTL).
 * `inApp(t, steps, options)` is `browser.js`'s, on this suite's browser and server.
 */
export function appSuite({ env = {} } = {}) {
  const suite = {
    inApp: (t, steps, options = {}) => inApp(suite.browser, suite.server.url, t, steps, options),
  };
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    suite.server = await startServer({ env });
    suite.api = createApi(suite.server.url);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await stopCleanly(suite.server);
  });
  return suite;
}
