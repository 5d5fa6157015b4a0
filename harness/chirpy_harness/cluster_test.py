"""Brings up the local cluster (see `cluster`) and runs every check through its front (or
straight to one instance, where a check must choose which).

    python3 -m chirpy_harness.cluster_test [--only N,N...] [--env NAME=VALUE]... [--pool-mode MODE]
        (`just cluster-test`)

Each check prints PASS or FAIL with what it measured; the cluster is torn down either way and
its logs are kept in target/cluster/logs. Exit status 1 if any check failed, an instance
logged an ERROR, or a piece did not stop cleanly.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
import traceback

from . import cluster_checks as checks
from . import cluster_failover as failover
from .binaries import ROOT
from .binaries import bin_dir as find_bin_dir
from .cluster import LocalCluster, Stop, add_cluster_options, on_sigterm
from .errors import HarnessError

CHECKS = [
    (1, "generated clients' journeys", checks.journeys),
    (2, "login throttle shared by the instances", checks.login_throttle),
    (3, "visit count shared by the instances", checks.shared_visits),
    (4, "read-your-writes across instances", checks.read_your_writes),
    (5, "an instance killed under load", failover.instance_killed),
    (6, "the replica stopped under read load", failover.replica_stopped),
    (7, "one-instance features through the cluster", checks.single_instance_features),
    (8, "follows and the home timeline across instances", checks.follows_across_instances),
    (9, "follows and timelines under load, through PgBouncer and the replica", checks.follows_under_load),
]
LOGS = ROOT / "target" / "cluster" / "logs"


def repair(cluster: LocalCluster) -> None:
    """Puts back what a failed check may have left down, so the next check starts whole."""
    if cluster.replica and not cluster.replica.running():
        cluster.start_replica()
    for name, server in cluster.instances.items():
        if not server.running():
            cluster.restart_instance(name)
    cluster.wait_servers_up(timeout=10)


def run_checks(cluster: LocalCluster, only: set[int]) -> list[tuple[int, str, bool, float]]:
    results = []
    for number, name, check in CHECKS:
        if only and number not in only:
            continue
        started = time.monotonic()
        try:
            repair(cluster)
            summary, passed = check(cluster), True
        except checks.CheckFailed as exc:
            summary, passed = str(exc), False
        except HarnessError as exc:
            summary, passed = f"the harness could not run it: {exc}", False
        except Exception:  # noqa: BLE001 - a bug in a check must not skip the teardown or the rest
            summary, passed = traceback.format_exc(), False
        took = time.monotonic() - started
        print(f"{'PASS' if passed else 'FAIL'} {number}. {name} ({took:.1f}s): {summary}", flush=True)
        results.append((number, name, passed, took))
    return results


def keep_logs(cluster: LocalCluster) -> None:
    """Every piece's log, and PostgreSQL's own, to target/cluster/logs."""
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    for log in cluster.root.glob("*/*.log"):
        shutil.copyfile(log, LOGS / log.name)
    for node in ("primary", "replica"):
        server_log = cluster.root / node / "data" / "server.log"
        if server_log.exists():
            shutil.copyfile(server_log, LOGS / f"{node}-postgres.log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m chirpy_harness.cluster_test", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--only", default="", help="comma-separated check numbers (default: all)")
    add_cluster_options(parser)
    args = parser.parse_args(argv)
    only = {int(n) for n in args.only.split(",") if n.strip()}
    signal.signal(signal.SIGTERM, on_sigterm)
    begun = time.monotonic()
    cluster, results, problems = None, [], []
    try:
        cluster = LocalCluster(find_bin_dir("debug"), pool_mode=args.pool_mode, env=dict(args.env))
        print(f"::: cluster-test: starting the cluster under {cluster.root}", flush=True)
        cluster.start()
        print(cluster.describe(), flush=True)
        print(f"::: cluster-test: up in {cluster.timings['up']:.1f}s", flush=True)
        results = run_checks(cluster, only)
    except (KeyboardInterrupt, Stop):
        problems.append("interrupted")
    except HarnessError as exc:
        problems.append(f"the cluster did not come up: {exc}")
    finally:
        if cluster:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            stopping = time.monotonic()
            problems += cluster.stop()
            errors = [f"{s.name}: {line}" for s in cluster.instances.values() for line in s.errors_in_log()]
            if errors:
                problems.append("the instances logged errors:\n" + "\n".join(errors[:20]))
            keep_logs(cluster)
            cluster.remove()
            print(f"::: cluster-test: stopped in {time.monotonic() - stopping:.1f}s; logs in {LOGS}", flush=True)
    failed = [f"{n}. {name}" for n, name, passed, _ in results if not passed]
    for problem in problems:
        print(f"cluster-test: {problem}", file=sys.stderr)
    total = time.monotonic() - begun
    print(
        f"::: cluster-test: {len(results) - len(failed)} of {len(results)} checks passed in {total:.0f}s"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        flush=True,
    )
    return 1 if failed or problems or not results else 0


if __name__ == "__main__":
    sys.exit(main())
