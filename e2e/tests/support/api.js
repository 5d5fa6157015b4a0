// Talking to the server directly, for what a test sets up or checks outside the page:
// a second user, their profile, follows, chirps, replies and likes, the Polka webhook,
// whether a refresh token still works.

import { randomUUID } from 'node:crypto';

export const POLKA_DEV_KEY = 'chirpy-dev-polka-key';

/** A unique, readable email for one test. */
export function newEmail(name = 'user') {
  return `${name}-${randomUUID().slice(0, 8)}@example.com`;
}

export function createApi(baseUrl) {
  async function call(method, path, { body, authorization, headers: extra = {} } = {}) {
    const headers = { ...extra };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (authorization) headers.Authorization = authorization;
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
    return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text };
  }

  async function expectStatus(expected, promise) {
    const result = await promise;
    if (result.status !== expected) {
      throw new Error(`expected ${expected}, got ${result.status}: ${JSON.stringify(result.body)}`);
    }
    return result.body;
  }

  return {
    call,
    /** `handle` is optional. */
    signUp: (email, password, handle) =>
      expectStatus(201, call('POST', '/api/users', { body: handle ? { email, password, handle } : { email, password } })),
    logIn: (email, password) => expectStatus(200, call('POST', '/api/login', { body: { email, password } })),
    /** A new user, logged in: `{ id, email, password, token, refresh_token, ... }`. */
    async newUser(name) {
      const email = newEmail(name);
      const password = `pw-${randomUUID()}`;
      await this.signUp(email, password);
      return { ...(await this.logIn(email, password)), password };
    },
    /** `replyTo`: the id of the chirp this answers. */
    postChirp: (token, body, replyTo) =>
      expectStatus(201, call('POST', '/api/chirps', {
        body: replyTo ? { body, reply_to: replyTo } : { body },
        authorization: `Bearer ${token}`,
      })),
    chirp: (id) => expectStatus(200, call('GET', `/api/chirps/${id}`)),
    /** `{ ancestors, more_ancestors, chirp, replies }`, the first page of replies. */
    thread: (id) => expectStatus(200, call('GET', `/api/chirps/${id}/thread`)),
    like: (token, id) => expectStatus(204, call('PUT', `/api/chirps/${id}/like`, { authorization: `Bearer ${token}` })),
    /** The profiles of who likes the chirp, newest like first. */
    likers: (id) => expectStatus(200, call('GET', `/api/chirps/${id}/likes`)),
    deleteChirp: (token, id) =>
      expectStatus(204, call('DELETE', `/api/chirps/${id}`, { authorization: `Bearer ${token}` })),
    /** Every chirp by one user, oldest first. */
    chirpsBy: (userId) => expectStatus(200, call('GET', `/api/chirps?author_id=${userId}`)),
    /** Sets any of `handle`, `display_name` and `bio` (PATCH /api/users/me). */
    setProfile: (token, fields) =>
      expectStatus(200, call('PATCH', '/api/users/me', { body: fields, authorization: `Bearer ${token}` })),
    follow: (token, userId) =>
      expectStatus(204, call('PUT', `/api/users/${userId}/follow`, { authorization: `Bearer ${token}` })),
    unfollow: (token, userId) =>
      expectStatus(204, call('DELETE', `/api/users/${userId}/follow`, { authorization: `Bearer ${token}` })),
    profile: (user) => expectStatus(200, call('GET', `/api/users/${user}`)),
    refresh: (refreshToken) => call('POST', '/api/refresh', { authorization: `Bearer ${refreshToken}` }),
    upgrade: (userId) =>
      expectStatus(204, call('POST', '/api/polka/webhooks', {
        authorization: `ApiKey ${POLKA_DEV_KEY}`,
        body: { event: 'user.upgraded', data: { user_id: userId } },
      })),
    reset: () => expectStatus(200, call('POST', '/admin/reset')),
  };
}
