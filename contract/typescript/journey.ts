// The whole Chirpy user journey through a TypeScript client generated from
// openapi/openapi.yaml (openapi-typescript types + openapi-fetch calls), type-checked with
// `tsc --strict`. Every call names its path and method as the spec does, so a renamed
// route, a changed field or a missing status fails to compile or fails here.
// Usage: node dist/journey.js BASE_URL POLKA_KEY
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

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

const suffix = randomUUID().slice(0, 12);
const email = `walt-${suffix}@example.com`;
const password = "say my name";

// Sign up two users, log in as the first.
const walt = ok(await api.POST("/api/users", { body: { email, password } }), 201);
assert.ok(walt.email === email && walt.is_chirpy_red === false);
const jesse = ok(await api.POST("/api/users", { body: { email: `jesse-${suffix}@example.com`, password: "yo" } }), 201);
const taken = fails(await api.POST("/api/users", { body: { email: email.toUpperCase(), password: "x" } }), 409);
assert.deepEqual(taken, { error: "Email is already taken" });
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
session = ok(await api.POST("/api/login", { body: { email: newEmail, password: "blue sky" } }), 200);
assert.equal(session.is_chirpy_red, true);

// Revoke the refresh token; refreshing with it fails.
expectEmpty(await api.POST("/api/revoke", { headers: bearer(session.refresh_token) }), 204);
fails(await api.POST("/api/refresh", { headers: bearer(session.refresh_token) }), 401);

console.log("typescript client journey: ok (openapi-typescript + openapi-fetch, tsc --strict)");
