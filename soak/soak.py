"""Chirpy soak test: many concurrent clients run the mixed user journey against a live server.

It starts the server itself (a debug or `--release` build of target/*/chirpy), in an empty
temp working directory with PLATFORM=dev, HOST=127.0.0.1, PORT=0 and no DATABASE_URL, so
the server brings up its own private PostgreSQL cluster there. Then `--clients` clients
loop the journey for `--duration` seconds: sign up (a few times per client at most: an
Argon2id hash is the most expensive thing the server does), log in, post chirps, list them
(all, by author, newest first), get one, delete their own, try to delete someone else's,
refresh the access token, the Polka webhook, change email and password now and then (which
revokes the refresh tokens, so they log in again), revoke, health check.

Every response must have the status expected for its step; anything else counts as an
error, by step and status. Any 5xx fails the run, as does any error, an ERROR in the
server's log, an unclean shutdown, or the server's RSS (VmRSS from /proc/<pid>/status)
growing from the end of the warm-up to the end of the run by more than `--rss-bound-mib`.
At the end the server gets SIGTERM and must exit 0 having stopped its cluster; the temp
directory is deleted.

Usage (soak/run builds the server and picks the Python environment):
    soak/run [--release] [--clients 32] [--duration 60] [--warmup 5] [--rss-bound-mib 32]
Only loopback addresses are ever used.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

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


# ---------------------------------------------------------------------------------------
# Figures


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-p * len(sorted_values) // 100)))  # ceil(p/100 * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Stats:
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


# ---------------------------------------------------------------------------------------
# The server


def read_proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (kB) and Threads of a live process."""
    wanted = {"VmRSS", "VmHWM", "Threads"}
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in wanted:
                out[key] = int(value.split()[0])
    return out


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """The chirpy binary in a temp working dir with its own PostgreSQL cluster."""

    def __init__(self, binary: Path, rust_log: str, keep_tmp: bool, extra_env: dict[str, str] | None = None):
        self.extra_env = extra_env or {}
        self.binary = binary
        self.rust_log = rust_log
        self.keep_tmp = keep_tmp
        self.run_dir = Path(tempfile.mkdtemp(prefix="chirpy-soak-"))
        # Searchable by the `postgres` user (the cluster runs as it when we are root), so
        # the cluster lives inside this directory and goes with it.
        os.chmod(self.run_dir, 0o755)
        self.log_path = self.run_dir / "server.log"
        self.proc: subprocess.Popen | None = None
        self.base_url = ""
        self.exit_code: int | None = None
        self.shutdown_seconds: float | None = None
        self.cluster_stopped: bool | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            {
                # Empty counts as unset for the server, and a set variable wins over any .env.
                "DATABASE_URL": "",
                "DB_URL": "",
                "ACCESS_TOKEN_TTL": "",
                "PLATFORM": "dev",
                "HOST": "127.0.0.1",
                "PORT": "0",
                "POLKA_KEY": POLKA_KEY,
                "JWT_SECRET": JWT_SECRET,
                "RUST_LOG": self.rust_log,
            }
        )
        env.update(self.extra_env)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(self.binary)], cwd=self.run_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + 120  # initdb on a busy machine can take a while
        pattern = re.compile(r"listening on http://([0-9.]+):(\d+)")
        while time.monotonic() < deadline:
            match = pattern.search(self.log_path.read_text(errors="replace"))
            if match:
                host, port = match.group(1), int(match.group(2))
                if not ipaddress.ip_address(host).is_loopback:
                    raise SystemExit(f"soak: the server listens on {host}, not a loopback address: refusing")
                self.base_url = f"http://{host}:{port}"
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"soak: the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            time.sleep(0.1)
        raise SystemExit(f"soak: the server did not start in time:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM, then wait for a clean exit (the server stops its cluster first)."""
        if self.proc is None or self.proc.poll() is not None:
            self.exit_code = None if self.proc is None else self.proc.returncode
            return
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.exit_code = self.proc.wait()
        self.shutdown_seconds = time.monotonic() - started
        # pg_ctl stop removes postmaster.pid once the cluster is down.
        self.cluster_stopped = not (self.run_dir / ".data" / "postgres" / "postmaster.pid").exists()

    def save_log(self, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.log_path, dest)

    def cleanup(self) -> None:
        if self.keep_tmp:
            print(f"soak: kept {self.run_dir}")
        elif self.cluster_stopped is False:
            print(f"soak: the cluster in {self.run_dir} is still running; left it there for inspection")
        else:
            shutil.rmtree(self.run_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# The journey


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


# ---------------------------------------------------------------------------------------
# Running it


async def sample_memory(pid: int, samples: list[tuple[float, int]], stop: asyncio.Event, t0: float) -> None:
    while not stop.is_set():
        try:
            samples.append((time.monotonic() - t0, read_proc_status(pid)["VmRSS"]))
        except (OSError, KeyError):
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            pass


async def soak(args, server: Server) -> dict:
    stats = Stats()
    shared = Shared()
    run_id = uuid.uuid4().hex[:8]
    pid = server.pid
    before = {"status": read_proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid)}

    t0 = time.monotonic()
    stats.started = t0
    deadline = t0 + args.duration
    samples: list[tuple[float, int]] = []
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(sample_memory(pid, samples, stop_sampling, t0))
    clients = [Client(cid, args, server.base_url, stats, shared, run_id, deadline) for cid in range(args.clients)]
    tasks = [asyncio.create_task(c.run(t0)) for c in clients]

    await asyncio.sleep(args.warmup)
    start = {"status": read_proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid),
             "t": time.monotonic() - t0, "requests": stats.total}
    # The start figure is the lowest of up to three readings a second apart: a reading taken
    # while Argon2 hashes are in flight includes their buffers (19 MiB each), which would
    # hide that much growth.
    start_readings = [start["status"]["VmRSS"]]
    for _ in range(2):
        if deadline - time.monotonic() < 1.5:
            break
        await asyncio.sleep(1.0)
        start_readings.append(read_proc_status(pid)["VmRSS"])
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    end = {"status": read_proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid),
           "t": time.monotonic() - t0, "requests": stats.total}
    await asyncio.gather(*tasks)  # each finishes the iteration it is in
    load_seconds = time.monotonic() - t0
    await asyncio.sleep(1.0)
    # The end figure is read once the load is over, so no request (no hash) is in flight.
    idle = {"status": read_proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid)}
    stop_sampling.set()
    await sampler

    return {
        "stats": stats,
        "samples": samples,
        "before": before,
        "start": start,
        "end": end,
        "idle": idle,
        "load_seconds": load_seconds,
        "rss_start_kib": min(start_readings),
        "rss_end_kib": idle["status"]["VmRSS"],
        "signups": sum(c.account for c in clients),
    }


def mib(kib: int) -> float:
    return kib / 1024


def report(args, server: Server, result: dict, conditions: str) -> tuple[bool, str]:
    stats: Stats = result["stats"]
    lines: list[str] = []
    out = lines.append
    start_rss = result["rss_start_kib"]
    end_rss = result["rss_end_kib"]
    peak_rss = max([start_rss, end_rss] + [kib for _, kib in result["samples"]])
    hwm = result["idle"]["status"]["VmHWM"]
    growth_mib = mib(end_rss - start_rss)
    load = result["load_seconds"]

    out("")
    out(f"=== Chirpy soak: {args.clients} clients, {args.duration:g}s ({args.warmup:g}s warm-up), "
        f"{'release' if args.release else 'debug'} build, {server.base_url}")
    out(f"conditions: {conditions}")
    out("")
    header = f"{'step':<24} {'count':>8} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses"
    out(header)
    out("-" * len(header))
    per_step_errors = Counter()
    for (step, _), n in stats.errors.items():
        per_step_errors[step] += n
    for step in list(EXPECTED) + sorted(set(stats.latencies_ms) - set(EXPECTED)):
        values = sorted(stats.latencies_ms.get(step, []))
        if not values and not per_step_errors.get(step):
            continue
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(stats.statuses[step].items(), key=lambda kv: str(kv[0])))
        out(f"{step:<24} {len(values):>8} {per_step_errors.get(step, 0):>7} {percentile(values, 50):>8.1f} "
            f"{percentile(values, 99):>8.1f} {values[-1] if values else float('nan'):>8.1f}  {statuses}")
    every = sorted(v for vs in stats.latencies_ms.values() for v in vs)
    out("-" * len(header))
    out(f"{'all':<24} {stats.total:>8} {stats.error_count:>7} {percentile(every, 50):>8.1f} "
        f"{percentile(every, 99):>8.1f} {every[-1] if every else float('nan'):>8.1f}")
    out("")
    out(f"requests: {stats.total} in {load:.1f}s = {stats.total / load:.0f} req/s "
        f"(after warm-up: {(result['end']['requests'] - result['start']['requests']) / (result['end']['t'] - result['start']['t']):.0f} req/s); "
        f"sign-ups: {result['signups']}" + (f", accounts abandoned after repeated failures: {stats.recoveries}"
                                            if stats.recoveries else ""))
    if stats.errors:
        out("unexpected responses (step, status: count; first example):")
        for (step, what), n in stats.errors.most_common():
            out(f"  {step} {what}: {n}   e.g. {stats.error_examples[(step, what)]!r}")
        seen = {what for (_, what) in stats.errors}
        if "429" in seen:
            out("  NOTE: 429s: login brute-force protection refused correct logins from the soak's clients")
        if "503" in seen:
            out("  NOTE: 503s: the server ran out of database connections (or refused for another reason)")
    out("")
    s, e, idle = result["start"], result["end"], result["idle"]
    out(f"server RSS (VmRSS): before load {mib(result['before']['status']['VmRSS']):.1f} MiB; "
        f"start (after {args.warmup:g}s warm-up, lowest of up to 3 readings) {mib(start_rss):.1f} MiB; "
        f"end (1 s after the load) {mib(end_rss):.1f} MiB; growth {growth_mib:+.1f} MiB (bound {args.rss_bound_mib:g} MiB)")
    out(f"  last reading under load {mib(e['status']['VmRSS']):.1f} MiB; peak sampled every second {mib(peak_rss):.1f} MiB; "
        f"kernel high-water mark VmHWM {mib(hwm):.1f} MiB")
    timeline = " ".join(f"{t:.0f}s:{mib(kib):.0f}" for t, kib in result["samples"][:: max(1, len(result["samples"]) // 12)])
    out(f"RSS timeline (MiB): {timeline}")
    out(f"server threads: {s['status']['Threads']} -> {e['status']['Threads']} ({idle['status']['Threads']} idle); "
        f"open fds: before {result['before']['fds']}, after warm-up {s['fds']}, end {e['fds']}, 1 s after load {idle['fds']}; "
        f"server CPU: {idle['cpu'] - result['before']['cpu']:.1f} s over {load:.1f} s of load")

    log = server.log_path.read_text(errors="replace")
    log_errors = [line for line in log.splitlines() if " ERROR " in line]
    log_warns = [line for line in log.splitlines() if " WARN " in line]
    out(f"server log: {len(log_errors)} ERROR, {len(log_warns)} WARN lines")
    for line in log_errors[:10]:
        out(f"  {line}")
    shutdown = (f"SIGTERM -> exit {server.exit_code} in {server.shutdown_seconds or 0:.1f}s, "
                f"cluster {'stopped' if server.cluster_stopped else 'STILL RUNNING'}")
    out(f"shutdown: {shutdown}")

    failures = []
    if stats.server_errors:
        failures.append(f"{stats.server_errors} 5xx responses")
    if stats.error_count:
        failures.append(f"{stats.error_count} unexpected responses")
    if growth_mib > args.rss_bound_mib:
        failures.append(f"RSS grew {growth_mib:.1f} MiB (bound {args.rss_bound_mib:g} MiB)")
    if args.rss_max_mib and mib(peak_rss) > args.rss_max_mib:
        failures.append(f"RSS peaked at {mib(peak_rss):.1f} MiB (ceiling {args.rss_max_mib:g} MiB)")
    if log_errors:
        failures.append(f"{len(log_errors)} ERROR lines in the server log")
    if server.exit_code != 0:
        failures.append(f"the server exited with {server.exit_code} after SIGTERM")
    if not server.cluster_stopped:
        failures.append("the server's PostgreSQL cluster is still running")
    out("")
    out(f"soak: {stats.total} requests ({stats.total / load:.0f}/s), {stats.error_count} errors, "
        f"{stats.server_errors} 5xx, RSS start {mib(start_rss):.1f} MiB end {mib(end_rss):.1f} MiB "
        f"peak {mib(peak_rss):.1f} MiB ({growth_mib:+.1f} MiB, bound {args.rss_bound_mib:g})")
    out("soak: PASSED" if not failures else "soak: FAILED: " + "; ".join(failures))
    return not failures, "\n".join(lines)


def machine_conditions() -> str:
    load1, load5, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min) at start; " \
           f"client and server share the machine"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load, warm-up included")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before the start RSS is read")
    parser.add_argument("--rss-bound-mib", type=float, default=32, help="allowed RSS growth from warm-up to end")
    parser.add_argument("--rss-max-mib", type=float, default=0,
                        help="also fail if the sampled RSS ever exceeds this (0: no ceiling)")
    parser.add_argument("--release", action="store_true", help="use target/release/chirpy (soak/run builds it)")
    parser.add_argument("--binary", type=Path, help="the server binary (default: target/{debug,release}/chirpy)")
    parser.add_argument("--accounts-per-client", type=int, default=3,
                        help="sign-ups per client over the run (each costs an Argon2id hash, as does each login)")
    parser.add_argument("--keep-chirps", type=int, default=3, help="own chirps a client keeps before deleting the oldest")
    parser.add_argument("--revoke-every", type=int, default=23, help="log out (revoke) and in again every N iterations")
    parser.add_argument("--update-every", type=int, default=41, help="change email and password every N iterations")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rust-log", default="warn,chirpy=info", help="RUST_LOG for the server")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "target" / "soak",
                        help="where the report (report.txt, report.json) and the server log go")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra environment variable for the server (repeatable), e.g. "
                             "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the server's temp working directory")
    args = parser.parse_args()
    if args.clients < 1 or args.duration <= 0 or not 0 <= args.warmup < args.duration:
        parser.error("need --clients >= 1 and 0 <= --warmup < --duration")

    binary = args.binary or ROOT / "target" / ("release" if args.release else "debug") / "chirpy"
    if not binary.is_file():
        raise SystemExit(f"soak: {binary} not found: build it (cargo build{' --release' if args.release else ''})")

    extra_env = {}
    for item in args.server_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--server-env wants NAME=VALUE, not {item!r}")
        if name in {"HOST", "PORT", "DATABASE_URL", "DB_URL"}:
            parser.error(f"--server-env cannot set {name}: the soak stays on loopback with its own database")
        extra_env[name] = value
    conditions = machine_conditions() + "".join(f"; server env {k}={v}" for k, v in extra_env.items())
    server = Server(binary, args.rust_log, args.keep_tmp, extra_env)
    ok = False
    try:
        print(f"soak: starting {binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary} in {server.run_dir}")
        server.start()
        print(f"soak: server at {server.base_url} (pid {server.pid}); {args.clients} clients for {args.duration:g}s")
        result = asyncio.run(soak(args, server))
        server.stop()
        ok, text = report(args, server, result, conditions)
        print(text)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "report.txt").write_text(text + "\n")
        server.save_log(args.out_dir / "server.log")
        stats: Stats = result["stats"]
        summary = {
            "clients": args.clients, "duration_s": args.duration, "warmup_s": args.warmup,
            "build": "release" if args.release else "debug", "conditions": conditions,
            "requests": stats.total, "requests_per_s": stats.total / result["load_seconds"],
            "errors": stats.error_count, "server_errors_5xx": stats.server_errors,
            "errors_by_step_status": {f"{s} {w}": n for (s, w), n in stats.errors.items()},
            "rss_mib": {"before_load": mib(result["before"]["status"]["VmRSS"]),
                        "start": mib(result["rss_start_kib"]), "end": mib(result["rss_end_kib"]),
                        "end_under_load": mib(result["end"]["status"]["VmRSS"]),
                        "peak_sampled": mib(max([kib for _, kib in result["samples"]] or [0])),
                        "vmhwm": mib(result["idle"]["status"]["VmHWM"]), "bound_growth": args.rss_bound_mib,
                        "ceiling": args.rss_max_mib or None},
            "latency_ms": {step: {"count": len(v), "p50": percentile(sorted(v), 50), "p99": percentile(sorted(v), 99)}
                           for step, v in stats.latencies_ms.items()},
            "passed": ok,
        }
        (args.out_dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"soak: report and server log in {args.out_dir}")
    except BaseException:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()
        print(f"soak: server log tail:\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
