"""The cluster checks that break something under load: an instance killed with SIGKILL, and
the replica stopped. Load runs through haproxy's front from worker threads that record every
request; haproxy's stats socket says when it takes an instance out and puts it back, and
pg_stat_statements on each node says who served the chirp reads.
"""

from __future__ import annotations

import time
import uuid

from .cluster import LocalCluster
from .cluster_checks import CheckFailed, expect, log_in, new_account
from .cluster_config import CHECK_FALL, CHECK_INTER_MS, CHECK_RISE
from .cluster_http import (
    Load,
    between,
    by_instance,
    describe,
    failures,
    request,
    split_at,
    status_counts,
)
from .pgstats import share

WORKERS = 8
# How soon reads must return to a restarted replica: PgBouncer tries it again after 1 s and
# each instance checks it every second, so 10 s is plenty.
RETURN_WITHIN = 10
# How long haproxy may take to act on a change, past what its checks need in the worst case
# (fall or rise checks, the first up to one interval away): scheduling on a busy machine.
SLACK = 1.0


def seed(cluster: LocalCluster, chirps: int = 30) -> tuple[str, list[str], str]:
    """A user with `chirps` chirps: (access token, chirp ids, author id)."""
    session = log_in(cluster.url, *new_account(cluster.url, "load"))
    ids = [
        expect(
            request(cluster.url, "POST", "/api/chirps", {"body": f"load {n}"}, session["token"]), 201, "seed"
        ).json()["id"]
        for n in range(chirps)
    ]
    return session["token"], ids, session["id"]


def wait_for(predicate, timeout: float, step: float = 0.05) -> float | None:
    """Seconds until `predicate()` held, or None if it did not within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started <= timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    return None


# -- 5


def instance_killed(cluster: LocalCluster, victim: str = "a") -> str:
    """SIGKILL one instance under reads and writes through the front: only requests in flight
    on it fail, haproxy takes it out within its checks, and it serves again once restarted."""
    token, ids, _ = seed(cluster)

    def step(rng):
        if rng.random() < 0.5:
            return "GET", f"/api/chirps/{rng.choice(ids)}", None, None
        return "POST", "/api/chirps", {"body": f"under load {uuid.uuid4().hex[:8]}"}, token

    survivor = next(name for name in cluster.instances if name != victim)
    load = Load(cluster.url, WORKERS, step).start()
    try:
        time.sleep(2)
        kill_sent = time.monotonic()
        cluster.instances[victim].kill()
        # Reaped: its sockets are closed. A request sent before this reached a live process.
        killed_at = time.monotonic()
        down_after = wait_for(lambda: cluster.haproxy_stat()[victim]["status"].startswith("DOWN"), timeout=10)
        if down_after is None:
            raise CheckFailed(f"haproxy still had {victim} up 10 s after it was killed")
        sent_while_down = int(cluster.haproxy_stat()[victim]["stot"])
        time.sleep(1.5)
        if (later := int(cluster.haproxy_stat()[victim]["stot"])) != sent_while_down:
            raise CheckFailed(f"haproxy sent {later - sent_while_down} requests to {victim} after marking it down")
        restarted_at = time.monotonic()
        cluster.restart_instance(victim)
        ready_after = time.monotonic() - restarted_at
        up_after = cluster.wait_servers_up(
            timeout=CHECK_RISE * CHECK_INTER_MS / 1000 + CHECK_INTER_MS / 1000 + SLACK + 5
        )
        back_at = time.monotonic()
        time.sleep(1.5)
    finally:
        outcomes = load.stop()

    failed = failures(outcomes)
    # An instance's own 5xx is no casualty of the kill; haproxy's answers and dropped
    # connections are, if the request was in flight: sent before the victim died, and
    # still unanswered when the kill was sent.
    from_instances = [o for o in failed if o.served_by]
    in_flight, sent_after = split_at([o for o in failed if not o.served_by], killed_at)
    before_kill = [o for o in in_flight if o.ended < kill_sent]
    detect_bound = (CHECK_FALL + 1) * CHECK_INTER_MS / 1000 + SLACK
    rise_bound = (CHECK_RISE + 1) * CHECK_INTER_MS / 1000 + SLACK
    figures = (
        f"{len(outcomes)} requests, {len(failed)} failed ({status_counts(failed)}, all sent before the kill: "
        f"{len(in_flight)}); down after {down_after:.2f}s; restarted and ready in {ready_after:.2f}s, "
        f"up in haproxy {up_after:.2f}s later"
    )
    if from_instances:
        raise CheckFailed(
            f"instances answered with errors under the load:\n{describe(from_instances, killed_at)}\n{figures}"
        )
    if before_kill:
        raise CheckFailed(f"requests failed before the kill:\n{describe(before_kill, killed_at)}\n{figures}")
    if sent_after:
        raise CheckFailed(
            f"{len(sent_after)} requests sent after the kill failed (only those in flight may):\n"
            f"{describe(sent_after, killed_at)}\n{figures}"
        )
    if len(in_flight) > WORKERS:
        raise CheckFailed(
            f"{len(in_flight)} requests failed, more than could be in flight ({WORKERS}):\n"
            f"{describe(in_flight, killed_at)}"
        )
    if down_after > detect_bound:
        raise CheckFailed(f"haproxy took {down_after:.2f}s to mark {victim} down (checks allow {detect_bound:.1f}s)")
    if up_after > rise_bound:
        raise CheckFailed(
            f"haproxy took {up_after:.2f}s to put the restarted {victim} back (checks allow {rise_bound:.1f}s)"
        )
    after_back = [o for o in between(outcomes, back_at, float("inf")) if o.served_by == victim]
    if not any(o.ok for o in after_back):
        raise CheckFailed(
            f"the restarted {victim} served nothing once back up: {by_instance(between(outcomes, back_at, float('inf')))}"
        )
    while_down = by_instance(between(outcomes, killed_at + down_after, restarted_at))
    if set(while_down) - {survivor}:
        raise CheckFailed(f"while {victim} was down, answers came from {while_down}")
    return (
        f"{figures}; while down, answers from {while_down}; after: {len(after_back)} from {victim}; "
        f"the failures:\n{describe(failed, killed_at)}"
    )


# -- 6


def replica_stopped(cluster: LocalCluster, outage: float = 2.0, window: float = 0.5) -> str:
    """Stop the replica under chirp reads through the front: no 5xx, the primary serves the
    reads; start it again: reads return to it. The reads are one author's pages, which the
    chirp cache never keeps (it keeps chirps by id and the feed's first pages), so every one
    is a database read and the statement counts tell who served it."""
    _, _, author = seed(cluster)

    def step(rng):
        return "GET", f"/api/chirps?author_id={author}&sort=desc&limit={rng.randint(5, 15)}", None, None

    reads = cluster.chirp_reads()
    load = Load(cluster.url, WORKERS, step).start()
    try:
        time.sleep(0.5)
        before = reads.snapshot()
        time.sleep(1.5)
        healthy = reads.snapshot()
        healthy_share = share(healthy["replica"] - before["replica"], healthy["primary"] - before["primary"])

        stop_started = time.monotonic()
        cluster.stop_replica()
        stopped_at = time.monotonic()
        primary_before = reads.on("primary")
        counted_from = time.monotonic()
        time.sleep(outage)
        counted_to = time.monotonic()
        primary_after = reads.on("primary")
        outage_end = time.monotonic()

        cluster.start_replica()
        started_at = time.monotonic()
        returned_after, last = None, {}
        snapshot = reads.snapshot()
        while time.monotonic() - started_at < RETURN_WITHIN:
            time.sleep(window)
            now = reads.snapshot()
            last = {node: now[node] - snapshot[node] for node in now}
            snapshot = now
            if share(last["replica"], last["primary"]) >= 0.9:
                returned_after = time.monotonic() - started_at
                break
        replication = replication_state(cluster)
    finally:
        outcomes = load.stop()

    bad = failures(outcomes)
    during = between(outcomes, counted_from, counted_to)
    served_by_primary = primary_after - primary_before
    figures = (
        f"{len(outcomes)} reads, {len(bad)} failed; replica share before {healthy_share:.0%}; "
        f"replica stopped in {stopped_at - stop_started:.2f}s, then {len(during)} reads in {outage:g}s "
        f"and {served_by_primary} chirp-read statements on the primary"
    )
    if bad:
        raise CheckFailed(
            f"reads failed with the replica stopped or restarted ({status_counts(bad)}):\n"
            f"{describe(bad, stopped_at)}\n{figures}"
        )
    if not healthy_share >= 0.9:
        raise CheckFailed(f"before the replica stopped, it served only {healthy_share:.0%} of chirp reads\n{figures}")
    # A statement is counted when it ends, its answer a moment later: a read at either edge
    # of the window may be counted on the other side of it, hence the 5%.
    if served_by_primary < 0.95 * len(during):
        raise CheckFailed(
            f"with the replica down, {len(during)} reads succeeded but the primary ran only "
            f"{served_by_primary} chirp reads\n{figures}"
        )
    if returned_after is None:
        raise CheckFailed(
            f"{RETURN_WITHIN} s after the replica was back, reads had not returned to it "
            f"(chirp reads in the last {window}s: {last}); replication then: {replication}\n{figures}"
        )
    return f"{figures}; replica back (ready {started_at - outage_end:.2f}s), reads returned to it {returned_after:.2f}s later"


def replication_state(cluster: LocalCluster) -> str:
    """What a replica lag check sees: the replica's received and replayed positions and the age
    of the last commit it replayed, against the primary's position."""
    primary = cluster.psql("primary").scalar("select pg_current_wal_lsn()")
    received, replayed, age = cluster.psql("replica").rows(
        "select pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(),"
        " round(extract(epoch from now() - pg_last_xact_replay_timestamp())::numeric, 1)"
    )[0]
    return f"primary at {primary}; replica received {received}, replayed {replayed}, last commit replayed {age}s ago"
