"""The cluster checks that need no failure: the generated clients' journeys, the shared login
throttle and visit count, read-your-writes across instances, the one-instance features
(/admin/reset, refresh and revoke, the Polka webhook), and follows and the home timeline
(read your writes across instances, then under load). Requests go through haproxy's front,
whose replies say which instance answered (X-Served-By), or straight to one instance where
a check needs to choose which.

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
from .cluster_http import Load, Reply, by_instance, describe, failures, on_each, request, status_counts
from .pgstats import HOME_TIMELINE_FILES, share
from .sse import EventStream


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


# -- 8

# How long an event may take to reach a stream on another instance (the journeys allow the same).
EVENT_WITHIN = 2.0
# The server's default DB_REPLICA_MAX_LAG_MS, in seconds.
DEFAULT_MAX_LAG = 5.0
LINK_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def replica_may_lag(cluster: LocalCluster) -> float:
    """How long after a user's write an instance keeps reading for them from the primary:
    DB_REPLICA_MAX_LAG_MS plus two of the replica checks' one-second intervals
    (src/store/replica.rs)."""
    max_lag_ms = cluster.extra_env.get("DB_REPLICA_MAX_LAG_MS")
    return (float(max_lag_ms) / 1000 if max_lag_ms else DEFAULT_MAX_LAG) + 2.0


def next_link(header: str | None) -> str | None:
    """The URL of a `Link: <URL>; rel="next"` header (a path and query, as Chirpy sends it),
    or None on the last page."""
    if header is None:
        return None
    found = LINK_NEXT.search(header)
    if not found:
        raise CheckFailed(f"a Link header without rel=next: {header!r}")
    return found.group(1)


def time_key(timestamp: str) -> str:
    """An RFC 3339 UTC timestamp as a string that sorts as the time does, whatever the length
    of its fraction of a second."""
    whole, _, fraction = timestamp.removesuffix("Z").partition(".")
    return f"{whole}.{fraction.ljust(9, '0')}"


def newest_first(chirps: list[dict]) -> list[str]:
    """The chirps' ids in the home timeline's order: newest first, ties broken by id."""
    return [c["id"] for c in sorted(chirps, key=lambda c: (time_key(c["created_at"]), c["id"]), reverse=True)]


def post(url: str, token: str, body: str) -> dict:
    return expect(request(url, "POST", "/api/chirps", {"body": body}, token), 201, f"post {body!r}").json()


def get_json(url: str, path: str, token: str | None, what: str):
    """GET `path` on `url`, which must answer 200: its JSON."""
    return expect(request(url, "GET", path, token=token), 200, what).json()


def home_ids(url: str, token: str, what: str) -> list[str]:
    return [c["id"] for c in get_json(url, "/api/timelines/home", token, what)]


def paged_home(urls: list[str], token: str, limit: int = 1) -> list[str]:
    """The whole home timeline, `limit` at a time, following Link, each page asked of the
    next instance of `urls` in turn (so each cursor is read by another instance than the one
    that wrote it)."""
    ids: list[str] = []
    path: str | None = f"/api/timelines/home?limit={limit}"
    while path is not None:
        page = expect(request(urls[len(ids) // limit % len(urls)], "GET", path, token=token), 200, f"GET {path}")
        items = page.json()
        if len(items) != limit and page.headers.get("link"):
            raise CheckFailed(f"GET {path}: {len(items)} chirps, not {limit}, yet a Link to more")
        ids += [c["id"] for c in items]
        path = next_link(page.headers.get("link"))
        if len(ids) > 1000:
            raise CheckFailed(f"the home timeline pages never end: {len(ids)} chirps so far")
    return ids


def expect_event(stream: EventStream, kind: str, what: str) -> dict:
    try:
        event = stream.next_event(within=EVENT_WITHIN)
    except (TimeoutError, EOFError) as exc:
        raise CheckFailed(f"{what}: no {kind} event ({exc})") from None
    if event.event != kind:
        raise CheckFailed(f"{what}: expected a {kind} event, got {event.event}: {event.data[:200]}")
    return event.json()


def follows_across_instances(cluster: LocalCluster, rounds: int = 4) -> str:
    """A user follows another through one instance and, through the other at once, reads
    their home timeline with the followee's chirps, paged with cursors from both instances,
    and the followee's profile with the new follower count; the follower's live home feed,
    open on the other instance, hears the follow and the followee's next chirp; a handle set
    through one instance finds the profile through the other; the unfollow, through the
    other instance, shows through the first at once."""
    url = cluster.url
    names = sorted(cluster.instances)
    lag = replica_may_lag(cluster)
    slowest_event = slowest_chirp = 0.0
    for n in range(rounds):
        writer_name, reader_name = names[n % 2], names[(n + 1) % 2]
        w, r = cluster.instances[writer_name].url, cluster.instances[reader_name].url
        where = f"round {n}, written on {writer_name}, read on {reader_name}"
        followee = log_in(url, *new_account(url, "followee"))
        follower = log_in(url, *new_account(url, "follower"))
        fe, fr = followee["id"], follower["id"]

        handle = f"Followee_{uuid.uuid4().hex[:12]}"
        edit = request(w, "PATCH", "/api/users/me", {"handle": handle}, followee["token"])
        expect(edit, 200, f"{where}: set a handle")
        by_handle = get_json(r, f"/api/users/{handle.upper()}", followee["token"], f"{where}: profile by handle")
        if by_handle["id"] != fe or by_handle["handle"] != handle or "email" in by_handle:
            raise CheckFailed(f"{where}: the profile by handle {handle.upper()} is {by_handle}")

        theirs = [post(w, followee["token"], f"followee {n}.{k}") for k in range(3)]
        own = post(r, follower["token"], f"follower {n}")
        with EventStream(r, "/api/timelines/home/stream", token=follower["token"]) as live:
            expect(live.reply, 200, f"{where}: the follower's home stream")
            expect(request(w, "PUT", f"/api/users/{fe}/follow", token=follower["token"]), 204, f"{where}: follow")
            followed_at = time.monotonic()

            wanted = newest_first([*theirs, own])
            got = home_ids(r, follower["token"], f"{where}: home timeline")
            if got != wanted:
                raise CheckFailed(f"{where}: the home timeline read at once is {got}, not {wanted}")
            if (paged := paged_home([r, w], follower["token"])) != wanted:
                raise CheckFailed(f"{where}: paged on both instances, the home timeline is {paged}, not {wanted}")
            profile = get_json(r, f"/api/users/{fe}", follower["token"], f"{where}: profile")
            if (profile["followers_count"], profile.get("followed_by_me")) != (1, True):
                raise CheckFailed(f"{where}: right after the follow, the followee's profile says {profile}")
            mine = get_json(r, f"/api/users/{fr}", follower["token"], f"{where}: own profile")
            if mine["following_count"] != 1:
                raise CheckFailed(f"{where}: right after the follow, the follower's profile says {mine}")
            listed = get_json(r, f"/api/users/{fr}/following", follower["token"], f"{where}: following")
            if [p["id"] for p in listed] != [fe]:
                raise CheckFailed(f"{where}: right after the follow, the follower follows {listed}")

            edge = expect_event(live, "follow.created", f"{where}: the home stream after the follow")
            if edge != {"follower_id": fr, "followee_id": fe}:
                raise CheckFailed(f"{where}: follow.created says {edge}")
            slowest_event = max(slowest_event, time.monotonic() - followed_at)
            fresh = post(w, followee["token"], f"followee {n}, live")
            posted_at = time.monotonic()
            arrived = expect_event(live, "chirp.created", f"{where}: the home stream after the followee's chirp")
            if arrived != fresh:
                raise CheckFailed(f"{where}: chirp.created says {arrived}, not {fresh}")
            slowest_event = max(slowest_event, time.monotonic() - posted_at)

        # Another user's chirp: promised within the replica's lag, so asked until then.
        while fresh["id"] not in (got := home_ids(r, follower["token"], f"{where}: home timeline")):
            if time.monotonic() - posted_at > lag:
                raise CheckFailed(f"{where}: {lag:g}s after the followee's chirp, the home timeline is {got}")
            time.sleep(0.05)
        slowest_chirp = max(slowest_chirp, time.monotonic() - posted_at)

        expect(request(r, "DELETE", f"/api/users/{fe}/follow", token=follower["token"]), 204, f"{where}: unfollow")
        if (got := home_ids(w, follower["token"], f"{where}: home timeline")) != [own["id"]]:
            raise CheckFailed(f"{where}: right after the unfollow on {reader_name}, the home timeline is {got}")
        profile = get_json(w, f"/api/users/{fe}", follower["token"], f"{where}: profile")
        if (profile["followers_count"], profile.get("followed_by_me")) != (0, False):
            raise CheckFailed(f"{where}: right after the unfollow, the followee's profile says {profile}")
    return (
        f"{rounds} rounds, each way across {' and '.join(names)}: follow, then home timeline (whole, and paged "
        f"across both), profile counts and following read at once on the other instance; unfollow likewise; "
        f"live events on the other instance within {slowest_event:.2f}s; a followee's new chirp in the timeline "
        f"within {slowest_chirp:.2f}s (promised within {lag:g}s)"
    )


# -- 9


def follows_under_load(cluster: LocalCluster, people: int = 8, workers: int = 8) -> str:
    """Follows, unfollows, posts, profiles, follow lists and home timelines under load through
    the front, with PgBouncer (in the cluster's pool mode) in front of the primary and the
    replica: every answer 2xx, and the replica serves home timelines once their readers'
    own writes are old enough."""
    url = cluster.url
    crowd = [log_in(url, *new_account(url, "crowd")) for _ in range(people)]
    readers, writers = crowd[: people // 2], crowd[people // 2 :]
    handles = []
    for n, person in enumerate(crowd):
        handle = f"crowd_{n}_{uuid.uuid4().hex[:8]}"
        expect(request(url, "PATCH", "/api/users/me", {"handle": handle}, person["token"]), 200, "set a handle")
        handles.append(handle)
        post(url, person["token"], f"crowd {n}")
    for reader in readers:
        for writer in writers:
            expect(request(url, "PUT", f"/api/users/{writer['id']}/follow", token=reader["token"]), 204, "follow")
    ids = [p["id"] for p in crowd]

    def step(rng):
        roll = rng.random()
        if roll < 0.4:
            limit = rng.choice(["", "?limit=1", "?limit=5", "?limit=100"])
            return "GET", f"/api/timelines/home{limit}", None, rng.choice(readers)["token"]
        if roll < 0.55:
            path = rng.choice(
                [f"/api/users/{rng.choice(ids)}", f"/api/users/@{rng.choice(handles).upper()}"]
                + [f"/api/users/{rng.choice(ids)}/{which}?limit=3" for which in ("followers", "following")]
            )
            return "GET", path, None, rng.choice([None, rng.choice(crowd)["token"]])
        writer = rng.choice(writers)
        if roll < 0.85:
            other = rng.choice([p for p in crowd if p is not writer])
            return rng.choice(["PUT", "DELETE"]), f"/api/users/{other['id']}/follow", None, writer["token"]
        return "POST", "/api/chirps", {"body": f"crowd {uuid.uuid4().hex[:8]}"}, writer["token"]

    # Until a reader's follows are `lag` old, their timelines come from the primary; after
    # that, from the replica.
    lag = replica_may_lag(cluster)
    reads = cluster.chirp_reads(HOME_TIMELINE_FILES)
    before = reads.snapshot()
    load = Load(url, workers, step).start()
    try:
        time.sleep(lag + 3)
    finally:
        outcomes = load.stop()
    after = reads.snapshot()
    on = {node: after[node] - before[node] for node in after}
    bad = failures(outcomes)
    figures = (
        f"{len(outcomes)} requests ({status_counts(outcomes)}) over {by_instance(outcomes)}, PgBouncer in "
        f"{cluster.pool_mode} mode; home timeline statements: replica {on['replica']}, primary {on['primary']} "
        f"(replica share {share(on['replica'], on['primary']):.0%})"
    )
    if bad:
        raise CheckFailed(f"{len(bad)} requests failed under the follow and timeline load:\n{describe(bad)}\n{figures}")
    if not on["replica"]:
        raise CheckFailed(
            f"the replica served no home timeline, though its readers wrote nothing for {lag + 3:g}s\n{figures}"
        )
    return figures
