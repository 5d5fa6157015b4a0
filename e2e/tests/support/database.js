// What only an operator does, straight in the server's throwaway database with psql: making
// a user a moderator, say (the API has no way to, on purpose).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs one SQL statement on `server`'s database (from startServer); resolves to psql's output. */
export async function sql(server, statement) {
  if (!server.database) throw new Error('the server did not name its database in its ready file');
  const { stdout } = await run('psql', [server.database, '--no-psqlrc', '--quiet', '--tuples-only', '--no-align', '-v', 'ON_ERROR_STOP=1', '-c', statement]);
  return stdout.trim();
}

/** Makes the user with this id a moderator, as an operator would. */
export async function makeModerator(server, userId) {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) throw new Error(`not a user id: ${userId}`);
  await sql(server, `update users set is_moderator = true where id = '${userId}'`);
}
