"""The cluster checks that need no failure: the generated clients' journeys, the shared login
throttle and visit count, read-your-writes across instances, and the one-instance features
(/admin/reset, refresh and revoke, the Polka webhook). Every request goes through haproxy's
front; which instance answered is in each reply's X-Served-By.

Each check returns a one-line summary of what it measured, or raises CheckFailed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections import Counter

from .binaries import ROOT
from .cluster import LocalCluster
from .cluster_http import Reply, on_each, request


class CheckFailed(Exception):
    """A check found the cluster misbehaving; the message says how."""


def expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise CheckFailed(
            f"{what}: expected {status}, got {reply.status} from {reply.served_by or 'haproxy'}: {reply.body[:300]!r}"
        )
    return reply


def new_account(url: str, label: str, password: str = "correct horse") -> tuple[str, str]:
    email = f"{label}-{uuid.uuid4().hex[:10]}@example.com"
    expect(request(url, "POST", "/api/users", {"email": email, "password": password}), 201, f"sign-up of {email}")
    return email, password


def log_in(url: str, email: str, password: str) -> dict:
    return expect(request(url, "POST", "/api/login", {"email": email, "password": password}), 200, "log-in").json()


# -- 1


def journeys(cluster: LocalCluster) -> str:
    """The Python and TypeScript clients generated from openapi/openapi.yaml (as `just
    contract` generates them) run the whole user journey through the front."""
    before = requests_per_instance(cluster)
    steps: list[str] = []
    python = run_step("python-env", ["scripts/python-env"], steps).strip()
    client = ROOT / "target" / "cluster" / "python-client"
    shutil.rmtree(client, ignore_errors=True)
    client.parent.mkdir(parents=True, exist_ok=True)
    generator = os.path.join(os.path.dirname(python), "openapi-python-client")
    run_step(
        "python client generated",
        [
            generator,
            "generate",
            "--path",
            "openapi/openapi.yaml",
            "--output-path",
            str(client),
            "--config",
            "contract/python/generator-config.yaml",
            "--overwrite",
        ],
        steps,
    )
    run_step(
        "python journey",
        [python, "contract/python/journey.py", cluster.url, cluster.polka_key],
        steps,
        env={"PYTHONPATH": str(client)},
    )
    ts = ROOT / "contract" / "typescript"
    lock, modules = ts / "package-lock.json", ts / "node_modules"
    if not modules.is_dir() or lock.stat().st_mtime > modules.stat().st_mtime:
        run_step("npm ci", ["npm", "ci", "--prefix", str(ts), "--no-audit", "--no-fund", "--loglevel=error"], steps)
    run_step("typescript client generated", ["npm", "run", "--silent", "--prefix", str(ts), "generate"], steps)
    run_step("tsc", ["npm", "run", "--silent", "--prefix", str(ts), "build"], steps)
    run_step("typescript journey", ["node", str(ts / "dist" / "journey.js"), cluster.url, cluster.polka_key], steps)
    served = {name: n - before[name] for name, n in requests_per_instance(cluster).items()}
    if not all(served.values()):
        raise CheckFailed(f"the journeys' requests all went to one instance: {served}")
    return f"both journeys passed; requests served per instance {served}; " + ", ".join(steps)


def run_step(name: str, cmd: list[str], steps: list[str], env: dict[str, str] | None = None) -> str:
    started = time.monotonic()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-30:])
        raise CheckFailed(f"{name} failed (exit {out.returncode}): {' '.join(cmd[:3])} ...\n{tail}")
    steps.append(f"{name} {time.monotonic() - started:.1f}s")
    return out.stdout


def requests_per_instance(cluster: LocalCluster) -> dict[str, int]:
    """Every request haproxy has sent each instance so far (`show stat`'s stot)."""
    return {name: int(row["stot"]) for name, row in cluster.haproxy_stat().items()}


# -- 2


def login_throttle(cluster: LocalCluster, limit: int = 5) -> str:
    """`limit` failed logins for one account, spread over both instances, lock it on all."""
    url = cluster.url
    email, password = new_account(url, "throttled")
    wrong = {"email": email, "password": "not the password"}
    served = Counter()
    for attempt in range(1, limit + 1):
        reply = expect(request(url, "POST", "/api/login", wrong), 401, f"failed login {attempt} of {limit}")
        served[reply.served_by] += 1
    if len(served) < 2:
        raise CheckFailed(f"the {limit} failed logins were not spread over both instances: {dict(served)}")
    # Each instance alone saw fewer than `limit`: a count kept per instance would not lock yet.
    locked = on_each(cluster.instances, lambda: request(url, "POST", "/api/login", wrong))
    for name, reply in locked.items():
        expect(reply, 429, f"login {limit + 1} (wrong password) on instance {name}")
        if not reply.headers.get("retry-after", "").isdigit():
            raise CheckFailed(f"the 429 from {name} has no Retry-After in seconds: {reply.headers}")
    right = {"email": email, "password": password}
    for name, reply in on_each(cluster.instances, lambda: request(url, "POST", "/api/login", right)).items():
        expect(reply, 429, f"the right password while locked, on instance {name}")
    return f"failed logins per instance {dict(sorted(served.items()))}, then 429 on both, right password too"


# -- 3

VISITED = re.compile(r"visited (\d+) times")


def visits_on_each(cluster: LocalCluster) -> dict[str, int]:
    replies = on_each(cluster.instances, lambda: request(cluster.url, "GET", "/admin/metrics"))
    counts = {}
    for name, reply in replies.items():
        found = VISITED.search(expect(reply, 200, f"/admin/metrics on {name}").body.decode())
        if not found:
            raise CheckFailed(f"/admin/metrics on {name} does not say how many visits: {reply.body[:200]!r}")
        counts[name] = int(found.group(1))
    return counts


def shared_visits(cluster: LocalCluster, hits: int = 20, within: float = 2.0) -> str:
    """`/app/` hits spread over both instances show in full on either's /admin/metrics
    within `within` seconds."""
    # Settled: every instance's earlier visits are in the database (each adds its own every
    # second), so both report the same total.
    deadline = time.monotonic() + 5
    while len(set((baseline := visits_on_each(cluster)).values())) != 1:
        if time.monotonic() > deadline:
            raise CheckFailed(f"the visit counts never agreed before the check: {baseline}")
        time.sleep(0.2)
    base = next(iter(baseline.values()))
    served = Counter(expect(request(cluster.url, "GET", "/app/"), 200, "GET /app/").served_by for _ in range(hits))
    last_hit = time.monotonic()
    if len(served) < 2:
        raise CheckFailed(f"the /app/ hits were not spread over both instances: {dict(served)}")
    while True:
        counts = visits_on_each(cluster)
        if all(count == base + hits for count in counts.values()):
            return (
                f"{hits} hits {dict(sorted(served.items()))}: both report {base + hits} "
                f"{time.monotonic() - last_hit:.2f}s after the last hit"
            )
        if any(count > base + hits for count in counts.values()) or time.monotonic() - last_hit > within:
            raise CheckFailed(
                f"after {hits} hits on top of {base}, /admin/metrics says {counts} "
                f"{time.monotonic() - last_hit:.2f}s after the last hit (want {base + hits} on both within {within}s)"
            )
        time.sleep(0.1)


# -- 4


def read_your_writes(cluster: LocalCluster, chirps: int = 20) -> str:
    """A chirp posted through one instance is read by id through the other at once."""
    url = cluster.url
    token = log_in(url, *new_account(url, "writer"))["token"]
    reads = cluster.chirp_reads()
    before = reads.snapshot()
    pairs = Counter()
    for n in range(chirps):
        posted = expect(request(url, "POST", "/api/chirps", {"body": f"chirp {n}"}, token), 201, f"post {n}")
        chirp = posted.json()
        # Round robin sends the next request to the other instance; a read by the same one
        # (some other client got in between) does not count, so ask again.
        for _ in range(4):
            got = request(url, "GET", f"/api/chirps/{chirp['id']}")
            if got.served_by != posted.served_by:
                break
        else:
            raise CheckFailed(f"every read of chirp {n} went to {posted.served_by}, the instance that posted it")
        expect(got, 200, f"chirp {n}, posted on {posted.served_by}, read at once on {got.served_by}")
        if got.json() != chirp:
            raise CheckFailed(f"chirp {n} read on {got.served_by} differs from the one posted: {got.json()} vs {chirp}")
        pairs[f"{posted.served_by}->{got.served_by}"] += 1
    after = reads.snapshot()
    on = {node: after[node] - before[node] for node in after}
    return (
        f"{chirps} chirps read at once on the other instance {dict(sorted(pairs.items()))}; "
        f"chirp-read statements: replica {on['replica']}, primary {on['primary']} (a replica miss is retried on the primary)"
    )


# -- 7


def single_instance_features(cluster: LocalCluster) -> str:
    """Refresh and revoke, the Polka webhook and /admin/reset, each acted on through one
    instance and seen through the other."""
    url, names = cluster.url, cluster.instances
    email, password = new_account(url, "features")
    session = log_in(url, email, password)
    refresh = session["refresh_token"]
    for name, reply in on_each(names, lambda: request(url, "POST", "/api/refresh", token=refresh)).items():
        expect(reply, 200, f"refresh on {name}")
    revoked = expect(request(url, "POST", "/api/revoke", token=refresh), 204, "revoke")
    for name, reply in on_each(names, lambda: request(url, "POST", "/api/refresh", token=refresh)).items():
        expect(reply, 401, f"refresh on {name} after the revoke on {revoked.served_by}")

    event = {"event": "user.upgraded", "data": {"user_id": session["id"]}}
    polka = {"Authorization": f"ApiKey {cluster.polka_key}"}
    hook = expect(request(url, "POST", "/api/polka/webhooks", event, headers=polka), 204, "Polka webhook")
    expect(
        request(url, "POST", "/api/polka/webhooks", event, headers={"Authorization": "ApiKey wrong"}),
        401,
        "Polka webhook with a wrong key",
    )
    for name, reply in on_each(
        names, lambda: request(url, "POST", "/api/login", {"email": email, "password": password})
    ).items():
        if expect(reply, 200, f"log-in on {name}").json().get("is_chirpy_red") is not True:
            raise CheckFailed(f"after the webhook on {hook.served_by}, log-in on {name} says not Chirpy Red")

    token = log_in(url, email, password)["token"]
    chirp = expect(request(url, "POST", "/api/chirps", {"body": "before the reset"}, token), 201, "post").json()
    expect(request(url, "GET", "/app/"), 200, "GET /app/")
    reset = expect(request(url, "POST", "/admin/reset"), 200, "/admin/reset")
    reset_at = time.monotonic()
    for name, reply in on_each(names, lambda: request(url, "GET", f"/api/chirps/{chirp['id']}")).items():
        expect(reply, 404, f"the chirp on {name} after /admin/reset on {reset.served_by}")
    for name, reply in on_each(
        names, lambda: request(url, "POST", "/api/login", {"email": email, "password": password})
    ).items():
        expect(reply, 401, f"log-in on {name} after /admin/reset on {reset.served_by}")
    while (counts := visits_on_each(cluster)) != dict.fromkeys(names, 0):
        if time.monotonic() - reset_at > 2:
            raise CheckFailed(f"2 s after /admin/reset on {reset.served_by}, /admin/metrics says {counts}")
        time.sleep(0.1)
    expect(
        request(url, "POST", "/api/users", {"email": email, "password": password}), 201, "sign-up again after the reset"
    )
    return (
        f"refresh on both, revoke on {revoked.served_by} holds on both; webhook on {hook.served_by} seen on both; "
        f"/admin/reset on {reset.served_by}: chirp 404, log-in 401, visits 0 on both"
    )
