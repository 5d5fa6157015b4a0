"""`just bench`: Chirpy's throughput, latency and memory, next to the ceilings that bound them.

It starts a throwaway PostgreSQL (`devpg run`, with PostgreSQL's durability defaults) and the
server on it (`chirpy serve`, DATABASE_URL, PLATFORM=dev, PORT=0, CHIRP_CACHE_MIB=96 and
METRICS_ADDR on a port of its own, so the cache's hits are counted), both pinned to the same
CPUs, in an empty temp working directory; binaries from CHIRPY_BIN_DIR, else a cargo build
(release; debug with --quick). It seeds 1,000 users (one signed up through the API for a real
Argon2id hash, copied to the rest with SQL so every seeded user can log in) and chirps (100,
then 10,000, then 100,000; --quick: 100 and 1,000), and measures each case with wrk
(requests/s, p50, p99, errors) while sampling the server's VmRSS every 100 ms, next to
pgbench running the server's own statement (src/store/sql/) where the case has a database
ceiling:

  1. GET /api/healthz                          the HTTP stack's own ceiling
  2. GET /api/chirps/{id}, random ids: hot     every chirp in the cache first, vs pgbench
                                               (chirp_by_id.sql) and /api/healthz;
     with If-None-Match                        each chirp's current ETag: 304, vs /api/healthz;
     cold                                      a second server, CHIRP_CACHE_MIB=0, vs pgbench
  3. GET /api/chirps over 100, 10k, 100k       vs pgbench: chirps_asc.sql (100); and the newest
                                               page, ?sort=desc&limit=100, vs chirps_desc.sql
  4. GET /api/chirps?author_id=..&sort=desc    100k chirps by 1,000 authors
  5. POST /api/chirps with valid tokens        vs pgbench: insert_chirp.sql
  6. POST /api/login                           vs the Argon2id ceiling (hash-cost), and the
                                               p99 of a paced reader during the storm vs at rest
  7. idle RSS, and process start -> first 200 from /api/healthz with the database up
  8. metrics on vs off                         /api/healthz and hot reads by id, here and on a
                                               second server without METRICS_ADDR, alternating
  9. the home timeline                         a social data set of its own (10,000 users,
                                               1,000,000 chirps, a power-law follow graph;
                                               --quick: 300 and 20,000) on another database and
                                               server: GET /api/timelines/home for random users
                                               and for those following 5,000, vs pgbench running
                                               the naive query and the server's statement; the
                                               account everyone follows posting while timelines
                                               are read; and fan-out on write and a hybrid,
                                               prototyped in SQL (bench/sql/), side by side

With two or more CPUs (and unless --no-pin), the servers and their PostgreSQL run on one half
of them and wrk, pgbench and this script on the other, so the load generator never takes CPU
from what it measures. Besides requests/s and latency, each case reports the CPU time per
request of the server, of PostgreSQL and of the load generator, and how busy the machine was
with anything else (noise).

The full run rewrites the generated region of BENCHMARKS.md (between its bench:begin and
bench:end markers) and the charts it links (docs/bench/*.svg); --quick (the CI smoke) only
prints. `--only core` (1 to 8) or `--only social` (9) runs one part and rewrites only its text
in the region (and the charts with the core), keeping the other's. Usage (bench/run installs
wrk): bench/run [--quick] [--only core|social] [options]. Exit status 1 when the harness or
the server misbehaved (unexpected statuses, socket errors, crash, a hot case that
missed the cache). Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from chirpy_harness.binaries import ROOT, bin_dir
from chirpy_harness.cpus import split_in_halves
from chirpy_harness.errors import HarnessError

import benchmarks_md
import queries
import report_charts
import social_sql
import report_targets
from cases import Bench, log
from machine import machine_info, pinning_text


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="CI smoke: debug build, 1 s cases, 100 and 1,000 chirps; prints, writes nothing")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--duration", type=float, help="seconds per case (10; --quick 1)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up before each case (2; --quick 0)")
    p.add_argument("--list-connections", type=int, help="connections for the bigger lists (8)")
    p.add_argument("--sizes", help="chirp counts for the list, comma-separated (100,10000,100000; --quick 100,1000)")
    p.add_argument("--storm-seconds", type=float, help="length of the login storm (10; --quick 3)")
    p.add_argument("--reader-connections", type=int, default=2)
    p.add_argument("--reader-pause-ms", type=int, default=10)
    p.add_argument("--metrics-rounds", type=int,
                   help="rounds of the metrics on/off comparison, each case on each server once (2; --quick 1)")
    p.add_argument("--hashes", type=int, help="hashes for hash-cost (20; --quick 5)")
    p.add_argument("--ready-runs", type=int, help="start-up timings (9; --quick 3)")
    p.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                   help="server and PostgreSQL on one half of the CPUs, wrk/pgbench on the other (default: on)")
    p.add_argument("--profile", choices=["release", "debug"],
                   help="which build, without CHIRPY_BIN_DIR (release; --quick debug)")
    p.add_argument("--only", choices=["core", "social"],
                   help="run one part: core (sections 1 to 8) or social (9, the home timeline); default both")
    p.add_argument("--celebrity-rate", type=float, default=10,
                   help="posts/s of the account everyone follows, in section 9 (10)")
    p.add_argument("--output", type=Path, help="the file whose generated region the full run rewrites (BENCHMARKS.md)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs, data files)")
    args = p.parse_args()
    q = args.quick
    args.duration = args.duration if args.duration is not None else (1 if q else 10)
    args.warmup = args.warmup if args.warmup is not None else (0 if q else 2)
    args.list_connections = args.list_connections or 8
    args.sizes = [int(s) for s in (args.sizes or ("100,1000" if q else "100,10000,100000")).split(",")]
    if len(args.sizes) < 2 or args.sizes != sorted(args.sizes):
        p.error("--sizes needs at least two increasing counts")
    args.storm_seconds = args.storm_seconds if args.storm_seconds is not None else (3 if q else 10)
    args.hashes = args.hashes or (5 if q else 20)
    args.metrics_rounds = args.metrics_rounds or (1 if q else 2)
    args.ready_runs = args.ready_runs or (3 if q else 9)
    args.profile = args.profile or ("debug" if q else "release")
    args.output = args.output or ROOT / "BENCHMARKS.md"
    args.parts = [args.only] if args.only else ["core", "social"]
    if args.celebrity_rate <= 0:
        p.error("--celebrity-rate must be positive")
    return args


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (bench/run installs it: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.quick:
        log("--quick: a smoke test of the harness on the DEBUG build, with tiny durations; "
            "figures are not measurements and BENCHMARKS.md is not written")
    try:
        # Before building or seeding anything: the statements and the report's destination.
        queries.check_all()
        social_sql.check_all()
        if not args.quick:
            benchmarks_md.with_region(args.output, "")
        programs = bin_dir(args.profile)
    except HarnessError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    cpus = split_in_halves() if args.pin else None
    pinned = pinning_text(cpus, args.pin)
    log(f"CPUs: {pinned}")
    if cpus:
        os.sched_setaffinity(0, cpus[0])  # this harness too keeps off the server's CPUs
    tmp = Path(tempfile.mkdtemp(prefix="chirpy-bench-"))
    bench = Bench(args, tmp, programs, cpus)
    started = time.monotonic()
    try:
        data = bench.run()
        info = machine_info(bench.cluster.bin_dir)
    except HarnessError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        bench.stop()
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    info["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "just bench" + "".join(f" {a}" for a in sys.argv[1:])
    region = benchmarks_md.region(data, info, args, command, pinned, programs)
    # Drawn by --quick too, so that the smoke covers them; from the core's figures only.
    charts = report_charts.chart_files(data) if "core" in args.parts else {}
    elapsed = time.monotonic() - started
    if args.quick:
        print("# Chirpy benchmarks: --quick smoke run (debug build, not a measurement)\n")
        print(region)
        log(f"quick run done in {elapsed:.0f}s (nothing written; charts drawn: {', '.join(charts) or 'none'})")
    else:
        benchmarks_md.write(args.output, region, args.parts)
        report_charts.write_charts(args.output, charts)
        print(region)
        log(f"full run of {' and '.join(args.parts)} done in {elapsed:.0f}s; wrote its part of the generated region "
            f"of {args.output}{' and the charts' if charts else ''}")
    missed = [t[0] for t in report_targets.targets(data) if not t[4]]
    if missed:
        log(f"targets missed ({len(missed)}): " + "; ".join(missed))
    problems = report_targets.problems(data)
    for problem in problems:
        print(f"bench: PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
