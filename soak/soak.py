"""Chirpy soak test: many concurrent clients run the mixed user journey against a live server.

It starts `chirpy serve --throwaway-db` (from CHIRPY_BIN_DIR, else a debug or `--release`
build) in an empty temp working directory, on loopback, with a private PostgreSQL cluster of
its own. Then `--clients` clients loop the journey for `--duration` seconds: sign up (a few
times per client at most: an Argon2id hash is the most expensive thing the server does), log
in, post chirps, list them (all, by author, newest first), get one, delete their own, try to
delete someone else's, refresh the access token, the Polka webhook, change email and password
now and then (which revokes the refresh tokens, so they log in again), revoke, health check.

Every response must have the status expected for its step; anything else counts as an
error, by step and status. Any 5xx fails the run, as does any error, an ERROR in the
server's log, an unclean shutdown, or the server's RSS (VmRSS from /proc/<pid>/status)
growing from the end of the warm-up to the end of the run by more than `--rss-bound-mib`.
At the end the server gets SIGTERM and must exit 0 having stopped its cluster; the temp
directory is deleted.

Usage (soak/run picks the Python environment):
    soak/run [--release] [--clients 32] [--duration 60] [--warmup 5] [--rss-bound-mib 32]
Only loopback addresses are ever used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from chirpy_harness.binaries import ROOT, bin_dir
from chirpy_harness.errors import HarnessError
from chirpy_harness.launcher import Server, start_server
from chirpy_harness.procstat import RssSampler, alive, cpu_seconds, open_fds, proc_status

from journey import JWT_SECRET, POLKA_KEY, Client, Shared, Stats
from summary import report, summary


async def soak(args, server: Server) -> dict:
    stats = Stats()
    shared = Shared()
    run_id = uuid.uuid4().hex[:8]
    pid = server.pid
    before = {"status": proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid)}

    t0 = time.monotonic()
    stats.started = t0
    deadline = t0 + args.duration
    with RssSampler(pid, interval=1.0) as sampler:
        clients = [Client(cid, args, server.url, stats, shared, run_id, deadline) for cid in range(args.clients)]
        tasks = [asyncio.create_task(c.run(t0)) for c in clients]

        await asyncio.sleep(args.warmup)
        start = {"status": proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid),
                 "t": time.monotonic() - t0, "requests": stats.total}
        # The start figure is the lowest of up to three readings a second apart: a reading taken
        # while Argon2 hashes are in flight includes their buffers (19 MiB each), which would
        # hide that much growth.
        start_readings = [start["status"]["VmRSS"]]
        for _ in range(2):
            if deadline - time.monotonic() < 1.5:
                break
            await asyncio.sleep(1.0)
            start_readings.append(proc_status(pid)["VmRSS"])
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        end = {"status": proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid),
               "t": time.monotonic() - t0, "requests": stats.total}
        await asyncio.gather(*tasks)  # each finishes the iteration it is in
        load_seconds = time.monotonic() - t0
        await asyncio.sleep(1.0)
        # The end figure is read once the load is over, so no request (no hash) is in flight.
        idle = {"status": proc_status(pid), "fds": open_fds(pid), "cpu": cpu_seconds(pid)}

    return {
        "stats": stats,
        "samples": [(t, rss // 1024) for t, rss in sampler.samples],  # kB, as /proc/<pid>/status
        "before": before,
        "start": start,
        "end": end,
        "idle": idle,
        "load_seconds": load_seconds,
        "rss_start_kib": min(start_readings),
        "rss_end_kib": idle["status"]["VmRSS"],
        "signups": sum(c.account for c in clients),
    }


def machine_conditions() -> str:
    load1, load5, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load1:.2f} (1 min) {load5:.2f} (5 min) at start; " \
           f"client and server share the machine"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load, warm-up included")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before the start RSS is read")
    parser.add_argument("--rss-bound-mib", type=float, default=32, help="allowed RSS growth from warm-up to end")
    parser.add_argument("--rss-max-mib", type=float, default=0,
                        help="also fail if the sampled RSS ever exceeds this (0: no ceiling)")
    parser.add_argument("--release", action="store_true",
                        help="the release build (without CHIRPY_BIN_DIR, which names the binaries' directory)")
    parser.add_argument("--accounts-per-client", type=int, default=3,
                        help="sign-ups per client over the run (each costs an Argon2id hash, as does each login)")
    parser.add_argument("--keep-chirps", type=int, default=3,
                        help="own chirps a client keeps before deleting the oldest")
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
    args.extra_env = {}
    for item in args.server_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--server-env wants NAME=VALUE, not {item!r}")
        if name in {"HOST", "PORT", "DATABASE_URL", "DB_URL"}:
            parser.error(f"--server-env cannot set {name}: the soak stays on loopback with its own database")
        args.extra_env[name] = value
    return args


def main() -> int:
    args = parse_args()
    conditions = machine_conditions() + "".join(f"; server env {k}={v}" for k, v in args.extra_env.items())
    env = {"POLKA_KEY": POLKA_KEY, "JWT_SECRET": JWT_SECRET, "RUST_LOG": args.rust_log, **args.extra_env}
    try:
        programs = bin_dir("release" if args.release else "debug")
        print(f"soak: starting {programs / 'chirpy'} serve --throwaway-db")
        server = start_server(programs, env=env)
    except HarnessError as exc:
        raise SystemExit(f"soak: {exc}") from exc
    ok = False
    try:
        print(f"soak: server at {server.url} (pid {server.pid}) in {server.run_dir}; "
              f"{args.clients} clients for {args.duration:g}s")
        result = asyncio.run(soak(args, server))
        server.stop()
        # The server stops its throwaway cluster before it exits: the postmaster must be gone.
        result["cluster_stopped"] = server.postmaster_pid is not None and not alive(server.postmaster_pid)
        ok, text = report(args, server, result, conditions)
        print(text)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "report.txt").write_text(text + "\n")
        shutil.copyfile(server.log_path, args.out_dir / "server.log")
        (args.out_dir / "report.json").write_text(json.dumps(summary(args, result, conditions, ok), indent=2) + "\n")
        print(f"soak: report and server log in {args.out_dir}")
    except BaseException:
        server.stop()
        print(f"soak: server log tail:\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        if args.keep_tmp:
            print(f"soak: kept {server.run_dir}")
        else:
            server.remove()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
