// The whole Chirpy user journey through a TypeScript client generated from
// openapi/openapi.yaml (openapi-typescript types + openapi-fetch calls), type-checked with
// `tsc --strict`. Every call names its path and method as the spec does, so a renamed
// route, a changed field or a missing status fails to compile or fails here. The live
// streams (Server-Sent Events: the chirps feed and the home timeline's) are requested the
// same way, typed, but their bodies are read as streams and parsed here: the generator has
// no notion of event streams. Reads that may come from a replica (threads, searches) wait
// out its lag; with one server there is none.
// Usage: node dist/journey.js BASE_URL POLKA_KEY
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

const [baseUrl, polkaKey] = process.argv.slice(2);
if (!baseUrl || !polkaKey) {
  console.error("usage: node dist/journey.js BASE_URL POLKA_KEY");
  process.exit(2);
}

const api = createClient<paths>({ baseUrl });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function assertStatus(response: Response, status: number): void {
  assert.equal(response.status, status, `${response.url}: expected ${status}, got ${response.status}`);
}

/** Asserts a success status and returns the body, typed as the spec's success response. */
function ok<T>(result: { data?: T; response: Response }, status: number): T {
  assertStatus(result.response, status);
  assert.ok(result.data !== undefined, `${result.response.url}: no body`);
  return result.data;
}

/** Asserts an error status and returns the body, typed as the spec's error response. */
function fails<E>(result: { error?: E; response: Response }, status: number): E {
  assertStatus(result.response, status);
  assert.ok(result.error !== undefined, `${result.response.url}: no error body`);
  return result.error;
}

function expectEmpty(result: { response: Response }, status: number): void {
  assertStatus(result.response, status);
  assert.equal(result.response.headers.get("content-length") ?? "0", "0");
}

type Chirp = components["schemas"]["Chirp"];
/** One event of a stream whose data the spec types as `D`. */
interface StreamEvent<D> {
  id: string;
  event: string;
  data: D;
}

/** How long an event may take to arrive after the change that causes it. */
const EVENT_WITHIN_MS = 2_000;

/** One event from the text between two blank lines; null for comments (heartbeats) alone. */
function parseEvent<D>(block: string): StreamEvent<D> | null {
  const fields = new Map<string, string>();
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    const previous = fields.get(name);
    fields.set(name, name === "data" && previous !== undefined ? `${previous}\n${value}` : value);
  }
  const data = fields.get("data");
  if (data === undefined) return null;
  return { id: fields.get("id") ?? "", event: fields.get("event") ?? "message", data: JSON.parse(data) };
}

/** GET /api/chirps/stream, for one author, read event by event as it arrives. */
async function openStream(authorId: string, lastEventId?: string) {
  const controller = new AbortController();
  const { data, response } = await api.GET("/api/chirps/stream", {
    params: { query: { author_id: authorId }, header: lastEventId === undefined ? {} : { "Last-Event-ID": lastEventId } },
    parseAs: "stream",
    signal: controller.signal,
  });
  return readEvents<components["schemas"]["ChirpEventData"]>(data, response, controller);
}

/** GET /api/timelines/home/stream, as the holder of `token`, read event by event. */
async function openHomeStream(token: string, lastEventId?: string) {
  const controller = new AbortController();
  const { data, response } = await api.GET("/api/timelines/home/stream", {
    headers: bearer(token),
    params: { header: lastEventId === undefined ? {} : { "Last-Event-ID": lastEventId } },
    parseAs: "stream",
    signal: controller.signal,
  });
  return readEvents<components["schemas"]["HomeEventData"]>(data, response, controller);
}

/** An open event stream's events, one at a time; `close` aborts the request. */
function readEvents<D>(data: ReadableStream<Uint8Array> | undefined | null, response: Response, controller: AbortController) {
  assertStatus(response, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  assert.ok(data, "no stream");
  const reader = data.getReader();
  const decoder = new TextDecoder();
  let buffer = "";

  /** The next event, within EVENT_WITHIN_MS. (The server ends lines with LF.) */
  async function next(): Promise<StreamEvent<D>> {
    const deadline = Date.now() + EVENT_WITHIN_MS;
    for (;;) {
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const event = parseEvent<D>(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) return event;
      }
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${EVENT_WITHIN_MS} ms`)), deadline - Date.now());
      });
      try {
        const chunk = await Promise.race([reader.read(), expired]);
        if (chunk.done) throw new Error("the stream ended");
        buffer += decoder.decode(chunk.value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
    }
  }

  return { next, close: () => controller.abort() };
}

function isChirp(data: components["schemas"]["HomeEventData"]): data is Chirp {
  return "body" in data;
}

/** The query of the `Link: <...>; rel="next"` URL, or null on the last page. */
function nextPage(response: Response): URLSearchParams | null {
  const link = response.headers.get("link");
  if (link === null) return null;
  const found = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  assert.ok(found?.[1] !== undefined, `a Link header without rel=next: ${link}`);
  return new URL(found[1], baseUrl).searchParams;
}

/** A timestamp as a key that sorts as time does (RFC 3339 UTC, fractions of any length). */
function timeKey(timestamp: string): string {
  const [whole, fraction = ""] = timestamp.replace(/Z$/, "").split(".");
  return `${whole}.${fraction.padEnd(9, "0")}`;
}

/** The ids in the home timeline's order: newest first, ties broken by id (descending). */
function newestFirst(chirps: Chirp[]): string[] {
  const key = (c: Chirp) => `${timeKey(c.created_at)} ${c.id}`;
  return [...chirps].sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0)).map((c) => c.id);
}

const suffix = randomUUID().slice(0, 12);
const email = `walt-${suffix}@example.com`;
const password = "say my name";

// Sign up two users, each with a handle (kept as typed), log in as the first.
const waltHandle = `Heisenberg_${suffix.replace(/-/g, "")}`;
const walt = ok(await api.POST("/api/users", { body: { email, password, handle: waltHandle } }), 201);
assert.ok(walt.email === email && walt.is_chirpy_red === false && walt.handle === waltHandle);
assert.deepEqual([walt.display_name, walt.bio], ["", ""]);
const jesseHandle = `cap_n_${suffix.replace(/-/g, "")}`;
const jesse = ok(
  await api.POST("/api/users", { body: { email: `jesse-${suffix}@example.com`, password: "yo", handle: jesseHandle } }),
  201,
);
assert.equal(jesse.handle, jesseHandle);
const taken = fails(await api.POST("/api/users", { body: { email: email.toUpperCase(), password: "x" } }), 409);
assert.deepEqual(taken, { error: "Email is already taken" });
// Handles are unique in any letter case.
const skyler = { email: `skyler-${suffix}@example.com`, password: "x", handle: waltHandle.toLowerCase() };
fails(await api.POST("/api/users", { body: skyler }), 409);
const wrong = await api.POST("/api/login", { body: { email, password: "wrong" } });
assert.deepEqual(fails(wrong, 401), { error: "Incorrect email or password" });

const login = await api.POST("/api/login", { body: { email, password } });
let session = ok(login, 200);
assert.ok(session.id === walt.id && session.refresh_token.length === 64);
const jesseSession = ok(await api.POST("/api/login", { body: { email: jesse.email, password: "yo" } }), 200);

// Post chirps; one too long gets the typed 400.
const post = (token: string, body: string) => api.POST("/api/chirps", { headers: bearer(token), body: { body } });
const first = ok(await post(session.token, "Say my name. What a kerfuffle!"), 201);
assert.equal(first.body, "Say my name. What a ****!");
assert.equal(first.user_id, walt.id);
const second = ok(await post(session.token, "é".repeat(140)), 201);
assert.deepEqual(fails(await post(session.token, "é".repeat(141)), 400), { error: "Chirp is too long" });
const theirs = ok(await post(jesseSession.token, "Yeah, science!"), 201);
fails(await api.POST("/api/chirps", { body: { body: "anonymous" } }), 401);

// List by author, newest first; get one.
const mine = await api.GET("/api/chirps", { params: { query: { author_id: walt.id, sort: "desc" } } });
assert.deepEqual(
  (ok(mine, 200)).map((c) => c.id),
  [second.id, first.id],
);
const everyone = ok(await api.GET("/api/chirps"), 200);
for (const id of [first.id, second.id, theirs.id]) assert.ok(everyone.some((c) => c.id === id));
const got = ok(await api.GET("/api/chirps/{chirpID}", { params: { path: { chirpID: first.id } } }), 200);
assert.deepEqual(got, first);
fails(await api.GET("/api/chirps/{chirpID}", { params: { path: { chirpID: randomUUID() } } }), 404);

// Conditional GETs: the ETag sent back in If-None-Match gets 304, no body, while nothing changed.
const fresh = await api.GET("/api/chirps/{chirpID}", { params: { path: { chirpID: first.id } } });
assertStatus(fresh.response, 200);
assert.equal(fresh.response.headers.get("cache-control"), "no-cache");
const etag = fresh.response.headers.get("etag");
assert.ok(etag, "GET /api/chirps/{chirpID} sends an ETag");
const notModified = await api.GET("/api/chirps/{chirpID}", {
  params: { path: { chirpID: first.id }, header: { "If-None-Match": etag } },
});
assertStatus(notModified.response, 304);
assert.equal(notModified.response.headers.get("etag"), etag);
assert.equal(await notModified.response.text(), "");
const byWalt = { author_id: walt.id };
const listEtag = (await api.GET("/api/chirps", { params: { query: byWalt } })).response.headers.get("etag");
assert.ok(listEtag, "GET /api/chirps sends an ETag");
const listNotModified = await api.GET("/api/chirps", { params: { query: byWalt, header: { "If-None-Match": listEtag } } });
assertStatus(listNotModified.response, 304);

// Who am I: the caller's own user, from the access token alone.
const me = ok(await api.GET("/api/users/me", { headers: bearer(session.token) }), 200);
assert.deepEqual([me.id, me.email, me.is_chirpy_red], [walt.id, email, false]);
fails(await api.GET("/api/users/me"), 401);
fails(await api.GET("/api/users/me", { headers: bearer("not-a-token") }), 401);

// Safe retries: the same Idempotency-Key and text replay the first 201 (no second chirp);
// the same key with other text is 422; a malformed key 400; keys are per user.
const postOnce = (token: string, body: string, key: string) =>
  api.POST("/api/chirps", { headers: bearer(token), params: { header: { "Idempotency-Key": key } }, body: { body } });
const key = randomUUID();
const once = ok(await postOnce(session.token, "Posted once", key), 201);
assert.deepEqual(ok(await postOnce(session.token, "Posted once", key), 201), once);
assert.ok(fails(await postOnce(session.token, "Posted twice?", key), 422).error);
fails(await postOnce(session.token, "x", "not a key"), 400);
const jesses = ok(await postOnce(jesseSession.token, "Posted once", key), 201);
assert.ok(jesses.id !== once.id && jesses.user_id === jesse.id);
const walts = ok(await api.GET("/api/chirps", { params: { query: byWalt } }), 200);
assert.equal(walts.filter((c) => c.body === "Posted once").length, 1);
// The list changed, so its old ETag no longer matches.
const changed = await api.GET("/api/chirps", { params: { query: byWalt, header: { "If-None-Match": listEtag } } });
assertStatus(changed.response, 200);
assert.notEqual(changed.response.headers.get("etag"), listEtag);

// The live stream: a chirp posted through the client arrives as `chirp.created`.
const stream = await openStream(walt.id);
const live = ok(await post(session.token, "Live!"), 201);
const seen = await stream.next();
stream.close();
assert.equal(seen.event, "chirp.created");
assert.deepEqual(seen.data, live);
// Missed while disconnected, then caught up from Last-Event-ID: in order, none twice.
const missed = ok(await post(session.token, "Missed"), 201);
expectEmpty(await api.DELETE("/api/chirps/{chirpID}", { headers: bearer(session.token), params: { path: { chirpID: live.id } } }), 204);
const resumed = await openStream(walt.id, seen.id);
const caughtUp = [await resumed.next(), await resumed.next()];
assert.deepEqual(caughtUp.map((e) => [e.event, e.data.id]), [["chirp.created", missed.id], ["chirp.deleted", live.id]]);
assert.ok(isChirp(caughtUp[0]!.data) && caughtUp[0]!.data.body === "Missed");
// Nothing else was pending: the next event is the one that happens now.
const now = ok(await post(session.token, "Now"), 201);
const next = await resumed.next();
resumed.close();
assert.deepEqual([next.event, next.data.id], ["chirp.created", now.id]);

// Refresh the access token and use the new one.
const oldRefresh = session.refresh_token;
const refreshed = ok(await api.POST("/api/refresh", { headers: bearer(oldRefresh) }), 200);

// Update email and password (this revokes refresh tokens), then log in again.
const newEmail = `heisenberg-${suffix}@example.com`;
const updated = ok(
  await api.PUT("/api/users", { headers: bearer(refreshed.token), body: { email: newEmail, password: "blue sky" } }),
  200,
);
assert.ok(updated.email === newEmail && updated.updated_at > walt.updated_at);
assert.equal(ok(await api.GET("/api/users/me", { headers: bearer(refreshed.token) }), 200).email, newEmail);
fails(await api.POST("/api/login", { body: { email, password } }), 401);
fails(await api.POST("/api/refresh", { headers: bearer(oldRefresh) }), 401);
session = ok(await api.POST("/api/login", { body: { email: newEmail, password: "blue sky" } }), 200);

// Delete one's own chirp; someone else's is forbidden.
const remove = (id: string) => api.DELETE("/api/chirps/{chirpID}", { headers: bearer(session.token), params: { path: { chirpID: id } } });
expectEmpty(await remove(first.id), 204);
fails(await api.GET("/api/chirps/{chirpID}", { params: { path: { chirpID: first.id } } }), 404);
assert.deepEqual(fails(await remove(theirs.id), 403), { error: "You can only delete your own chirps" });

// Polka upgrades Walt through the ApiKey scheme.
const event = { event: "user.upgraded", data: { user_id: walt.id } };
expectEmpty(await api.POST("/api/polka/webhooks", { headers: { Authorization: `ApiKey ${polkaKey}` }, body: event }), 204);
fails(await api.POST("/api/polka/webhooks", { headers: { Authorization: "ApiKey wrong" }, body: event }), 401);
const polka = { Authorization: `ApiKey ${polkaKey}` };
const nobody = { event: "user.upgraded", data: { user_id: randomUUID() } };
assert.deepEqual(fails(await api.POST("/api/polka/webhooks", { headers: polka, body: nobody }), 404), { error: "User not found" });
const otherEvent = { event: "user.payment_failed", data: { user_id: jesse.id } };
expectEmpty(await api.POST("/api/polka/webhooks", { headers: polka, body: otherEvent }), 204);
assert.equal(ok(await api.GET("/api/users/me", { headers: bearer(session.token) }), 200).is_chirpy_red, true);
session = ok(await api.POST("/api/login", { body: { email: newEmail, password: "blue sky" } }), 200);
assert.equal(session.is_chirpy_red, true);

// Revoke the refresh token; refreshing with it fails.
expectEmpty(await api.POST("/api/revoke", { headers: bearer(session.refresh_token) }), 204);
fails(await api.POST("/api/refresh", { headers: bearer(session.refresh_token) }), 401);

// Walt sets a display name and a bio; the handle, left out, stays as it is.
const edit = { display_name: "Walter White", bio: "Chemistry teacher.\nAlbuquerque, NM" };
const edited = ok(await api.PATCH("/api/users/me", { headers: bearer(session.token), body: edit }), 200);
assert.deepEqual([edited.id, edited.handle, edited.display_name, edited.bio], [walt.id, waltHandle, edit.display_name, edit.bio]);
assert.ok(edited.updated_at > walt.updated_at);
fails(await api.PATCH("/api/users/me", { headers: bearer(session.token), body: { handle: "Admin" } }), 400);
fails(await api.PATCH("/api/users/me", { headers: bearer(jesseSession.token), body: { handle: waltHandle.toUpperCase() } }), 409);
fails(await api.PATCH("/api/users/me", { body: edit }), 401);
const waltsChirps = ok(await api.GET("/api/chirps", { params: { query: { author_id: walt.id } } }), 200);
const jessesChirps = ok(await api.GET("/api/chirps", { params: { query: { author_id: jesse.id } } }), 200);

// Anyone sees a profile, by handle in any letter case (with or without `@`) or by id: never
// the email, and whether they follow the user only with an access token.
const profile = (user: string, token?: string) =>
  api.GET("/api/users/{user}", { params: { path: { user } }, ...(token === undefined ? {} : { headers: bearer(token) }) });
for (const name of [waltHandle.toUpperCase(), `@${waltHandle.toLowerCase()}`, walt.id]) {
  const result = await profile(name);
  const seen = ok(result, 200);
  assert.ok(!("email" in seen), JSON.stringify(seen));
  assert.deepEqual([seen.id, seen.handle, seen.display_name, seen.bio], [walt.id, waltHandle, edit.display_name, edit.bio]);
  assert.ok(seen.is_chirpy_red && seen.created_at === walt.created_at);
  assert.deepEqual([seen.followers_count, seen.following_count, seen.chirps_count], [0, 0, waltsChirps.length], name);
  assert.equal(seen.followed_by_me, undefined);
}
assert.equal(ok(await profile(walt.id, jesseSession.token), 200).followed_by_me, false);
fails(await profile(`nobody_${randomUUID().slice(0, 8)}`), 404);
fails(await profile(waltHandle, "not-a-token"), 401);

// Jesse follows Walt: 204, and again 204 (nothing changes). Not oneself, not nobody.
const followPath = (userId: string, token?: string) => ({
  params: { path: { user_id: userId } },
  ...(token === undefined ? {} : { headers: bearer(token) }),
});
expectEmpty(await api.PUT("/api/users/{user_id}/follow", followPath(walt.id, jesseSession.token)), 204);
expectEmpty(await api.PUT("/api/users/{user_id}/follow", followPath(walt.id, jesseSession.token)), 204);
fails(await api.PUT("/api/users/{user_id}/follow", followPath(jesse.id, jesseSession.token)), 400);
fails(await api.PUT("/api/users/{user_id}/follow", followPath(randomUUID(), jesseSession.token)), 404);
fails(await api.PUT("/api/users/{user_id}/follow", followPath(walt.id)), 401);
const followed = ok(await profile(waltHandle, jesseSession.token), 200);
assert.deepEqual([followed.followers_count, followed.following_count, followed.followed_by_me], [1, 0, true]);
const follower = ok(await profile(jesseHandle, jesseSession.token), 200);
assert.deepEqual([follower.followers_count, follower.following_count, follower.followed_by_me], [0, 1, false]);
// Read as Jesse, who just wrote: what he changed shows at once on every instance.
const followers = await api.GET("/api/users/{user_id}/followers", followPath(walt.id, jesseSession.token));
assert.deepEqual(ok(followers, 200).map((p) => p.id), [jesse.id]);
assert.equal(followers.response.headers.get("link"), null);
assert.ok(ok(followers, 200).every((p) => !("email" in p)));
const following = ok(await api.GET("/api/users/{user_id}/following", followPath(jesse.id, jesseSession.token)), 200);
assert.deepEqual(following.map((p) => [p.id, p.handle, p.followed_by_me]), [[walt.id, waltHandle, true]]);
fails(await api.GET("/api/users/{user_id}/followers", followPath(randomUUID())), 404);

// Walt posts; Jesse's home timeline holds Walt's chirps and his own, newest first, paged
// one at a time through the Link header until it is absent.
const posted: Chirp[] = [];
for (const n of [0, 1, 2]) posted.push(ok(await post(session.token, `Tread lightly ${n}`), 201));
const expected = newestFirst([...waltsChirps, ...jessesChirps, ...posted]);
// `token` null: no Authorization header.
const home = (query: { limit?: number; cursor?: string }, ifNoneMatch?: string, token: string | null = jesseSession.token) =>
  api.GET("/api/timelines/home", {
    params: { query, ...(ifNoneMatch === undefined ? {} : { header: { "If-None-Match": ifNoneMatch } }) },
    ...(token === null ? {} : { headers: bearer(token) }),
  });
const pages: string[][] = [];
for (let query: { limit: number; cursor?: string } = { limit: 1 }; ; ) {
  const page = await home(query);
  pages.push(ok(page, 200).map((c) => c.id));
  assert.ok(pages.length <= expected.length, `more pages than chirps: ${JSON.stringify(pages)}`);
  const next = nextPage(page.response);
  if (next === null) break;
  assert.equal(next.get("limit"), "1");
  const cursor = next.get("cursor");
  assert.ok(cursor !== null && /^[0-9a-f]{48}$/.test(cursor), `cursor ${cursor}`);
  query = { limit: 1, cursor };
}
assert.ok(pages.every((page) => page.length === 1), JSON.stringify(pages));
assert.deepEqual(pages.flat(), expected);
const whole = await home({});
assert.deepEqual(ok(whole, 200).map((c) => c.id), expected);
assert.equal(whole.response.headers.get("link"), null);
fails(await home({}, undefined, null), 401);
fails(await home({ cursor: "not-a-cursor" }), 400);

// Revalidation: the page's ETag back in If-None-Match is 304 while it is unchanged; a new
// chirp of Jesse's own changes the page, and the old tag no longer matches.
const top = await home({ limit: 1 });
assertStatus(top.response, 200);
assert.equal(top.response.headers.get("cache-control"), "no-cache");
const homeEtag = top.response.headers.get("etag");
assert.ok(homeEtag, "GET /api/timelines/home sends an ETag");
const unchanged = await home({ limit: 1 }, homeEtag);
assertStatus(unchanged.response, 304);
assert.equal(unchanged.response.headers.get("etag"), homeEtag);
assert.equal(await unchanged.response.text(), "");
const magnets = ok(await post(jesseSession.token, "Yeah, magnets!"), 201);
const changedHome = await home({ limit: 1 }, homeEtag);
assert.deepEqual(ok(changedHome, 200).map((c) => c.id), [magnets.id]);
assert.notEqual(changedHome.response.headers.get("etag"), homeEtag);

// The home live stream (with Jesse's token): a chirp of Walt's arrives as he posts it.
fails(await api.GET("/api/timelines/home/stream", {}), 401);
const homeStream = await openHomeStream(jesseSession.token);
const liveForFollowers = ok(await post(session.token, "Say my name, live"), 201);
const arrived = await homeStream.next();
homeStream.close();
assert.equal(arrived.event, "chirp.created");
assert.deepEqual(arrived.data, liveForFollowers);
// Jesse unfollows while disconnected (204, and again 204); resumed from Last-Event-ID, the
// stream says so. Walt's chirps are no longer Jesse's to see; Jesse's own still are.
expectEmpty(await api.DELETE("/api/users/{user_id}/follow", followPath(walt.id, jesseSession.token)), 204);
expectEmpty(await api.DELETE("/api/users/{user_id}/follow", followPath(walt.id, jesseSession.token)), 204);
const resumedHome = await openHomeStream(jesseSession.token, arrived.id);
const unfollowedEvent = await resumedHome.next();
assert.equal(unfollowedEvent.event, "follow.deleted");
assert.deepEqual(unfollowedEvent.data, { follower_id: jesse.id, followee_id: walt.id });
ok(await post(session.token, "Anyone there?"), 201);
const alone = ok(await post(jesseSession.token, "Just me now"), 201);
const ownEvent = await resumedHome.next();
resumedHome.close();
assert.equal(ownEvent.event, "chirp.created");
assert.ok(isChirp(ownEvent.data) && ownEvent.data.id === alone.id, JSON.stringify(ownEvent));

// Unfollowed, the timeline shrinks to Jesse's own chirps, and the counts drop.
const shrunk = ok(await home({}), 200);
assert.deepEqual(shrunk.map((c) => c.id), newestFirst([...jessesChirps, magnets, alone]));
const unfollowed = ok(await profile(walt.id, jesseSession.token), 200);
assert.deepEqual([unfollowed.followers_count, unfollowed.followed_by_me], [0, false]);
assert.equal(unfollowed.chirps_count, waltsChirps.length + posted.length + 2);
assert.deepEqual(ok(await api.GET("/api/users/{user_id}/followers", followPath(walt.id, jesseSession.token)), 200), []);
assert.deepEqual(ok(await api.GET("/api/users/{user_id}/following", followPath(jesse.id, jesseSession.token)), 200), []);

// Replies, threads, likes and search. Skyler signs up without a handle: it is null (as the
// spec now declares it may be).
const skylerEmail = `skyler.white-${suffix}@example.com`;
const skylerUser = ok(await api.POST("/api/users", { body: { email: skylerEmail, password: "car wash" } }), 201);
assert.equal(skylerUser.handle, null);
const skylerSession = ok(await api.POST("/api/login", { body: { email: skylerEmail, password: "car wash" } }), 200);
// A word no other run's chirps contain.
const word = `w${suffix.replace(/-/g, "")}`;

/** How long a read that may come from a replica (a thread, a search) may lag the write it
 * should show: the server's default DB_REPLICA_MAX_LAG_MS (5 s) plus two of its one-second
 * replica checks, as cluster check 8 allows. One server alone has no replica: no wait. */
const REPLICA_MAY_LAG_MS = 7_000;

/** `read()`'s answer once `done(answer)` holds, or its last answer when the replica's lag has
 * passed (the caller's asserts then say what is wrong). */
async function settled<T>(read: () => Promise<T>, done: (answer: T) => boolean): Promise<T> {
  const deadline = Date.now() + REPLICA_MAY_LAG_MS;
  for (;;) {
    const answer = await read();
    if (done(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every page of a paged list, `limit` 1, following each Link (whose query must keep `keep`
 * and carry a 48-hex-digit cursor) until it is absent: each page's ids. */
async function everyPage<R extends { response: Response }>(
  read: (cursor: string | undefined) => Promise<R>,
  ids: (result: R) => string[],
  most: number,
  keep: Record<string, string> = {},
): Promise<string[][]> {
  const pages: string[][] = [];
  for (let cursor: string | undefined; ; ) {
    const result = await read(cursor);
    assertStatus(result.response, 200);
    pages.push(ids(result));
    assert.ok(pages.length <= most, `more pages than items: ${JSON.stringify(pages)}`);
    const next = nextPage(result.response);
    if (next === null) return pages;
    assert.equal(next.get("limit"), "1");
    for (const [name, value] of Object.entries(keep)) assert.equal(next.get(name), value);
    const given = next.get("cursor");
    assert.ok(given !== null && /^[0-9a-f]{48}$/.test(given), `cursor ${given}`);
    cursor = given;
  }
}

// A chirp that answers none: reply_to null, no likes, no replies.
const root = ok(await post(session.token, `Blue sky, ${word}`), 201);
assert.deepEqual([root.reply_to, root.like_count, root.reply_count], [null, 0, 0]);
// Jesse replies three times; Walt answers the first reply. A reply to no chirp is 404.
const replyTo = (token: string, body: string, parent: string) =>
  api.POST("/api/chirps", { headers: bearer(token), body: { body, reply_to: parent } });
const replies: Chirp[] = [];
for (const n of [0, 1, 2]) replies.push(ok(await replyTo(jesseSession.token, `Reply ${n}, ${word}`, root.id), 201));
assert.ok(replies.every((r) => r.reply_to === root.id && r.user_id === jesse.id));
const answer = ok(await replyTo(session.token, `Blue, and the answer: ${word}`, replies[0]!.id), 201);
assert.equal(answer.reply_to, replies[0]!.id);
fails(await replyTo(jesseSession.token, "To nobody", randomUUID()), 404);
// The replier reads his own change at once (his token makes the counts current anywhere).
const chirpAs = (id: string, token: string) =>
  api.GET("/api/chirps/{chirpID}", { params: { path: { chirpID: id } }, headers: bearer(token) });
assert.equal(ok(await chirpAs(root.id, jesseSession.token), 200).reply_count, 3);

// The answer's thread: the chain it answers, oldest first, and no replies of its own.
// Threads may come from a replica, so a read waits out its lag (none on one server).
type ThreadQuery = { limit?: number; cursor?: string };
const thread = (id: string, query: ThreadQuery = {}) =>
  api.GET("/api/chirps/{chirpID}/thread", { params: { path: { chirpID: id }, query } });
const answered = await settled(
  () => thread(answer.id),
  (r) => r.data === undefined || r.data.ancestors.length === 2,
);
const chain = ok(answered, 200);
assert.deepEqual(chain.ancestors.map((c) => c.id), [root.id, replies[0]!.id]);
assert.deepEqual([chain.more_ancestors, chain.chirp, chain.replies], [false, answer, []]);
assert.equal(answered.response.headers.get("link"), null);
// The root's: no ancestors, its count, and its replies oldest first, one a page through Link.
const rootThread = ok(
  await settled(
    () => thread(root.id),
    (r) => r.data === undefined || r.data.replies.length === 3,
  ),
  200,
);
assert.deepEqual(
  [rootThread.ancestors, rootThread.more_ancestors, rootThread.chirp.id, rootThread.chirp.reply_count],
  [[], false, root.id, 3],
);
assert.deepEqual(rootThread.replies.map((c) => c.reply_count), [1, 0, 0]);
const threadPages = await everyPage(
  (cursor) => thread(root.id, cursor === undefined ? { limit: 1 } : { limit: 1, cursor }),
  (r) => {
    assert.ok(r.data !== undefined && r.data.chirp.id === root.id && r.data.ancestors.length === 0);
    return r.data.replies.map((c) => c.id);
  },
  replies.length,
);
assert.deepEqual(threadPages, replies.map((r) => [r.id]));
fails(await thread(randomUUID()), 404);
fails(await thread(root.id, { cursor: "0".repeat(47) }), 400);

// Jesse likes the root: 204, and again 204 (still one like). Read with his token, the count
// shows it at once, by id and in a list, on any instance.
const likePath = (id: string, token?: string) => ({
  params: { path: { chirpID: id } },
  ...(token === undefined ? {} : { headers: bearer(token) }),
});
expectEmpty(await api.PUT("/api/chirps/{chirpID}/like", likePath(root.id, jesseSession.token)), 204);
expectEmpty(await api.PUT("/api/chirps/{chirpID}/like", likePath(root.id, jesseSession.token)), 204);
assert.equal(ok(await chirpAs(root.id, jesseSession.token), 200).like_count, 1);
const listedAsJesse = ok(
  await api.GET("/api/chirps", {
    params: { query: { author_id: walt.id, sort: "desc" } },
    headers: bearer(jesseSession.token),
  }),
  200,
);
assert.deepEqual(listedAsJesse.filter((c) => c.id === root.id).map((c) => c.like_count), [1]);
// Skyler (no handle: null in her profile) likes it too. The likes list has the newest like
// first, one a page through Link, profiles without emails.
expectEmpty(await api.PUT("/api/chirps/{chirpID}/like", likePath(root.id, skylerSession.token)), 204);
assert.equal(ok(await chirpAs(root.id, skylerSession.token), 200).like_count, 2);
type LikesQuery = { limit?: number; cursor?: string };
const likes = (id: string, token?: string, query: LikesQuery = {}) =>
  api.GET("/api/chirps/{chirpID}/likes", {
    params: { path: { chirpID: id }, query },
    ...(token === undefined ? {} : { headers: bearer(token) }),
  });
const likers = await likes(root.id, skylerSession.token);
assert.deepEqual(ok(likers, 200).map((p) => [p.id, p.handle]), [[skylerUser.id, null], [jesse.id, jesseHandle]]);
assert.ok(ok(likers, 200).every((p) => !("email" in p)));
assert.equal(likers.response.headers.get("link"), null);
const likePages = await everyPage(
  (cursor) => likes(root.id, skylerSession.token, cursor === undefined ? { limit: 1 } : { limit: 1, cursor }),
  (r) => (r.data ?? []).map((p) => p.id),
  2,
);
assert.deepEqual(likePages, [[skylerUser.id], [jesse.id]]);
// Jesse unlikes: 204, and again 204. Liking, unliking or listing no chirp is 404; liking
// without a token 401.
expectEmpty(await api.DELETE("/api/chirps/{chirpID}/like", likePath(root.id, jesseSession.token)), 204);
expectEmpty(await api.DELETE("/api/chirps/{chirpID}/like", likePath(root.id, jesseSession.token)), 204);
assert.equal(ok(await chirpAs(root.id, jesseSession.token), 200).like_count, 1);
assert.deepEqual(ok(await likes(root.id, jesseSession.token), 200).map((p) => p.id), [skylerUser.id]);
const noChirp = randomUUID();
fails(await api.PUT("/api/chirps/{chirpID}/like", likePath(noChirp, jesseSession.token)), 404);
fails(await api.DELETE("/api/chirps/{chirpID}/like", likePath(noChirp, jesseSession.token)), 404);
fails(await likes(noChirp), 404);
fails(await api.PUT("/api/chirps/{chirpID}/like", likePath(root.id)), 401);

// Search by a word: every chirp with it, newest first; with two words (any letter case),
// those with both; a page at a time through Link. A profane word is stored masked, so
// searching for it finds nothing, even beside a word its chirp does contain.
const profane = ok(await post(skylerSession.token, `What a kerfuffle, ${word}`), 201);
assert.equal(profane.body, `What a ****, ${word}`);
const withWord = [root, ...replies, answer, profane];
type SearchQuery = { q: string; limit?: number; cursor?: string };
const searchChirps = (query: SearchQuery) => api.GET("/api/search/chirps", { params: { query } });
const found = await settled(
  () => searchChirps({ q: word }),
  (r) => r.data === undefined || r.data.length === withWord.length,
);
assert.deepEqual(ok(found, 200).map((c) => c.id), newestFirst(withWord));
const both = ok(await searchChirps({ q: `BLUE ${word.toUpperCase()}` }), 200);
assert.deepEqual(both.map((c) => c.id), newestFirst([root, answer]));
const searchPages = await everyPage(
  (cursor) => searchChirps({ q: `blue ${word}`, limit: 1, ...(cursor === undefined ? {} : { cursor }) }),
  (r) => (r.data ?? []).map((c) => c.id),
  2,
  { q: `blue ${word}` },
);
assert.deepEqual(searchPages, newestFirst([root, answer]).map((id) => [id]));
assert.deepEqual(ok(await searchChirps({ q: `kerfuffle ${word}` }), 200), []);
assert.deepEqual(ok(await searchChirps({ q: "kerfuffle" }), 200), []);

// People by the start of a handle, in any letter case, with or without `@`: no emails.
const searchUsers = (q: string, token?: string) =>
  api.GET("/api/search/users", {
    params: { query: { q } },
    ...(token === undefined ? {} : { headers: bearer(token) }),
  });
const start = waltHandle.slice(0, "Heisenberg_".length + 8);
for (const q of [start.toLowerCase(), `@${start.toUpperCase()}`]) {
  const people = ok(await searchUsers(q, session.token), 200);
  assert.deepEqual(people.map((p) => [p.id, p.handle, p.followed_by_me]), [[walt.id, waltHandle, false]], q);
  assert.ok(people.every((p) => !("email" in p)));
}
assert.deepEqual(ok(await searchUsers(`nobody_${word}`), 200), []);

// `q` is 1 to 200 characters with something visible and no NUL: else 400.
for (const q of ["", "x".repeat(201), "   ", "a\0b"]) {
  const chirps = await searchChirps({ q });
  assert.ok(new URL(chirps.response.url).searchParams.has("q"), `q=${JSON.stringify(q)} was sent`);
  fails(chirps, 400);
  fails(await searchUsers(q), 400);
}

console.log("typescript client journey: ok (openapi-typescript + openapi-fetch, tsc --strict)");
