"""The bench's data: 1,000 users who can all log in, and chirps by them, made with SQL.

Seeded ids are a function of a number, so that pgbench (whose variables are integers) can name
the same rows: md5 is a few hundred nanoseconds inside the query.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

from chirpy_harness.errors import HarnessError

PASSWORD = "correct horse battery staple"
N_AUTHORS = 1000
CHIRP_ID_SQL = "md5('chirpy-bench-chirp-' || {n})::uuid"
USER_ID_SQL = "md5('chirpy-bench-user-' || {n})::uuid"

WORDS = (
    "the a chirp hello world rust postgres bench coffee morning tea rain sun cat dog code ship "
    "deploy review lunch train bike walk read book music night late early today tomorrow again "
    "really quite small big fast slow happy busy quiet loud green blue red new old good nice"
).split()

# Loopback only: no proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(base_url: str, method: str, path: str, body: dict | None = None, timeout: float = 60,
         token: str | None = None):
    """(status, raw body) of one request outside wrk, as the token's user if any."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    with OPENER.open(req, timeout=timeout) as resp:
        return resp.status, resp.read()


def http_json(base_url: str, method: str, path: str, body: dict | None = None):
    status, raw = http(base_url, method, path, body)
    return status, json.loads(raw or b"null")


class Psql:
    """psql on one database, from the cluster's own bin dir."""

    def __init__(self, bin_dir: Path, url: str):
        self.cmd = [str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-f", "-", url]

    def run(self, sql: str) -> str:
        # On stdin rather than -c, so that each statement is its own transaction (VACUUM).
        out = subprocess.run(self.cmd, input=sql, capture_output=True, text=True)
        if out.returncode != 0:
            raise HarnessError(f"psql failed: {out.stderr.strip()}\nSQL: {sql[:500]}")
        return out.stdout

    def scalar(self, sql: str) -> str:
        return self.run(sql).strip()


def seed_users(base_url: str, psql: Psql, tmp: Path) -> None:
    """One sign-up through the API for a real Argon2id hash, copied to N_AUTHORS users; writes
    their emails and ids to tmp/emails.txt and tmp/authors.txt for the wrk scripts."""
    signup = {"email": "bench-signup@example.com", "password": PASSWORD}
    status, user = http_json(base_url, "POST", "/api/users", signup)
    if status != 201:
        raise HarnessError(f"sign-up answered {status}")
    hashed = psql.scalar(f"select hashed_password from users where id = '{user['id']}'")
    if not hashed.startswith("$argon2"):
        raise HarnessError(f"unexpected hash {hashed[:20]}...")
    psql.run(f"""
        delete from users where id = '{user["id"]}';
        insert into users (id, created_at, updated_at, email, email_key, hashed_password)
        select {USER_ID_SQL.format(n="n")}, t, t, e, e, '{hashed}'
        from generate_series(1, {N_AUTHORS}) n,
             lateral (select timestamptz '2025-01-01' + n * interval '1 minute') s(t),
             -- ASCII and lowercase: the address is its own key.
             lateral (select 'bench-user-' || n || '@example.com') m(e);
        vacuum analyze users;
    """)
    (tmp / "emails.txt").write_text("".join(f"bench-user-{n}@example.com\n" for n in range(1, N_AUTHORS + 1)))
    (tmp / "authors.txt").write_text(psql.run("select id from users order by id"))


def seed_chirps(psql: Psql, have: int, want: int) -> None:
    """Chirps have+1..want: random words (5 to 140 characters), created about every three
    minutes from 2025 on with jitter, each by a random one of the authors."""
    if want <= have:
        return
    words = "array[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    psql.run(f"""
        insert into chirps (id, created_at, updated_at, body, user_id)
        select {CHIRP_ID_SQL.format(n="n")}, t, t,
               left(initcap(array_to_string(array(
                   select ({words})[1 + floor(random() * {len(WORDS)})::int]
                   from generate_series(1, 2 + floor(random() * 24)::int + n * 0)), ' ')) || '.', 140),
               {USER_ID_SQL.format(n=f"(1 + floor(random() * {N_AUTHORS})::int)")}
        from generate_series({have + 1}, {want}) n,
             lateral (select timestamptz '2025-01-01' + n * interval '3 minutes'
                             + random() * interval '170 seconds' + n * interval '0') s(t);
        vacuum analyze chirps;
        checkpoint;
    """)
    count = int(psql.scalar("select count(*) from chirps"))
    if count != want:
        raise HarnessError(f"seeded {count} chirps, expected {want}")


def check_list(base_url: str, size: int, timeout: float = 30) -> int:
    """One unpaginated GET /api/chirps must be a JSON array of all `size` chirps, oldest first.
    Returns the response's size in bytes. Chirps seeded with SQL reach the server through the
    event log, which it reads about once a second: until then a list it cached before the
    seeding is still what it serves, so a short list is asked for again for a while."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http(base_url, "GET", "/api/chirps", timeout=120)
        chirps = json.loads(body)
        if status == 200 and isinstance(chirps, list) and len(chirps) == size:
            break
        if status != 200 or not isinstance(chirps, list) or time.monotonic() > deadline:
            got = len(chirps) if isinstance(chirps, list) else "?"
            raise HarnessError(f"GET /api/chirps: {status}, {got} chirps, expected all {size}")
        time.sleep(0.1)
    keys = [(c["created_at"], c["id"]) for c in chirps]
    if keys != sorted(keys):
        raise HarnessError("GET /api/chirps is not ordered by created_at, id")
    return len(body)


def log_in(base_url: str, users: int) -> list[str]:
    """Access tokens of the first `users` seeded users."""
    tokens = []
    for n in range(1, users + 1):
        body = {"email": f"bench-user-{n}@example.com", "password": PASSWORD}
        status, session = http_json(base_url, "POST", "/api/login", body)
        if status != 200:
            raise HarnessError(f"login answered {status}")
        tokens.append(session["token"])
    return tokens


def check_newest(base_url: str, limit: int) -> int:
    """GET /api/chirps?sort=desc&limit=<limit> must be `limit` chirps, newest first, with a
    Link to the next page. Returns the response's size in bytes."""
    status, body = http(base_url, "GET", f"/api/chirps?sort=desc&limit={limit}")
    chirps = json.loads(body)
    if status != 200 or not isinstance(chirps, list) or len(chirps) != limit:
        got = len(chirps) if isinstance(chirps, list) else "?"
        raise HarnessError(f"GET /api/chirps?sort=desc&limit={limit}: {status}, {got} chirps")
    keys = [(c["created_at"], c["id"]) for c in chirps]
    if keys != sorted(keys, reverse=True):
        raise HarnessError("GET /api/chirps?sort=desc is not ordered newest first")
    return len(body)


def fetch_etags(base_url: str, ids: list[str], path: Path) -> None:
    """Writes `<id> <etag>` for each of `ids` to `path`: each chirp's current ETag, read on one
    kept-alive connection."""
    url = urllib.parse.urlsplit(base_url)
    conn = HTTPConnection(url.hostname, url.port, timeout=30)
    lines = []
    try:
        for chirp_id in ids:
            conn.request("GET", f"/api/chirps/{chirp_id}")
            resp = conn.getresponse()
            resp.read()
            etag = resp.getheader("ETag")
            if resp.status != 200 or not etag or " " in etag:
                raise HarnessError(f"GET /api/chirps/{chirp_id}: {resp.status}, ETag {etag!r}")
            lines.append(f"{chirp_id} {etag}\n")
    finally:
        conn.close()
    path.write_text("".join(lines))
