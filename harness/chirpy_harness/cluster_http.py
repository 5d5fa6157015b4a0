"""HTTP for the cluster checks: single requests that say which instance answered, and steady
load from worker threads that records every request's outcome and timing."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .cluster_config import SERVED_BY
from .errors import HarnessError


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def served_by(self) -> str:
        """The instance haproxy relayed this from; "" for an answer of haproxy's own."""
        return self.headers.get(SERVED_BY.lower(), "")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HarnessError(f"not JSON ({self.status}): {self.body[:200]!r}") from exc


def connect(base_url: str, timeout: float = 30) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body=None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on `conn` (JSON body if given; `token` as a Bearer credential)."""
    all_headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=data, headers=all_headers)
    resp = conn.getresponse()
    raw = resp.read()
    return Reply(resp.status, raw, {k.lower(): v for k, v in resp.getheaders()})


def request(
    base_url: str, method: str, path: str, body=None, token: str | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """One request on a connection of its own, so haproxy balances it afresh."""
    conn = connect(base_url)
    try:
        return send(conn, method, path, body, token, headers)
    finally:
        conn.close()


def on_each(instances: Iterable[str], ask: Callable[[], Reply], tries: int = 8) -> dict[str, Reply]:
    """Calls `ask` (a request through the front) until every instance has answered once:
    {instance: its reply}. Round robin takes two calls for two instances."""
    wanted, got = set(instances), {}
    for _ in range(tries):
        reply = ask()
        got.setdefault(reply.served_by, reply)
        if wanted <= got.keys():
            return {name: got[name] for name in sorted(wanted)}
    seen = {name: reply.status for name, reply in got.items()}
    raise HarnessError(f"not every instance of {sorted(wanted)} answered in {tries} requests; answers: {seen}")


@dataclass
class Outcome:
    started: float  # time.monotonic()
    ended: float
    method: str
    status: int  # 0: no HTTP answer at all (connection refused, reset, timed out)
    served_by: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# A worker's next request: (method, path, JSON body or None, bearer token or None).
Step = tuple[str, str, object, "str | None"]


class Load:
    """`workers` threads, each on its own keep-alive connection through `base_url`, sending
    what `next_step(rng)` says, back to back, until `stop()`."""

    def __init__(self, base_url: str, workers: int, next_step: Callable[[random.Random], Step]):
        self.base_url = base_url
        self.next_step = next_step
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(n,), daemon=True) for n in range(workers)]

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        return self.snapshot()

    def snapshot(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)

    def work(self, n: int) -> None:
        rng = random.Random(n)
        conn = connect(self.base_url, timeout=10)
        while not self.stopping.is_set():
            method, path, body, token = self.next_step(rng)
            started = time.monotonic()
            try:
                reply = send(conn, method, path, body, token)
                outcome = Outcome(started, time.monotonic(), method, reply.status, reply.served_by)
                if reply.status >= 500:
                    outcome.error = reply.body[:200].decode(errors="replace")
            except (OSError, http.client.HTTPException) as exc:
                outcome = Outcome(started, time.monotonic(), method, 0, "", f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = connect(self.base_url, timeout=10)
            with self.lock:
                self.outcomes.append(outcome)
        conn.close()


def between(outcomes: list[Outcome], start: float, end: float) -> list[Outcome]:
    """The outcomes of requests that ended within [start, end)."""
    return [o for o in outcomes if start <= o.ended < end]


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.ok]


def split_at(outcomes: list[Outcome], moment: float) -> tuple[list[Outcome], list[Outcome]]:
    """(requests already sent at `moment`, requests sent after it)."""
    return [o for o in outcomes if o.started <= moment], [o for o in outcomes if o.started > moment]


def describe(outcomes: list[Outcome], moment: float | None = None, limit: int = 8) -> str:
    """A few outcomes, for a failure message: method, status, instance, timing, error."""
    lines = []
    for o in outcomes[:limit]:
        at = f" sent {o.started - moment:+.3f}s, answered {o.ended - moment:+.3f}s" if moment is not None else ""
        lines.append(
            f"  {o.method} -> {o.status or 'no answer'} from {o.served_by or 'haproxy'}{at} {o.error}".rstrip()
        )
    if len(outcomes) > limit:
        lines.append(f"  ... and {len(outcomes) - limit} more")
    return "\n".join(lines)


def status_counts(outcomes: list[Outcome]) -> dict[str, int]:
    """{"200": n, "502": n, "no answer": n, ...}."""
    return dict(sorted(Counter(str(o.status) if o.status else "no answer" for o in outcomes).items()))


def by_instance(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(sorted(Counter(o.served_by or "haproxy" for o in outcomes).items()))
