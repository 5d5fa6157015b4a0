"""The soak's clients: each loops the mixed user journey, checking every response's status
(EXPECTED) and body, and tallies what it saw in a shared Stats."""

from __future__ import annotations

import asyncio
import random
import re
import string
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

POLKA_KEY = "soak-polka-key-" + uuid.uuid4().hex
JWT_SECRET = "soak-jwt-secret-" + uuid.uuid4().hex

# Statuses a correct journey may see from each step. Anything else is an error.
EXPECTED: dict[str, set[int]] = {
    "healthz": {200},
    "signup": {201},
    "login": {200},
    "post_chirp": {201},
    "list_all": {200},
    "list_all_desc": {200},
    "list_author_desc": {200},
    "get_chirp": {200},
    "get_deleted_chirp": {404},
    "delete_own_chirp": {204},
    # Someone else's chirp: 403, or 404 if its author deleted it meanwhile.
    "delete_others_chirp": {403, 404},
    "refresh": {200},
    "refresh_revoked": {401},
    "refresh_after_pw_change": {401},
    "revoke": {204},
    "webhook_upgrade": {204},
    "webhook_other_event": {204},
    "update_user": {200},
}

# Chirp bodies and what the server must store: profanity (any case, punctuation stuck to the
# word) becomes ****, everything else, spacing and non-ASCII included, is kept.
CHIRPS = [
    ("Soak test chirp {tag}", "Soak test chirp {tag}"),
    ("What a kerfuffle, {tag}!", "What a ****, {tag}!"),
    ("Fornax! h\u00e9llo \U0001f426 {tag}", "****! h\u00e9llo \U0001f426 {tag}"),
    ("SHARBERT sharbert   spacing  kept {tag}", "**** ****   spacing  kept {tag}"),
    ("\u00e9" * 100 + " {tag}", "\u00e9" * 100 + " {tag}"),
]


class Unexpected(Exception):
    """A step got a response it should not have; the rest of the iteration is skipped."""


@dataclass
class Stats:
    """Every request's latency and status by step, and the unexpected ones, over the run."""

    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter = field(default_factory=Counter)  # (step, status or kind) -> n
    error_examples: dict[tuple[str, str], str] = field(default_factory=dict)
    per_second: Counter = field(default_factory=Counter)  # second of the run -> requests
    errors_per_second: Counter = field(default_factory=Counter)
    total: int = 0
    server_errors: int = 0  # 5xx
    recoveries: int = 0  # clients that gave up on an account after repeated failures
    started: float = 0.0

    def record(self, step: str, ms: float, status: int | None) -> None:
        self.total += 1
        self.latencies_ms[step].append(ms)
        self.statuses[step][status if status is not None else "no response"] += 1
        self.per_second[int(time.monotonic() - self.started)] += 1
        if status is not None and status >= 500:
            self.server_errors += 1

    def error(self, step: str, what: str, example: str) -> None:
        self.errors[(step, what)] += 1
        self.errors_per_second[int(time.monotonic() - self.started)] += 1
        self.error_examples.setdefault((step, what), example[:300])

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())



class Shared:
    """What clients know of each other: a few recent chirp ids per client, for the 403 step."""

    def __init__(self) -> None:
        self.recent: dict[int, list[str]] = defaultdict(list)

    def add(self, cid: int, chirp_id: str) -> None:
        ids = self.recent[cid]
        ids.append(chirp_id)
        del ids[:-5]

    def someone_elses(self, cid: int, rng: random.Random) -> str | None:
        others = [c for c, ids in self.recent.items() if c != cid and ids]
        if not others:
            return None
        return rng.choice(self.recent[rng.choice(others)])


class Client:
    def __init__(self, cid: int, args, base_url: str, stats: Stats, shared: Shared, run_id: str, deadline: float):
        self.cid = cid
        self.args = args
        self.base_url = base_url
        self.stats = stats
        self.shared = shared
        self.run_id = run_id
        self.deadline = deadline
        self.rng = random.Random(args.seed * 1000 + cid)
        self.http: httpx.AsyncClient | None = None
        self.account = 0  # how many accounts this client has made
        self.email = ""
        self.password = ""
        self.user_id = ""
        self.token = ""
        self.refresh = ""
        self.chirpy_red = False
        self.own: list[str] = []  # own chirp ids, oldest first
        self.logged_in = False
        self.resync = False
        self.iteration = 0
        self.email_version = 0

    # -- plumbing

    def new_http(self) -> httpx.AsyncClient:
        # trust_env=False: no proxy from the environment; everything stays on loopback.
        return httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(30.0), trust_env=False)

    async def call(self, step: str, method: str, url: str, *, bearer: str | None = None, api_key: str | None = None,
                   json_body=None, params=None) -> httpx.Response:
        headers = {}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        if api_key is not None:
            headers["Authorization"] = f"ApiKey {api_key}"
        assert self.http is not None
        started = time.perf_counter()
        try:
            resp = await self.http.request(method, url, headers=headers, json=json_body, params=params)
        except httpx.HTTPError as exc:
            self.stats.record(step, (time.perf_counter() - started) * 1000, None)
            self.stats.error(step, type(exc).__name__, repr(exc))
            raise Unexpected from exc
        self.stats.record(step, (time.perf_counter() - started) * 1000, resp.status_code)
        if resp.status_code not in EXPECTED[step]:
            self.stats.error(step, str(resp.status_code), resp.text)
            raise Unexpected
        if resp.status_code >= 400:
            # Every expected error still has the contract's body.
            try:
                ok = isinstance(resp.json().get("error"), str)
            except ValueError:
                ok = False
            if not ok:
                self.bad_body(step, f"error body is not {{\"error\": ...}}: {resp.text!r}")
        return resp

    def bad_body(self, step: str, why: str) -> None:
        self.stats.error(step, "bad body", why)
        raise Unexpected

    def check(self, step: str, condition: bool, why: str) -> None:
        if not condition:
            self.bad_body(step, why)

    def secret(self) -> str:
        return "".join(self.rng.choices(string.ascii_letters + string.digits, k=16))

    # -- steps

    async def sign_up(self) -> None:
        self.account += 1
        self.email_version = 0
        self.email = f"soak-{self.run_id}-c{self.cid}-a{self.account}@example.com"
        self.password = self.secret()
        self.own = []
        self.chirpy_red = False
        resp = await self.call("signup", "POST", "/api/users", json_body={"email": self.email, "password": self.password})
        user = resp.json()
        self.check("signup", user.get("email") == self.email and user.get("is_chirpy_red") is False
                   and "password" not in user and "hashed_password" not in user, f"unexpected user {user}")
        self.user_id = user["id"]
        self.logged_in = False
        await self.log_in()

    async def log_in(self) -> None:
        # Emails are matched regardless of case.
        email = self.email.lower() if self.rng.random() < 0.5 else self.email
        resp = await self.call("login", "POST", "/api/login", json_body={"email": email, "password": self.password})
        body = resp.json()
        self.check("login", body.get("id") == self.user_id, f"logged in as {body.get('id')}, not {self.user_id}")
        self.check("login", body.get("is_chirpy_red") is self.chirpy_red,
                   f"is_chirpy_red is {body.get('is_chirpy_red')}, expected {self.chirpy_red}")
        refresh = body.get("refresh_token", "")
        self.check("login", re.fullmatch(r"[0-9a-f]{64}", refresh) is not None and body.get("token", "").count(".") == 2,
                   "malformed tokens")
        self.token, self.refresh = body["token"], refresh
        self.logged_in = True

    async def post_chirp(self) -> str:
        text, stored = self.rng.choice(CHIRPS)
        tag = f"c{self.cid}#{self.iteration}"
        resp = await self.call("post_chirp", "POST", "/api/chirps", bearer=self.token,
                               json_body={"body": text.format(tag=tag)})
        chirp = resp.json()
        self.check("post_chirp", chirp.get("body") == stored.format(tag=tag) and chirp.get("user_id") == self.user_id,
                   f"stored {chirp!r}")
        self.own.append(chirp["id"])
        self.shared.add(self.cid, chirp["id"])
        return chirp["id"]

    async def delete_own(self) -> None:
        victim = self.own.pop(0)
        await self.call("delete_own_chirp", "DELETE", f"/api/chirps/{victim}", bearer=self.token)
        await self.call("get_deleted_chirp", "GET", f"/api/chirps/{victim}")

    async def iterate(self) -> None:
        self.iteration += 1
        i = self.iteration
        if i % 3 == 0:
            await self.call("healthz", "GET", "/api/healthz")
        newest = await self.post_chirp()

        mine = (await self.call("list_author_desc", "GET", "/api/chirps",
                                params={"author_id": self.user_id, "sort": "desc"})).json()
        self.check("list_author_desc", bool(mine) and mine[0]["id"] == newest
                   and all(c["user_id"] == self.user_id for c in mine)
                   and [c["id"] for c in mine] == list(reversed(self.own)),
                   f"own chirps newest first should be {list(reversed(self.own))}, got {[c['id'] for c in mine]}")
        got = (await self.call("get_chirp", "GET", f"/api/chirps/{self.rng.choice(self.own)}")).json()
        self.check("get_chirp", got.get("user_id") == self.user_id, f"got {got!r}")

        if i % 2 == 0:
            everyone = (await self.call("list_all_desc", "GET", "/api/chirps", params={"sort": "desc"})).json()
            stamps = [c["created_at"] for c in everyone]
            self.check("list_all_desc", stamps == sorted(stamps, reverse=True), "not newest first")
        else:
            everyone = (await self.call("list_all", "GET", "/api/chirps")).json()
            stamps = [c["created_at"] for c in everyone]
            self.check("list_all", stamps == sorted(stamps), "not oldest first")

        while len(self.own) > self.args.keep_chirps:
            await self.delete_own()

        if i % 5 == 0:
            body = (await self.call("refresh", "POST", "/api/refresh", bearer=self.refresh)).json()
            self.check("refresh", isinstance(body.get("token"), str) and body["token"].count(".") == 2, f"{body!r}")
            self.token = body["token"]
        if i % 7 == 0:
            await self.call("webhook_upgrade", "POST", "/api/polka/webhooks", api_key=POLKA_KEY,
                            json_body={"event": "user.upgraded", "data": {"user_id": self.user_id}})
            self.chirpy_red = True
        if i % 7 == 3:
            await self.call("webhook_other_event", "POST", "/api/polka/webhooks", api_key=POLKA_KEY,
                            json_body={"event": "user.payment_failed", "data": {"user_id": self.user_id}})
        if i % 11 == 0:
            theirs = self.shared.someone_elses(self.cid, self.rng)
            if theirs is not None:
                await self.call("delete_others_chirp", "DELETE", f"/api/chirps/{theirs}", bearer=self.token)
        if i % self.args.revoke_every == 0:
            # Log out: the refresh token is dead afterwards; log in again.
            await self.call("revoke", "POST", "/api/revoke", bearer=self.refresh)
            await self.call("refresh_revoked", "POST", "/api/refresh", bearer=self.refresh)
            self.logged_in = False
            await self.log_in()
        if i % self.args.update_every == 0:
            # New email (mixed case) and password: every refresh token of the user is revoked.
            self.email_version += 1
            email = f"Soak-{self.run_id}-C{self.cid}-A{self.account}-V{self.email_version}@Example.com"
            password = self.secret()
            user = (await self.call("update_user", "PUT", "/api/users", bearer=self.token,
                                    json_body={"email": email, "password": password})).json()
            self.check("update_user", user.get("email") == email and user.get("id") == self.user_id, f"{user!r}")
            self.email, self.password = email, password
            await self.call("refresh_after_pw_change", "POST", "/api/refresh", bearer=self.refresh)
            self.logged_in = False
            await self.log_in()

    async def switch_account(self) -> None:
        """Leave the current account tidy (chirps deleted, logged out) and sign up anew."""
        while self.own:
            await self.delete_own()
        await self.call("revoke", "POST", "/api/revoke", bearer=self.refresh)
        await self.http.aclose()
        self.http = self.new_http()  # a fresh connection too
        await self.sign_up()

    async def run(self, start: float) -> None:
        self.http = self.new_http()
        failures_in_a_row = 0
        try:
            while time.monotonic() < self.deadline:
                try:
                    if self.account == 0:
                        await self.sign_up()
                    elif not self.logged_in:
                        await self.log_in()
                    if self.resync:
                        # After a failure our idea of our own chirps may be wrong: ask.
                        mine = (await self.call("list_author_desc", "GET", "/api/chirps",
                                                params={"author_id": self.user_id, "sort": "desc"})).json()
                        self.own = [c["id"] for c in reversed(mine)]
                        self.resync = False
                    # Accounts are spread evenly over the run: at most --accounts-per-client.
                    due = 1 + int((time.monotonic() - start) / self.args.duration * self.args.accounts_per_client)
                    if self.account < min(due, self.args.accounts_per_client):
                        await self.switch_account()
                    await self.iterate()
                    failures_in_a_row = 0
                except Unexpected:
                    failures_in_a_row += 1
                    # Start the session over; after repeated failures, with a new account
                    # (the old one's state, e.g. its password, may be unknown now).
                    self.logged_in = False
                    self.resync = True
                    if failures_in_a_row >= 3:
                        self.stats.recoveries += 1
                        try:
                            await self.sign_up()
                        except Unexpected:
                            pass
                    await asyncio.sleep(0.2 * min(failures_in_a_row, 10))
        finally:
            await self.http.aclose()
