// A live Chirpy server for the browser tests: the debug binary, run in a fresh temp dir so
// that it creates its own PostgreSQL cluster under <tmp>/.data/postgres (no DATABASE_URL),
// and serves the source tree's static/ (the temp dir has none: see static_dir() in
// src/startup.rs). Stopped with SIGTERM, which also stops its cluster, then deleted.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BINARY = join(REPO, 'target/debug/chirpy');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

let built = false;

/**
 * `cargo build`, once per test file (it waits for cargo's lock if another build runs);
 * `just e2e` builds before the tests and sets CHIRPY_E2E_SKIP_BUILD=1.
 */
function build() {
  if (built || process.env.CHIRPY_E2E_SKIP_BUILD === '1') return;
  const result = spawnSync('cargo', ['build', '--quiet', '--bin', 'chirpy'], { cwd: REPO, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`cargo build failed (exit ${result.status ?? result.signal})`);
  built = true;
}

/**
 * Starts a server; `env` adds variables (say, ACCESS_TOKEN_TTL). Resolves to
 * `{ url, stop(), log() }` once GET /api/healthz answers OK.
 */
export async function startServer({ env = {} } = {}) {
  build();
  const dir = await mkdtemp(join(tmpdir(), 'chirpy-e2e-'));
  // As root the cluster runs as `postgres`, which must be able to reach the directory.
  await chmod(dir, 0o755);

  const child = spawn(BINARY, [], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      // Empty counts as unset, and beats any .env: the embedded database, dev secrets.
      DATABASE_URL: '',
      DB_URL: '',
      JWT_SECRET: '',
      TOKEN_STRING: '',
      POLKA_KEY: '',
      PLATFORM: 'dev',
      HOST: '127.0.0.1',
      PORT: '0',
      RUST_LOG: 'info',
      NO_COLOR: '1',
      ...env,
    },
  });

  let output = '';
  let exited = null;
  const exit = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolveExit(exited);
    });
  });
  const address = new Promise((resolveAddress, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/[^\s]+)/);
      if (match) resolveAddress(match[1]);
    });
    exit.then(({ code, signal }) =>
      reject(new Error(`chirpy exited (${code ?? signal}) before listening:\n${output}`)));
  });

  async function stop() {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
    return exited;
  }

  try {
    const url = await withTimeout(address, START_TIMEOUT_MS, () => `chirpy did not start:\n${output}`);
    await waitHealthy(url);
    return { url, stop, log: () => output };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitHealthy(url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(`${url}/api/healthz`);
      if (response.ok && (await response.text()) === 'OK') return;
    } catch {
      // Not accepting connections yet.
    }
    if (Date.now() > deadline) throw new Error(`${url}/api/healthz never answered OK`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(message())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Stops `server` (if it started) and fails the suite unless it exited 0 on SIGTERM. */
export async function stopCleanly(server) {
  const exit = await server?.stop();
  if (exit) assert.deepEqual(exit, { code: 0, signal: null }, `chirpy did not exit cleanly:\n${server.log()}`);
}
