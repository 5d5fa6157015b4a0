"""The load generators, wrk and pgbench, each run measured with the CPU and memory around it."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from chirpy_harness.cpus import pin_to
from chirpy_harness.errors import HarnessError
from chirpy_harness.procstat import RssSampler, alive, cpu_seconds, family_cpu_seconds, machine_busy_seconds
from chirpy_harness.stats import percentile

WRK_DIR = Path(__file__).resolve().parent / "wrk"


@dataclass
class Result:
    """One measured load: a wrk or pgbench run, with the CPU and memory around it."""

    name: str
    tool: str
    connections: int
    seconds: float
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    mean_ms: float = math.nan
    non_2xx: int = 0
    socket_errors: int = 0
    rss_start: int = 0
    rss_peak: int = 0
    cpu_server_us: float = math.nan  # CPU per request, microseconds
    cpu_db_us: float = math.nan
    cpu_load_us: float = math.nan
    other_cpu: float = math.nan  # cores busy with anything else (other processes: noise)
    # Responses by status, when the script counted them (statuses.lua).
    statuses: dict[int, int] | None = None

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def run_pinned(cmd: list[str], cpus: list[int] | None, cwd: Path | None = None) -> tuple[int, str, str, float]:
    """Runs `cmd` on `cpus`: (exit code, stdout, stderr, its CPU seconds from rusage)."""
    # Output goes to files, not pipes: the child is reaped with wait4 (for its rusage), and a
    # pipe nobody reads meanwhile could fill and block it.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, preexec_fn=pin_to(cpus), cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return proc.returncode, *text, usage.ru_utime + usage.ru_stime


@dataclass
class LoadGen:
    """Runs loads against one server and its cluster, on the load CPUs, recording each Result."""

    args: argparse.Namespace
    tmp: Path
    cpus: list[int] | None
    server_pid: int
    postmaster_pid: int
    base_url: str
    pg_bin: Path
    database_url: str
    results: dict[str, Result] = field(default_factory=dict)

    def against(self, server_pid: int, base_url: str) -> LoadGen:
        """The same loads against another server on the same cluster, recorded with these."""
        return replace(self, server_pid=server_pid, base_url=base_url)

    def measure(self, result: Result, run, track_server: bool = True) -> Result:
        """Runs `run()` (which runs a load generator, fills `result` and returns the generator's
        CPU seconds) while sampling the server's RSS and everyone's CPU. A pgbench run may come
        after the server has stopped: then there is no server to sample."""
        server = alive(self.server_pid)
        srv0 = cpu_seconds(self.server_pid) if server else 0.0
        db0 = family_cpu_seconds(self.postmaster_pid)
        busy0, wall0 = machine_busy_seconds(), time.monotonic()
        with RssSampler(self.server_pid) if server else nullcontext() as rss:
            load_cpu = run()
        srv = cpu_seconds(self.server_pid) - srv0 if server else 0.0
        db = family_cpu_seconds(self.postmaster_pid) - db0
        busy, wall = machine_busy_seconds() - busy0, time.monotonic() - wall0
        result.other_cpu = max(0.0, busy - srv - db - load_cpu) / wall if wall else math.nan
        if rss is not None:
            result.rss_start, result.rss_peak = rss.start, rss.peak
        if result.requests:
            per = 1e6 / result.requests
            if track_server:
                result.cpu_server_us = srv * per
            result.cpu_db_us = db * per
            result.cpu_load_us = load_cpu * per
        return result

    def wrk(self, name: str, path: str, scripts: list[str], script_args: list[str] = (),
            connections: int | None = None, threads: int | None = None, seconds: float | None = None,
            timeout_s: int = 10, warmup: bool = True, record: bool = True,
            expect_status: int | None = None) -> Result:
        """A wrk run of `scripts` (after common.lua). With `expect_status`, the scripts count
        statuses (statuses.lua) and every answer but that status is an error."""
        connections = connections or self.args.connections
        threads = min(threads or self.args.threads, connections)
        seconds = seconds if seconds is not None else self.args.duration
        script = self.tmp / f"{name}.lua"
        script.write_text("\n".join((WRK_DIR / s).read_text() for s in ["common.lua", *scripts]))

        def cmd(secs: float) -> list[str]:
            return ["wrk", "--latency", "-c", str(connections), "-t", str(threads), "-d", f"{max(1, round(secs))}s",
                    "--timeout", f"{timeout_s}s", "-s", str(script), self.base_url + path, "--", *script_args]

        if warmup and self.args.warmup > 0:
            run_pinned(cmd(self.args.warmup), self.cpus)
        result = Result(name, "wrk", connections, seconds)

        def run() -> float:
            code, out, err, cpu = run_pinned(cmd(seconds), self.cpus)
            parse_wrk(result, out, err, code, expect_status)
            return cpu

        self.measure(result, run)
        if record:
            self.results[name] = result
        return result

    def pgbench(self, name: str, script_text: str, connections: int | None = None,
                seconds: float | None = None, rate: float | None = None, warmup: bool = True) -> Result:
        """A pgbench run of `script_text`; with `rate`, transactions are scheduled at that many per
        second (-R) and each one's latency counts from its scheduled start, lag included."""
        connections = connections or self.args.connections
        seconds = seconds if seconds is not None else self.args.duration
        script = self.tmp / f"{name}.sql"
        script.write_text(script_text)
        logdir = self.tmp / f"pgbench-{name}"
        logdir.mkdir()

        def cmd(secs: float, log: bool = False) -> list[str]:
            # With `log`, per-transaction lines go to files named by --log-prefix.
            return [str(self.pg_bin / "pgbench"), "-n", "-M", "prepared", "-c", str(connections),
                    "-j", str(min(2, connections)), "-T", str(max(1, round(secs))), "-f", str(script),
                    *(["-R", f"{rate:g}"] if rate else []),
                    *(["-l", "--log-prefix", str(logdir / "tx")] if log else []), self.database_url]

        if warmup and self.args.warmup > 0:
            run_pinned(cmd(self.args.warmup), self.cpus)
        result = Result(name, "pgbench", connections, seconds)

        def run() -> float:
            code, out, err, cpu = run_pinned(cmd(seconds, log=True), self.cpus, cwd=logdir)
            if code != 0:
                raise HarnessError(f"pgbench failed for {name}:\n{out}\n{err}")
            parse_pgbench(result, out, err)
            return cpu

        self.measure(result, run, track_server=False)
        latencies = read_pgbench_latencies(logdir)
        if latencies:
            result.p50_ms = percentile(latencies, 50) / 1000
            result.p99_ms = percentile(latencies, 99) / 1000
            result.mean_ms = sum(latencies) / len(latencies) / 1000
        shutil.rmtree(logdir, ignore_errors=True)
        self.results[name] = result
        return result


def parse_wrk(result: Result, out: str, err: str, code: int, expect_status: int | None = None) -> None:
    """Reads the BENCH_JSON line that bench/wrk/common.lua prints. wrk itself counts only 4xx
    and 5xx as errors; with `expect_status`, every answer but that status is one."""
    m = re.search(r"^BENCH_JSON (\{.*\})$", out, re.M)
    if code != 0 or not m:
        raise HarnessError(f"wrk failed ({code}) for {result.name}:\n{out}\n{err}")
    data = json.loads(m.group(1))
    result.requests = data["requests"]
    secs = data["duration_us"] / 1e6
    result.seconds = secs
    result.rps = data["requests"] / secs if secs else 0.0
    result.non_2xx = data["non_2xx_3xx"]
    if "statuses" in data:
        result.statuses = {int(status): n for status, n in data["statuses"].items()}
    if expect_status is not None:
        result.non_2xx = unexpected_answers(result.statuses, data["requests"], expect_status, result.name)
    result.socket_errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    if data["requests"]:
        result.p50_ms = data["p50_us"] / 1000
        result.p99_ms = data["p99_us"] / 1000
        result.mean_ms = data["mean_us"] / 1000


def unexpected_answers(statuses: dict[int, int] | None, requests: int, expected: int, name: str) -> int:
    """How many of `requests` answers were not `expected`: wrk counts a response in its
    requests and in statuses.lua's counts at the same moment, so the two agree exactly."""
    if statuses is None:
        raise HarnessError(f"{name}: expected status {expected}, but the script did not count statuses")
    counted = sum(statuses.values())
    if counted != requests:
        raise HarnessError(f"{name}: wrk answered {requests} requests but the script counted {counted}")
    return requests - statuses.get(expected, 0)


def parse_pgbench(result: Result, out: str, err: str) -> None:
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if not tps or not done:
        raise HarnessError(f"cannot read pgbench's output for {result.name}:\n{out}\n{err}")
    result.rps = float(tps.group(1))
    result.requests = int(done.group(1))
    result.non_2xx = int(failed.group(1)) if failed else 0


def read_pgbench_latencies(logdir: Path) -> list[int]:
    """Microseconds per transaction, from the log lines `client_id tx_no latency_us ...`."""
    latencies = []
    for path in logdir.glob("tx.*"):
        with open(path) as f:
            for line in f:
                parts = line.split(maxsplit=3)
                if len(parts) >= 3:
                    latencies.append(int(parts[2]))
    return latencies
