// A live Chirpy server for the browser tests: `chirpy serve --throwaway-db`, in a fresh temp
// dir, on a private PostgreSQL it deletes when it exits, found through the JSON line it writes
// to --ready-file once it serves. It serves the web app built into the binary. Stopped with
// SIGTERM, which also stops its cluster.
// The binary comes from CHIRPY_BIN_DIR when set; otherwise target/debug, built here. With
// CHIRPY_E2E_STATIC_DIR set (say, to static), the server reads the web app from there
// instead of its built-in copy: for trying changes to the app without a rebuild.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN_DIR = process.env.CHIRPY_BIN_DIR || join(REPO, 'target/debug');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
// .env.example names every variable the server's configuration reads: set, commented out, or
// (an alias such as DB_URL) in backticks in the prose. Each is set empty for the server, which
// counts as unset and beats any .env, so nothing from the caller's shell leaks in.
const SERVER_VARIABLES = [
  ...new Set(
    [...readFileSync(join(REPO, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=|`([A-Z][A-Z0-9_]*)`/gm)]
      .map((m) => m[1] ?? m[2]),
  ),
];

let built = false;

/**
 * `cargo build`, once per test file (it waits for cargo's lock if another build runs), unless
 * CHIRPY_BIN_DIR names prebuilt binaries or `just e2e` has built them (CHIRPY_E2E_SKIP_BUILD=1).
 */
function build() {
  if (built || process.env.CHIRPY_BIN_DIR || process.env.CHIRPY_E2E_SKIP_BUILD === '1') return;
  const result = spawnSync('cargo', ['build', '--quiet', '--bin', 'chirpy'], { cwd: REPO, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`cargo build failed (exit ${result.status ?? result.signal})`);
  built = true;
}

/**
 * Starts a server; `env` adds variables (say, ACCESS_TOKEN_TTL). Resolves to
 * `{ url, database, stop(), log() }` once it serves: `database` is its throwaway database's
 * URL, for what only an operator does (see database.js).
 */
export async function startServer({ env = {} } = {}) {
  build();
  const dir = await mkdtemp(join(tmpdir(), 'chirpy-e2e-'));
  const readyFile = join(dir, 'ready.json');
  const child = spawn(join(BIN_DIR, 'chirpy'), ['serve', '--throwaway-db', '--ready-file', readyFile], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      ...Object.fromEntries(SERVER_VARIABLES.map((name) => [name, ''])),
      HOST: '127.0.0.1',
      PORT: '0',
      RUST_LOG: 'info',
      NO_COLOR: '1',
      // The tests sign up and post faster than any one person may.
      RATE_LIMITS: 'off',
      ...(process.env.CHIRPY_E2E_STATIC_DIR ? { STATIC_DIR: resolve(process.env.CHIRPY_E2E_STATIC_DIR) } : {}),
      ...env,
    },
  });

  let output = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  let exited = null;
  const exit = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolveExit(exited);
    });
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
    const ready = await waitReady(readyFile, () => exited, () => output);
    assert.equal(ready.pid, child.pid, `the ready file names pid ${ready.pid}, not the server's ${child.pid}`);
    return { url: ready.url, database: ready.database, stop, log: () => output };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The ready file's JSON, once the server has written it; fails if the server exits first. */
async function waitReady(path, exited, output) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      // The server writes the file whole (renamed into place), so present means complete.
      return JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    const exit = exited();
    if (exit) throw new Error(`chirpy exited (${exit.code ?? exit.signal}) before it was ready:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`chirpy was not ready in ${START_TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops `server` (if it started) and fails the suite unless it exited 0 on SIGTERM. */
export async function stopCleanly(server) {
  const exit = await server?.stop();
  if (exit) assert.deepEqual(exit, { code: 0, signal: null }, `chirpy did not exit cleanly:\n${server.log()}`);
}
