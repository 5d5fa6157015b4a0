"""`just bench`: Chirpy's throughput, latency and memory, next to the ceilings that bound them.

It starts the server (target/release/chirpy, or the debug build with --quick) in an empty
temp working directory with PLATFORM=dev, PORT=0 and no DATABASE_URL, so the server brings
up its own PostgreSQL cluster under <cwd>/.data/postgres (the log gives its socket dir).
It seeds 1,000 users (one signed up through the API for a real Argon2id hash, copied to
the rest with SQL so every seeded user can log in) and chirps (100, then 10,000, then
100,000; --quick: 100 and 1,000), and measures each case with wrk (requests/s, p50, p99,
non-2xx) while sampling the server's VmRSS every 100 ms, next to pgbench running the same
SQL where the case has a database ceiling:

  1. GET /api/healthz                          the HTTP stack's own ceiling
  2. GET /api/chirps/{id}, random ids          vs pgbench: the same prepared select
  3. GET /api/chirps over 100, 10k, 100k       vs pgbench: the same list query (100)
  4. GET /api/chirps?author_id=..&sort=desc    100k chirps by 1,000 authors
  5. POST /api/chirps with valid tokens        vs pgbench: the same insert
  6. POST /api/login                           vs the Argon2id ceiling (hash-cost), and the
                                               p99 of a paced reader during the storm vs at rest
  7. idle RSS, and process start -> first 200 from /api/healthz with the database up

With two or more CPUs (and unless --no-pin), the server and its PostgreSQL run on one half of
them and wrk, pgbench and this script on the other, so the load generator never takes CPU from
what it measures. Besides requests/s and latency, each case reports the CPU time per request
of the server, of PostgreSQL and of the load generator, and how busy the machine was with
anything else (noise).

The full run writes BENCHMARKS.md at the repo root; --quick (the CI smoke) only prints.
Usage (bench/run builds the binaries and installs wrk): bench/run [--quick] [options]
Exit status 1 when the harness or the server misbehaved (non-2xx, socket errors, crash).
Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import ipaddress
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = ROOT / "bench" / "wrk"
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A case during which other processes kept more than this many cores busy is flagged as noisy.
# Written into every BENCHMARKS.md under the targets: what the CPU columns show about the
# targets this server has missed after the work below, so a reader knows what is structural.
MISSES_EXPLAINED = [
    "**GET one chirp vs pgbench.** The server and its PostgreSQL share one pinned core, while pgbench's "
    "client runs on the other: a request costs the server's CPU *plus* PostgreSQL's on that core, pgbench only "
    "PostgreSQL's. Per request the server spends about 75 µs, of which the HTTP stack with every middleware is "
    "the 19 µs `/api/healthz` costs; sqlx (acquire, encode, decode) and JSON are the rest. 0.7x would need about "
    "20 µs of server CPU per request in all, i.e. a database round trip for free. Done so far: no ping per "
    "pool checkout (sqlx's default), serde-written JSON instead of poem-openapi's Value trees, TCP_NODELAY.",
    "**POST chirp vs pgbench insert.** Same structure: the server's CPU per insert (encode, decode, JSON, the "
    "token check) lands on PostgreSQL's core. Between 0.43x and 0.67x across runs on this VM.",
    "**List of 100 vs pgbench.** Same structure; the JSON for 100 chirps is most of the server's CPU. It was "
    "0.08x before TCP_NODELAY (each response waited 40 ms on a delayed ACK) and 0.29x before serde wrote it "
    "directly; p99 is now under 20 ms.",
    "**Login vs the Argon2id ceiling.** The ceiling is `hash-cost`'s pure hashing on the pinned core; a login "
    "also looks the user up and stores a refresh token on that same core, and the hashing threads yield to "
    "everything else (SCHED_IDLE). The ratio has moved between 0.85x and 0.94x across runs; the VM's CPU speed "
    "drifts (see the two hash-cost runs).",
    "**Reads' p99 during a login storm.** Hashing runs on SCHED_IDLE threads (a woken request preempts it), "
    "yet on one core a read still shares caches and memory bandwidth with a 19 MiB Argon2 working set, and "
    "the logins' own queries run at normal priority. Measured between 3.3x and 5.1x over runs. Leaving one "
    "core free of hashing would meet it, at half the login throughput on this 2-core machine.",
]

NOISY_OTHER_CORES = 0.25

PASSWORD = "correct horse battery staple"
N_AUTHORS = 1000
TOKEN_USERS = 16  # users logged in for the POST /api/chirps case

COLUMNS = "id, created_at, updated_at, body, user_id"
# Seeded ids are a function of a number, so that pgbench (whose variables are integers)
# can name the same rows: md5 is a few hundred nanoseconds inside the query.
CHIRP_ID_SQL = "md5('chirpy-bench-chirp-' || {n})::uuid"
USER_ID_SQL = "md5('chirpy-bench-user-' || {n})::uuid"

WORDS = (
    "the a chirp hello world rust postgres bench coffee morning tea rain sun cat dog code ship "
    "deploy review lunch train bike walk read book music night late early today tomorrow again "
    "really quite small big fast slow happy busy quiet loud green blue red new old good nice"
).split()


def log(message: str) -> None:
    print(f"::: bench: {message}", flush=True)


class HarnessError(Exception):
    """The harness could not do what it set out to do."""


# ---------------------------------------------------------------------------------------
# /proc


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise HarnessError(f"no VmRSS for {pid}")


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        # Fields after the command name, which may contain spaces; fields[0] is field 3.
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """utime + stime (and the waited-for children's, cutime + cstime) of a live process."""
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[1]) == pid:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def postgres_cpu_seconds(postmaster: int) -> float:
    """All of the cluster's CPU: the postmaster and the backends it has reaped (cutime),
    plus the live backends; so backends that come and go (pgbench's) are counted."""
    total = cpu_seconds(postmaster, with_children=True)
    for child in children_of(postmaster):
        try:
            total += cpu_seconds(child)
        except OSError:
            pass  # exited between the listing and the read: it is in cutime now or soon
    return total


def machine_busy_seconds() -> float:
    """CPU time spent busy on the whole machine (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is counted in user already)
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class RssSampler:
    """Samples a process's VmRSS every `interval` seconds on a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.start = rss_bytes(pid)
        self.peak = self.start
        self.samples = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                value = rss_bytes(self.pid)
            except (OSError, HarnessError):
                return
            self.peak = max(self.peak, value)
            self.samples += 1

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.peak = max(self.peak, rss_bytes(self.pid))
        except (OSError, HarnessError):
            pass


# ---------------------------------------------------------------------------------------
# Tools


def pg_bin_dir() -> Path:
    """PostgreSQL's server binaries, as the server finds them: PATH, else Debian's newest."""
    initdb = shutil.which("initdb")
    if initdb:
        real = Path(initdb).resolve().parent
        if (real / "pg_ctl").exists() and (real / "pgbench").exists():
            return real
    versions = sorted((int(p.name), p / "bin") for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit())
    for _, bin_dir in reversed(versions):
        if (bin_dir / "pg_ctl").exists() and (bin_dir / "pgbench").exists():
            return bin_dir
    raise HarnessError("no PostgreSQL bin dir with pg_ctl and pgbench (apt-get install postgresql)")


def affinity(cpus: list[int] | None):
    """A preexec_fn pinning the child (and everything it starts) to `cpus`."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def run_text(cmd: list[str], **kw) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine_info(pg_bin: Path) -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text()
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "cpu": model.group(1).strip() if model else platform.processor() or "?",
        "kernel": platform.release(),
        "rustc": first_line(["rustc", "--version"]),
        "postgres": first_line([str(pg_bin / "postgres"), "--version"]),
        "wrk": re.sub(r"\s+Copyright.*", "", first_line(["wrk", "--version"])),
        "commit": commit + (" + uncommitted changes" if dirty else ""),
    }


# ---------------------------------------------------------------------------------------
# The server and its cluster


@dataclass
class Server:
    binary: Path
    run_dir: Path
    cpus: list[int] | None
    env_extra: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    base_url: str = ""
    pg_host: str = ""  # the cluster's socket dir (= its data dir)
    log_path: Path | None = None

    def start(self, name: str = "server", wait_for_listening: bool = True) -> None:
        env = dict(os.environ)
        for unset in ("DATABASE_URL", "DB_URL", "JWT_SECRET", "TOKEN_STRING", "POLKA_KEY", "ACCESS_TOKEN_TTL"):
            env.pop(unset, None)
        env.update(
            {
                "PLATFORM": "dev",
                "HOST": "127.0.0.1",
                "PORT": "0",
                # Request logs cost throughput; chirpy=info keeps the startup lines we parse.
                "RUST_LOG": "warn,chirpy=info",
            }
        )
        env.update(self.env_extra)
        self.log_path = self.run_dir.parent / f"{name}.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(self.binary)],
                cwd=self.run_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                preexec_fn=affinity(self.cpus),
            )
        if wait_for_listening:
            self.wait_listening()

    def wait_listening(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        listening = re.compile(r"listening on http://([0-9.]+):(\d+)")
        cluster = re.compile(r"(?:url=postgres://\S*?[?&]host=|reusing the running embedded PostgreSQL data_dir=)(\S+)")
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if m := cluster.search(text):
                self.pg_host = m.group(1)
            if m := listening.search(text):
                host, port = m.group(1), int(m.group(2))
                if not ipaddress.ip_address(host).is_loopback:
                    raise HarnessError(f"the server listens on {host}, not loopback: refusing")
                self.base_url = f"http://{host}:{port}"
                return
            if self.proc.poll() is not None:
                raise HarnessError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            time.sleep(0.05)
        raise HarnessError(f"the server did not start in {timeout}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def errors_in_log(self) -> list[str]:
        try:
            return [line for line in self.log_path.read_text(errors="replace").splitlines() if " ERROR " in line]
        except OSError:
            return []

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM and wait: the server finishes in-flight requests and stops a cluster it started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Cluster:
    """pg_ctl on the server's data dir, for the 'database already up' start-up timing."""

    def __init__(self, pg_bin: Path, data_dir: str, cpus: list[int] | None):
        self.pg_bin = pg_bin
        self.data_dir = data_dir
        self.cpus = cpus
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def running(self) -> bool:
        return (
            subprocess.run(
                self.as_pg + [str(self.pg_bin / "pg_ctl"), "status", "-D", self.data_dir],
                capture_output=True,
            ).returncode
            == 0
        )

    def start(self) -> None:
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.data_dir}'"
        subprocess.run(
            self.as_pg
            + [
                str(self.pg_bin / "pg_ctl"),
                "start",
                "--wait",
                "--timeout=60",
                "-D",
                self.data_dir,
                "-l",
                f"{self.data_dir}/bench-pg.log",
                "-o",
                options,
            ],
            check=True,
            capture_output=True,
            preexec_fn=affinity(self.cpus),
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            self.as_pg + [str(self.pg_bin / "pg_ctl"), "stop", "--wait", "-m", mode, "-D", self.data_dir],
            capture_output=True,
        )

    def postmaster_pid(self) -> int:
        return int(Path(self.data_dir, "postmaster.pid").read_text().split()[0])


# ---------------------------------------------------------------------------------------
# HTTP and SQL helpers


def http_json(base_url: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, no proxy
    with opener.open(req, timeout=60) as resp:
        return resp.status, json.loads(resp.read() or b"null")


class Psql:
    def __init__(self, pg_bin: Path, host: str):
        self.cmd = [
            str(pg_bin / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            host,
            "-U",
            "postgres",
            "-d",
            "chirpy",
        ]
        self.pg_bin = pg_bin
        self.host = host

    def run(self, sql: str) -> str:
        # On stdin rather than -c, so that each statement is its own transaction (VACUUM).
        out = subprocess.run(self.cmd + ["-At", "-f", "-"], input=sql, capture_output=True, text=True)
        if out.returncode != 0:
            raise HarnessError(f"psql failed: {out.stderr.strip()}\nSQL: {sql[:500]}")
        return out.stdout

    def scalar(self, sql: str) -> str:
        return self.run(sql).strip()


# ---------------------------------------------------------------------------------------
# Load generators


@dataclass
class Result:
    """One measured load: a wrk or pgbench run, with the CPU and memory around it."""

    name: str
    tool: str
    connections: int
    seconds: float
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    mean_ms: float = float("nan")
    non_2xx: int = 0
    socket_errors: int = 0
    rss_start: int = 0
    rss_peak: int = 0
    cpu_server_us: float = float("nan")  # CPU per request, microseconds
    cpu_db_us: float = float("nan")
    cpu_load_us: float = float("nan")
    other_cpu: float = float("nan")  # cores busy with anything else (other processes: noise)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


class Bench:
    def __init__(self, args, tmp: Path, pg_bin: Path):
        self.args = args
        self.tmp = tmp
        self.pg_bin = pg_bin
        self.server: Server | None = None
        self.postmaster = 0
        self.results: dict[str, Result] = {}
        ncpu = os.cpu_count() or 1
        if args.pin and ncpu >= 2:
            half = ncpu // 2
            self.load_cpus = list(range(half))
            self.server_cpus = list(range(half, ncpu))
        else:
            self.load_cpus = self.server_cpus = None

    # -- measuring

    def _measure(self, result: Result, run, track_server: bool = True) -> Result:
        """Runs `run()` (which starts and waits for a load generator, filling `result` and
        returning its rusage CPU seconds) while sampling the server's RSS and CPU."""
        pid = self.server.pid
        srv0 = cpu_seconds(pid)
        db0 = postgres_cpu_seconds(self.postmaster)
        busy0, wall0 = machine_busy_seconds(), time.monotonic()
        with RssSampler(pid) as rss:
            load_cpu = run()
        srv = cpu_seconds(pid) - srv0
        db = postgres_cpu_seconds(self.postmaster) - db0
        busy, wall = machine_busy_seconds() - busy0, time.monotonic() - wall0
        result.other_cpu = max(0.0, busy - srv - db - load_cpu) / wall if wall else float("nan")
        result.rss_start, result.rss_peak = rss.start, rss.peak
        if result.requests:
            per = 1e6 / result.requests
            if track_server:
                result.cpu_server_us = srv * per
            result.cpu_db_us = db * per
            result.cpu_load_us = load_cpu * per
        return result

    def wrk(
        self,
        name: str,
        path: str,
        scripts: list[str],
        script_args: list[str] = (),
        connections: int | None = None,
        threads: int | None = None,
        seconds: float | None = None,
        timeout_s: int = 10,
        warmup: bool = True,
        record: bool = True,
    ) -> Result:
        connections = connections or self.args.connections
        threads = min(threads or self.args.threads, connections)
        seconds = seconds if seconds is not None else self.args.duration
        script = self.tmp / f"{name}.lua"
        script.write_text("\n".join((WRK_DIR / s).read_text() for s in ["common.lua", *scripts]))

        def cmd(secs: float) -> list[str]:
            return [
                "wrk",
                "--latency",
                "-c",
                str(connections),
                "-t",
                str(threads),
                "-d",
                f"{max(1, round(secs))}s",
                "--timeout",
                f"{timeout_s}s",
                "-s",
                str(script),
                self.server.base_url + path,
                "--",
                *script_args,
            ]

        if warmup and self.args.warmup > 0:
            subprocess.run(cmd(self.args.warmup), capture_output=True, preexec_fn=affinity(self.load_cpus))
        result = Result(name, "wrk", connections, seconds)

        def run() -> float:
            proc = subprocess.Popen(
                cmd(seconds), stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=affinity(self.load_cpus)
            )
            _, status, usage = os.wait4(proc.pid, 0)
            out = proc.stdout.read().decode(errors="replace")
            err = proc.stderr.read().decode(errors="replace")
            proc.returncode = os.waitstatus_to_exitcode(status)
            self._parse_wrk(result, out, err, proc.returncode)
            return usage.ru_utime + usage.ru_stime

        self._measure(result, run)
        if record:
            self.results[name] = result
        return result

    @staticmethod
    def _parse_wrk(result: Result, out: str, err: str, code: int) -> None:
        m = re.search(r"^BENCH_JSON (\{.*\})$", out, re.M)
        if code != 0 or not m:
            raise HarnessError(f"wrk failed ({code}) for {result.name}:\n{out}\n{err}")
        data = json.loads(m.group(1))
        result.requests = data["requests"]
        secs = data["duration_us"] / 1e6
        result.seconds = secs
        result.rps = data["requests"] / secs if secs else 0.0
        result.non_2xx = data["non_2xx_3xx"]
        result.socket_errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
        if data["requests"]:
            result.p50_ms = data["p50_us"] / 1000
            result.p99_ms = data["p99_us"] / 1000
            result.mean_ms = data["mean_us"] / 1000

    def pgbench(
        self, name: str, script_text: str, connections: int | None = None, seconds: float | None = None
    ) -> Result:
        connections = connections or self.args.connections
        seconds = seconds if seconds is not None else self.args.duration
        script = self.tmp / f"{name}.sql"
        script.write_text(script_text)
        logdir = self.tmp / f"pgbench-{name}"
        logdir.mkdir()
        # pgbench writes its per-transaction logs into the current directory.
        cmd = [
            str(self.pg_bin / "pgbench"),
            "-n",
            "-M",
            "prepared",
            "-c",
            str(connections),
            "-j",
            str(min(2, connections)),
            "-T",
            str(max(1, round(seconds))),
            "-f",
            str(script),
            "-l",
            "--log-prefix",
            str(logdir / "tx"),
            "-h",
            self.server.pg_host,
            "-U",
            "postgres",
            "chirpy",
        ]
        if self.args.warmup > 0:
            warm = cmd[:]
            warm[warm.index("-T") + 1] = str(max(1, round(self.args.warmup)))
            warm = [a for a in warm if a not in ("-l", "--log-prefix", str(logdir / "tx"))]
            subprocess.run(warm, capture_output=True, preexec_fn=affinity(self.load_cpus))
        result = Result(name, "pgbench", connections, seconds)

        def run() -> float:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=affinity(self.load_cpus), cwd=logdir
            )
            _, status, usage = os.wait4(proc.pid, 0)
            out = proc.stdout.read().decode(errors="replace")
            err = proc.stderr.read().decode(errors="replace")
            if os.waitstatus_to_exitcode(status) != 0:
                raise HarnessError(f"pgbench failed for {name}:\n{out}\n{err}")
            tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
            done = re.search(r"number of transactions actually processed: (\d+)", out)
            failed = re.search(r"number of failed transactions: (\d+)", out)
            if not tps or not done:
                raise HarnessError(f"cannot read pgbench's output for {name}:\n{out}\n{err}")
            result.rps = float(tps.group(1))
            result.requests = int(done.group(1))
            result.non_2xx = int(failed.group(1)) if failed else 0
            return usage.ru_utime + usage.ru_stime

        self._measure(result, run, track_server=False)
        # Per-transaction log lines: client_id transaction_no latency_us script_no epoch us.
        latencies = []
        for path in logdir.glob("tx.*"):
            with open(path) as f:
                for line in f:
                    parts = line.split(maxsplit=3)
                    if len(parts) >= 3:
                        latencies.append(int(parts[2]))
        if latencies:
            latencies.sort()
            result.p50_ms = percentile(latencies, 50) / 1000
            result.p99_ms = percentile(latencies, 99) / 1000
            result.mean_ms = sum(latencies) / len(latencies) / 1000
        shutil.rmtree(logdir, ignore_errors=True)
        self.results[name] = result
        return result

    # -- the run

    def seed_users(self, psql: Psql) -> None:
        status, user = http_json(
            self.server.base_url, "POST", "/api/users", {"email": "bench-signup@example.com", "password": PASSWORD}
        )
        if status != 201:
            raise HarnessError(f"sign-up answered {status}")
        hashed = psql.scalar(f"select hashed_password from users where id = '{user['id']}'")
        if not hashed.startswith("$argon2"):
            raise HarnessError(f"unexpected hash {hashed[:20]}...")
        psql.run(f"""
            delete from users where id = '{user["id"]}';
            insert into users (id, created_at, updated_at, email, hashed_password)
            select {USER_ID_SQL.format(n="n")}, t, t, 'bench-user-' || n || '@example.com', '{hashed}'
            from generate_series(1, {N_AUTHORS}) n,
                 lateral (select timestamptz '2025-01-01' + n * interval '1 minute') s(t);
            vacuum analyze users;
        """)
        (self.tmp / "emails.txt").write_text("".join(f"bench-user-{n}@example.com\n" for n in range(1, N_AUTHORS + 1)))
        (self.tmp / "authors.txt").write_text(psql.run("select id from users order by id"))

    def seed_chirps(self, psql: Psql, have: int, want: int) -> None:
        """Chirps have+1..want: random words (5 to 140 characters), created about every three
        minutes from 2025 on with jitter, each by a random one of the 1,000 authors."""
        if want <= have:
            return
        words = "array[" + ",".join(f"'{w}'" for w in WORDS) + "]"
        psql.run(f"""
            insert into chirps (id, created_at, updated_at, body, user_id)
            select {CHIRP_ID_SQL.format(n="n")}, t, t,
                   left(initcap(array_to_string(array(
                       select ({words})[1 + floor(random() * {len(WORDS)})::int]
                       from generate_series(1, 2 + floor(random() * 24)::int + n * 0)), ' ')) || '.', 140),
                   {USER_ID_SQL.format(n=f"(1 + floor(random() * {N_AUTHORS})::int)")}
            from generate_series({have + 1}, {want}) n,
                 lateral (select timestamptz '2025-01-01' + n * interval '3 minutes'
                                 + random() * interval '170 seconds' + n * interval '0') s(t);
            vacuum analyze chirps;
            checkpoint;
        """)
        count = int(psql.scalar("select count(*) from chirps"))
        if count != want:
            raise HarnessError(f"seeded {count} chirps, expected {want}")

    def check_list(self, size: int) -> int:
        """One unpaginated GET /api/chirps: a JSON array of every chirp, oldest first. Returns its size."""
        req = urllib.request.Request(self.server.base_url + "/api/chirps")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=120) as resp:
            body = resp.read()
            status = resp.status
        chirps = json.loads(body)
        if status != 200 or not isinstance(chirps, list) or len(chirps) != size:
            raise HarnessError(
                f"GET /api/chirps: {status}, {len(chirps) if isinstance(chirps, list) else '?'} "
                f"chirps, expected all {size}"
            )
        keys = [(c["created_at"], c["id"]) for c in chirps]
        if keys != sorted(keys):
            raise HarnessError("GET /api/chirps is not ordered by created_at, id")
        return len(body)

    def run(self) -> dict:
        a = self.args
        binary = ROOT / "target" / a.profile / "chirpy"
        hash_cost = ROOT / "target" / a.profile / "hash-cost"
        for needed in (binary, hash_cost):
            if not needed.exists():
                raise HarnessError(
                    f"{needed} is missing: bench/run builds it (cargo build{' --release' if a.profile == 'release' else ''})"
                )
        run_dir = self.tmp / "cwd"
        run_dir.mkdir()
        # Searchable by the postgres user, so the cluster can live in <cwd>/.data/postgres.
        os.chmod(self.tmp, 0o755)
        os.chmod(run_dir, 0o755)
        data = {"cases": self.results, "sizes": a.sizes, "pinned": bool(self.server_cpus)}

        self.server = Server(binary, run_dir, self.server_cpus)
        log(f"starting {binary.relative_to(ROOT)} (creates its cluster)")
        self.server.start()
        if not self.server.pg_host:
            raise HarnessError(f"no cluster URL in the server's log:\n{self.server.log_tail()}")
        cluster = Cluster(self.pg_bin, self.server.pg_host, self.server_cpus)
        self.postmaster = cluster.postmaster_pid()
        psql = Psql(self.pg_bin, self.server.pg_host)
        log(f"listening on {self.server.base_url}; cluster at {self.server.pg_host}")

        # 7a. Idle RSS: after start-up, before any request.
        time.sleep(1.0)
        data["idle_rss"] = rss_bytes(self.server.pid)

        log("1. GET /api/healthz")
        self.wrk("healthz", "/api/healthz", [])

        log(f"seeding {N_AUTHORS} users (one Argon2id hash from a sign-up, copied)")
        self.seed_users(psql)

        # 3. The list, as the table grows, next to pgbench's list query at the smallest size.
        have = 0
        list_sql = f"select {COLUMNS} from chirps order by created_at, id;\n"
        for i, size in enumerate(a.sizes):
            log(f"seeding chirps up to {size:,}")
            self.seed_chirps(psql, have, size)
            have = size
            conns = a.connections if i == 0 else a.list_connections
            data[f"list_bytes_{size}"] = self.check_list(size)
            log(f"3. GET /api/chirps over {size:,} chirps ({conns} connections)")
            self.wrk(f"list_{size}", "/api/chirps", [], connections=conns, timeout_s=60)
            if i == 0:
                log(f"3. pgbench: the list query over {size:,} chirps")
                self.pgbench(f"pg_list_{size}", list_sql)
        n_chirps = have
        (self.tmp / "ids.txt").write_text(psql.run("select id from chirps"))

        log(f"4. GET /api/chirps?author_id=...&sort=desc over {n_chirps:,} chirps")
        self.wrk("list_author", "/api/chirps", ["list_author.lua"], [str(self.tmp / "authors.txt")])

        log("2. GET /api/chirps/{id}, random ids")
        self.wrk("get_chirp", "/api/chirps/", ["get_chirp.lua"], [str(self.tmp / "ids.txt")])
        log("2. pgbench: the same select by id")
        self.pgbench(
            "pg_get_chirp",
            f"\\set n random(1, {n_chirps})\nselect {COLUMNS} from chirps where id = {CHIRP_ID_SQL.format(n=':n')};\n",
        )

        log(f"logging in {TOKEN_USERS} users for the POST case")
        tokens = []
        for n in range(1, TOKEN_USERS + 1):
            status, body = http_json(
                self.server.base_url,
                "POST",
                "/api/login",
                {"email": f"bench-user-{n}@example.com", "password": PASSWORD},
            )
            if status != 200:
                raise HarnessError(f"login answered {status}")
            tokens.append(body["token"])
        (self.tmp / "tokens.txt").write_text("\n".join(tokens) + "\n")
        psql.run("checkpoint")
        log("5. POST /api/chirps")
        self.wrk("post_chirp", "/api/chirps", ["post_chirp.lua"], [str(self.tmp / "tokens.txt")])
        psql.run("checkpoint")
        log("5. pgbench: the same insert")
        self.pgbench(
            "pg_insert",
            f"\\set u random(1, {N_AUTHORS})\n\\set r random(1, 1000000000)\n"
            f"insert into chirps (body, user_id) values ('Benchmark chirp ' || :r || ': hello from pgbench, what a nice day', "
            f"{USER_ID_SQL.format(n=':u')}) returning {COLUMNS};\n",
        )

        # 6. Login: the Argon2 ceiling, the paced reader at rest, then during the storm.
        # hash-cost runs before and after the storm (the CPU's speed drifts on a shared VM); the
        # ceiling is the mean of the two.
        def hash_cost_run() -> dict:
            log(f"6. hash-cost {a.hashes}")
            busy0, wall0 = machine_busy_seconds(), time.monotonic()
            proc = subprocess.Popen(
                [str(hash_cost), str(a.hashes)], stdout=subprocess.PIPE, preexec_fn=affinity(self.server_cpus)
            )
            _, status, usage = os.wait4(proc.pid, 0)
            out = proc.stdout.read().decode(errors="replace")
            if os.waitstatus_to_exitcode(status) != 0:
                raise HarnessError(f"hash-cost failed: {out}")
            busy, wall = machine_busy_seconds() - busy0, time.monotonic() - wall0
            other = max(0.0, busy - usage.ru_utime - usage.ru_stime) / wall if wall else 0.0
            m = re.search(r"([0-9.]+) ms per hash on one core; ceiling ([0-9.]+) logins/s on (\d+) cores", out)
            if not m:
                raise HarnessError(f"cannot read hash-cost's output: {out}")
            return {
                "line": out.strip(),
                "ms": float(m.group(1)),
                "ceiling": float(m.group(2)),
                "cores": int(m.group(3)),
                "other": other,
            }

        hash_before = hash_cost_run()
        reader = dict(
            path="/api/chirps/",
            scripts=["get_chirp.lua", "paced.lua"],
            script_args=[str(self.tmp / "ids.txt"), str(a.reader_pause_ms)],
            connections=a.reader_connections,
            threads=1,
        )
        log(f"6. paced reader at rest ({a.reader_connections} connections, {a.reader_pause_ms} ms pause)")
        self.wrk("reader_rest", seconds=max(1, a.storm_seconds - 2), **reader)
        log(f"6. POST /api/login storm ({a.connections} connections) with the paced reader alongside")
        storm: dict[str, Result] = {}

        def read_during_storm() -> None:
            time.sleep(1.0)  # start inside the storm
            storm["reader"] = self.wrk(
                "reader_storm", seconds=max(1, a.storm_seconds - 2), warmup=False, record=False, **reader
            )
            # The server's and PostgreSQL's CPU in that window is mostly the logins'.
            storm["reader"].cpu_server_us = storm["reader"].cpu_db_us = float("nan")
            storm["reader"].other_cpu = float("nan")

        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                read_during_storm()
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        thread = threading.Thread(target=guarded)
        thread.start()
        self.wrk(
            "login",
            "/api/login",
            ["login.lua"],
            [str(self.tmp / "emails.txt"), PASSWORD],
            seconds=a.storm_seconds,
            timeout_s=30,
            warmup=False,
        )
        thread.join()
        if errors:
            raise errors[0]
        self.results["reader_storm"] = storm["reader"]
        hash_after = hash_cost_run()
        spread = max(hash_before["ms"], hash_after["ms"]) / min(hash_before["ms"], hash_after["ms"])
        data["hash"] = {
            # Two runs more than 25% apart: the CPU's speed changed under us; count it as noise.
            "other": max(hash_before["other"], hash_after["other"], NOISY_OTHER_CORES + 0.01 if spread > 1.25 else 0.0),
            "runs": [hash_before, hash_after],
            "cores": hash_before["cores"],
            "ms": (hash_before["ms"] + hash_after["ms"]) / 2,
            "ceiling": hash_before["cores"] * 2000 / (hash_before["ms"] + hash_after["ms"]),
        }

        data["busy_rss"] = rss_bytes(self.server.pid)
        log_errors = self.server.errors_in_log()
        log("stopping the server (SIGTERM)")
        code = self.server.stop()
        data["exit_code"] = code
        data["log_errors"] = log_errors
        if code != 0:
            raise HarnessError(f"the server exited with {code}:\n{self.server.log_tail()}")
        if cluster.running():
            raise HarnessError("the server did not stop its cluster")

        data["ready"] = self.time_ready(binary, run_dir, cluster)
        return data

    def time_ready(self, binary: Path, run_dir: Path, cluster: Cluster) -> dict:
        """7b. Process start -> first 200 from /api/healthz, with the cluster already up
        (started here with pg_ctl; the server gets DATABASE_URL, as a deployment does)."""
        log(f"7. start-up time with the database up, {self.args.ready_runs} runs")
        cluster.start()
        times, idle = [], []
        try:
            for i in range(self.args.ready_runs):
                port = free_port()
                server = Server(
                    binary,
                    run_dir,
                    self.server_cpus,
                    env_extra={
                        "DATABASE_URL": f"postgres://postgres@localhost/chirpy?host={cluster.data_dir}",
                        "PORT": str(port),
                    },
                )
                conn_target = ("127.0.0.1", port)
                started = time.perf_counter()
                server.start(name=f"ready-{i}", wait_for_listening=False)
                try:
                    elapsed = poll_healthz(conn_target, started, server.proc)
                    times.append(elapsed)
                    time.sleep(0.5)
                    idle.append(rss_bytes(server.pid))
                finally:
                    code = server.stop()
                if code != 0:
                    raise HarnessError(f"server exited with {code}:\n{server.log_tail()}")
        finally:
            cluster.stop()
        return {
            "times_ms": [t * 1000 for t in times],
            "median_ms": statistics.median(times) * 1000,
            "idle_rss": statistics.median(idle),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll_healthz(target: tuple[str, int], started: float, proc: subprocess.Popen, timeout: float = 30) -> float:
    """Polls GET /api/healthz every ~2 ms; returns seconds from `started` to the first 200."""
    while time.perf_counter() - started < timeout:
        conn = http.client.HTTPConnection(*target, timeout=5)
        try:
            conn.request("GET", "/api/healthz")
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        finally:
            conn.close()
        if proc.poll() is not None:
            raise HarnessError(f"the server exited with {proc.returncode} before answering")
        time.sleep(0.002)
    raise HarnessError("no 200 from /api/healthz in time")


def percentile(sorted_values: list, p: float):
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[min(int(rank), len(sorted_values)) - 1]


# ---------------------------------------------------------------------------------------
# The report


def mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB"


def size_text(n: float) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n / 1024:.1f} KiB"


def fmt_ms(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_us(x: float) -> str:
    return "n/a" if x != x else f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


def cpu_text(res: Result) -> str:
    return f"{fmt_us(res.cpu_server_us)} / {fmt_us(res.cpu_db_us)} / {fmt_us(res.cpu_load_us)}".replace("n/a", "–")


def other_text(res: Result) -> str:
    return "–" if res.other_cpu != res.other_cpu else f"{res.other_cpu:.2f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


def build_report(data: dict, info: dict, args, command: str, pinned: str) -> tuple[str, list[str], list[tuple]]:
    """The markdown, the list of problems (non-2xx and the like) and the target rows."""
    r: dict[str, Result] = data["cases"]
    sizes = data["sizes"]
    small, mid, big = sizes[0], sizes[-2], sizes[-1]
    problems = []
    for res in r.values():
        if res.errors:
            problems.append(f"{res.name}: {res.non_2xx} non-2xx/failed, {res.socket_errors} socket errors")
        if res.requests == 0:
            problems.append(f"{res.name}: no request completed")
    for line in data.get("log_errors", [])[:5]:
        problems.append(f"server log: {line}")

    def ratio(x: float, y: float) -> float:
        return x / y if y else float("nan")

    # Per chirp, from Little's law (connections / mean latency = throughput of a closed loop):
    # unlike requests / window, it does not undercount when responses take seconds and the
    # ones still in flight when wrk stops are dropped.
    per_chirp = {n: r[f"list_{n}"].mean_ms * 1000 / r[f"list_{n}"].connections / n for n in sizes}
    growth = r[f"list_{big}"].rss_peak - r[f"list_{big}"].rss_start
    flat = ratio(per_chirp[big], per_chirp[mid])
    login, ceiling = r["login"].rps, data["hash"]["ceiling"]
    storm_p99, rest_p99 = r["reader_storm"].p99_ms, r["reader_rest"].p99_ms
    targets = [
        (
            "GET one chirp vs pgbench",
            f"{fmt_rate(r['get_chirp'].rps)} vs {fmt_rate(r['pg_get_chirp'].rps)} /s",
            f"{ratio(r['get_chirp'].rps, r['pg_get_chirp'].rps):.2f}x",
            ">= 0.7x",
            ratio(r["get_chirp"].rps, r["pg_get_chirp"].rps) >= 0.7,
        ),
        (
            f"list of {small} vs pgbench",
            f"{fmt_rate(r[f'list_{small}'].rps)} vs {fmt_rate(r[f'pg_list_{small}'].rps)} /s",
            f"{ratio(r[f'list_{small}'].rps, r[f'pg_list_{small}'].rps):.2f}x",
            ">= 0.6x",
            ratio(r[f"list_{small}"].rps, r[f"pg_list_{small}"].rps) >= 0.6,
        ),
        (
            f"list of {small}: p99 at {r[f'list_{small}'].connections} connections",
            fmt_ms(r[f"list_{small}"].p99_ms),
            "",
            "< 20 ms",
            r[f"list_{small}"].p99_ms < 20,
        ),
        (f"list of {big:,}: RSS growth while serving it", mib(growth), "", "< 32 MiB", growth < 32 * MIB),
        (
            f"list: time per chirp, {mid:,} -> {big:,}",
            f"{per_chirp[mid]:.2f} -> {per_chirp[big]:.2f} µs",
            f"{flat:.2f}x",
            "flat (<= 1.25x)",
            flat <= 1.25,
        ),
        (
            "POST chirp vs pgbench insert",
            f"{fmt_rate(r['post_chirp'].rps)} vs {fmt_rate(r['pg_insert'].rps)} /s",
            f"{ratio(r['post_chirp'].rps, r['pg_insert'].rps):.2f}x",
            ">= 0.6x",
            ratio(r["post_chirp"].rps, r["pg_insert"].rps) >= 0.6,
        ),
        (
            "login vs Argon2id ceiling",
            f"{login:.1f} vs {ceiling:.1f} /s",
            f"{ratio(login, ceiling):.2f}x",
            ">= 0.9x",
            ratio(login, ceiling) >= 0.9,
        ),
        (
            "read p99 during login storm vs at rest",
            f"{fmt_ms(storm_p99)} vs {fmt_ms(rest_p99)}",
            f"{ratio(storm_p99, rest_p99):.2f}x",
            "<= 3x",
            ratio(storm_p99, rest_p99) <= 3,
        ),
        ("peak RSS during login storm", mib(r["login"].rss_peak), "", "< 200 MiB", r["login"].rss_peak < 200 * MIB),
        ("idle RSS after start-up", mib(data["idle_rss"]), "", "< 20 MiB", data["idle_rss"] < 20 * MIB),
        (
            "start -> first 200 /api/healthz (DB up, median)",
            fmt_ms(data["ready"]["median_ms"]),
            "",
            "< 200 ms",
            data["ready"]["median_ms"] < 200,
        ),
    ]

    # How busy the machine was with anything else during the cases behind each target.
    def noise(*cases: str) -> float:
        values = [r[c].other_cpu for c in cases if r[c].other_cpu == r[c].other_cpu]
        return max(values, default=0.0)

    noises = [
        noise("get_chirp", "pg_get_chirp"),
        noise(f"list_{small}", f"pg_list_{small}"),
        noise(f"list_{small}"),
        0.0,  # memory does not care how busy the CPUs are
        noise(f"list_{mid}", f"list_{big}"),
        noise("post_chirp", "pg_insert"),
        max(noise("login"), data["hash"]["other"]),
        noise("login", "reader_rest"),
        0.0,
        0.0,
        0.0,
    ]
    targets = [(*t, n) for t, n in zip(targets, noises, strict=True)]

    out = []
    w = out.append
    quick = args.quick
    w("# Chirpy benchmarks" if not quick else "# Chirpy benchmarks: --quick smoke run (debug build, not a measurement)")
    w("")
    w(
        f"Generated by `{command}` on {info['date']}, from commit {info['commit']}."
        + ("" if quick else " Every full run rewrites this file: do not edit it by hand.")
    )
    w("")
    w("## How to read this")
    w("")
    w(
        "- Absolute figures drift with the machine and whatever else runs on it; the **ratios** to the ceilings "
        "measured in the same run (pgbench on the same cluster, the Argon2id cost, `/api/healthz`) are the point."
    )
    w(
        f"- Load: wrk `-t {args.threads}`, {args.connections} connections, {args.duration:g} s per case "
        f"(after a {args.warmup:g} s warm-up); pgbench `-M prepared -j 2` at the same number of clients, same duration, "
        "against the server's own cluster. Latencies are wrk's (closed loop: p99 is what a client waited while all "
        "connections were busy)."
    )
    w(f"- CPUs: {pinned}")
    w(
        "- CPU/req: CPU time per request of the server process, of all of PostgreSQL (postmaster, backends, "
        "background workers) and of the load generator, from /proc and rusage over the case. On this machine the "
        "cores are shared, so CPU/req says where the time goes better than requests/s does."
    )
    w(
        "- *other*: how many cores were busy with anything else during the case (other processes on the machine, "
        "this harness's own Python; from /proc/stat minus the three above). Above ~0.1, the case ran on a busy "
        f"machine and its figures are noise; a target whose cases saw more than {NOISY_OTHER_CORES} is marked "
        "*noisy* (so is the login ceiling when hash-cost's two runs differ by more than 25%): run again on a "
        "quiet machine before believing that verdict."
    )
    w(
        "- RSS is the server process's VmRSS (PostgreSQL not included), sampled every 100 ms; *peak* is the highest "
        "sample during the case, *start* the value just before it."
    )
    w(
        "- The cluster is the server's dev cluster: PostgreSQL's defaults (fsync and synchronous commit on), "
        "so an insert waits for its WAL flush, for the server and pgbench alike."
    )
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    for key in ("cores", "memory", "cpu", "kernel", "rustc", "postgres", "wrk"):
        w(f"| {key} | {info[key]} |")
    build = "`cargo build --release`" if args.profile == "release" else "`cargo build`, debug"
    w(f"| server build | `target/{args.profile}/chirpy` ({build}) |")
    w("")
    w("## Targets")
    w("")
    w("| target | measured | ratio | goal | |")
    w("|---|---|---|---|---|")
    for name, measured, rat, goal, ok, other in targets:
        flag = f" (noisy: {other:.1f} other cores busy)" if other > NOISY_OTHER_CORES else ""
        w(f"| {name} | {measured} | {rat} | {goal} | {verdict(ok)}{flag} |")
    w("")
    w("## Where targets are missed, and why")
    w("")
    for paragraph in MISSES_EXPLAINED:
        w(f"- {paragraph}")
    w("")

    def row(label: str, res: Result) -> str:
        rss = f"{mib(res.rss_peak)}" if res.tool == "wrk" else "–"
        return (
            f"| {label} | {res.connections} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | {fmt_ms(res.p99_ms)} "
            f"| {rss} | {res.errors} | {cpu_text(res)} | {other_text(res)} |"
        )

    header = (
        "| load | conns | req/s | p50 | p99 | peak RSS | errors | CPU µs/req: server / PostgreSQL / load gen | other |"
    )
    rule = "|---|---|---|---|---|---|---|---|---|"

    w("## 1. GET /api/healthz: the HTTP stack's ceiling")
    w("")
    w(header)
    w(rule)
    w(row("wrk `GET /api/healthz`", r["healthz"]))
    w("")
    w(f"## 2. GET /api/chirps/{{id}} (random ids over {big:,} chirps) vs pgbench")
    w("")
    w(header)
    w(rule)
    w(row("wrk `GET /api/chirps/{id}`", r["get_chirp"]))
    w(row(f"pgbench `select {COLUMNS} from chirps where id = $1`", r["pg_get_chirp"]))
    w("")
    w(
        f"Ratio: **{ratio(r['get_chirp'].rps, r['pg_get_chirp'].rps):.2f}x** pgbench; "
        f"{ratio(r['get_chirp'].rps, r['healthz'].rps):.2f}x the `/api/healthz` ceiling. pgbench names the row by "
        f"`{CHIRP_ID_SQL.format(n='$1')}` (the seeded ids are made that way, since pgbench variables are integers): "
        "an md5 of a few bytes, well under a microsecond per query."
    )
    w("")
    w("## 3. GET /api/chirps: the whole list, as the table grows")
    w("")
    w(
        "| load | response | conns | req/s | p50 | p99 | peak RSS (start) | errors | CPU µs/req: server / PostgreSQL / load gen | other | µs per chirp |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        res = r[f"list_{n}"]
        w(
            f"| wrk `GET /api/chirps`, {n:,} chirps | {size_text(data[f'list_bytes_{n}'])} | {res.connections} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | "
            f"{fmt_ms(res.p99_ms)} | {mib(res.rss_peak)} ({mib(res.rss_start)}) | {res.errors} | "
            f"{cpu_text(res)} | {other_text(res)} | {per_chirp[n]:.2f} |"
        )
    pg = r[f"pg_list_{small}"]
    w(
        f"| pgbench `select {COLUMNS} from chirps order by created_at, id`, {small:,} chirps | | {pg.connections} | "
        f"{fmt_rate(pg.rps)} | {fmt_ms(pg.p50_ms)} | {fmt_ms(pg.p99_ms)} | – | {pg.errors} | "
        f"{cpu_text(pg)} | {other_text(pg)} | {pg.mean_ms * 1000 / pg.connections / small:.2f} |"
    )
    w("")
    w(
        f"Ratio at {small}: **{ratio(r[f'list_{small}'].rps, pg.rps):.2f}x** pgbench. "
        "µs per chirp = mean latency / connections / chirps, the time the machine takes per chirp listed "
        "(Little's law: a closed loop of c connections completes c / mean latency requests per second; unlike "
        "requests counted in the window, this does not drop the long responses still in flight when wrk stops). "
        f"The bigger lists run at {args.list_connections} connections (`--list-connections`): at 32, {big:,}-chirp "
        "responses share the server's CPU 32 ways and each takes longer than a case lasts, so wrk completes "
        "almost none. Before each size, one request checks that the unpaginated list returns every chirp, in "
        "order. CPU/req of the biggest list also carries the responses still in flight when wrk stops. "
        f"RSS growth while serving {big:,}: {mib(growth)} (peak − start); "
        f"peak − idle RSS after start-up: {mib(r[f'list_{big}'].rss_peak - data['idle_rss'])}."
    )
    w("")
    w(f"## 4. GET /api/chirps?author_id=<random>&sort=desc ({big:,} chirps by {N_AUTHORS:,} authors)")
    w("")
    w(header)
    w(rule)
    w(row("wrk, a random author per request", r["list_author"]))
    w("")
    w(f"{big:,} chirps by {N_AUTHORS:,} authors: about {big / N_AUTHORS:g} per author, at random.")
    w("")
    w("## 5. POST /api/chirps vs pgbench insert")
    w("")
    w(header)
    w(rule)
    w(row(f"wrk `POST /api/chirps`, {TOKEN_USERS} users' tokens", r["post_chirp"]))
    w(row("pgbench `insert into chirps (body, user_id) values (...) returning ...`", r["pg_insert"]))
    w("")
    w(f"Ratio: **{ratio(r['post_chirp'].rps, r['pg_insert'].rps):.2f}x** pgbench.")
    w("")
    w("## 6. POST /api/login vs the Argon2id ceiling, and reads during the storm")
    w("")
    w(header)
    w(rule)
    w(row(f"wrk `POST /api/login` (right passwords, {N_AUTHORS:,} users)", r["login"]))
    w(row("paced reader `GET /api/chirps/{id}` at rest", r["reader_rest"]))
    w(row("paced reader `GET /api/chirps/{id}` during the storm", r["reader_storm"]))
    w("")
    h = data["hash"]
    w(
        f"`target/{args.profile}/hash-cost {args.hashes}`{' (pinned like the server)' if data['pinned'] else ''}, "
        f"before and after the storm: `{h['runs'][0]['line']}`; then `{h['runs'][1]['line']}`. Ceiling: "
        f"{h['cores']} core{'s' if h['cores'] > 1 else ''} / {h['ms']:.2f} ms (their mean) = {ceiling:.1f} logins/s. "
        f"Login: **{ratio(login, ceiling):.2f}x** that ceiling. "
        "(The ceiling counts the hash alone; the rest of a login, its queries and PostgreSQL's share of the same "
        "CPUs, comes out of it: see the CPU/req column.) "
        f"The paced reader is {args.reader_connections} connections pausing {args.reader_pause_ms} ms after each "
        f"response (wrk's latency excludes the pause), first alone, then started 1 s into the storm; p99 during/at "
        f"rest: **{ratio(storm_p99, rest_p99):.2f}x**."
    )
    w("")
    w("## 7. Idle RSS and start-up")
    w("")
    ready = data["ready"]
    w("| | |")
    w("|---|---|")
    w(f"| idle RSS, 1 s after start-up, before any request | {mib(data['idle_rss'])} |")
    w(
        f"| idle RSS of a fresh process after one `/api/healthz` (median of the start-up runs) | {mib(ready['idle_rss'])} |"
    )
    w(f"| RSS at the end of the run (after every case) | {mib(data['busy_rss'])} |")
    w(f"| start -> first 200 from `/api/healthz`, median of {len(ready['times_ms'])} | {fmt_ms(ready['median_ms'])} |")
    w(f"| the runs | {', '.join(f'{t:.0f}' for t in ready['times_ms'])} ms |")
    w("")
    w(
        "Start-up is timed from spawning the process to the first 200, polling every ~2 ms, with the cluster "
        "already running (started with `pg_ctl`) and `DATABASE_URL` pointing at it, as a deployment runs: "
        "connecting, checking the migrations (already applied), binding, serving."
    )
    w("")
    if problems:
        w("## Problems in this run")
        w("")
        for p in problems:
            w(f"- {p}")
        w("")
    return "\n".join(out) + "\n", problems, targets


# ---------------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke: debug build, 1 s cases, 100 and 1,000 chirps; prints, writes nothing",
    )
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--duration", type=float, help="seconds per case (10; --quick 1)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up before each case (2; --quick 0)")
    p.add_argument("--list-connections", type=int, help="connections for the bigger lists (8)")
    p.add_argument("--sizes", help="chirp counts for the list, comma-separated (100,10000,100000; --quick 100,1000)")
    p.add_argument("--storm-seconds", type=float, help="length of the login storm (10; --quick 3)")
    p.add_argument("--reader-connections", type=int, default=2)
    p.add_argument("--reader-pause-ms", type=int, default=10)
    p.add_argument("--hashes", type=int, help="hashes for hash-cost (20; --quick 5)")
    p.add_argument("--ready-runs", type=int, help="start-up timings (9; --quick 3)")
    p.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="server and PostgreSQL on one half of the CPUs, wrk/pgbench on the other (default: on)",
    )
    p.add_argument("--profile", choices=["release", "debug"], help="which build (release; --quick debug)")
    p.add_argument("--output", type=Path, help="where the full run writes its report (BENCHMARKS.md)")
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
    args.ready_runs = args.ready_runs or (3 if q else 9)
    args.profile = args.profile or ("debug" if q else "release")
    args.output = args.output or ROOT / "BENCHMARKS.md"
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (bench/run installs it: apt-get install wrk)", file=sys.stderr)
        return 2

    pg_bin = pg_bin_dir()
    info = machine_info(pg_bin)
    info["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "just bench" + "".join(f" {a}" for a in sys.argv[1:])
    if q:
        log(
            "--quick: a smoke test of the harness on the DEBUG build, with tiny durations; "
            "figures are not measurements and BENCHMARKS.md is not written"
        )
    tmp = Path(tempfile.mkdtemp(prefix="chirpy-bench-"))
    bench = Bench(args, tmp, pg_bin)
    ncpu = os.cpu_count() or 1
    if bench.server_cpus:
        pinned = (
            f"pinned with sched_setaffinity: the server and its PostgreSQL (which inherits the affinity) "
            f"on CPU {','.join(map(str, bench.server_cpus))}, wrk and pgbench on CPU "
            f"{','.join(map(str, bench.load_cpus))}, so a load generator never takes CPU from what it "
            "measures, and the server and pgbench's PostgreSQL get the same CPUs. The server sizes its "
            "runtime and its hashing concurrency from its affinity (available_parallelism), and hash-cost "
            "runs pinned the same way, so the login ceiling is for the server's share of the cores."
        )
    else:
        pinned = (
            f"not pinned: server, PostgreSQL and the load generator share all {ncpu} cores"
            f"{' (--no-pin)' if ncpu >= 2 else ''}."
        )
    log(f"CPUs: {pinned}")
    if bench.load_cpus:
        os.sched_setaffinity(0, bench.load_cpus)  # this harness too keeps off the server's CPUs
    started = time.monotonic()
    try:
        data = bench.run()
    except (HarnessError, subprocess.CalledProcessError) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        if bench.server and bench.server.proc and bench.server.proc.poll() is None:
            bench.server.stop()
        return 1
    except KeyboardInterrupt:
        if bench.server:
            bench.server.stop()
        return 130
    finally:
        # A cluster still running (the server died) goes before its directory does.
        if bench.server and bench.server.pg_host:
            cl = Cluster(pg_bin, bench.server.pg_host, None)
            if cl.running():
                cl.stop("immediate")
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            host = bench.server.pg_host if bench.server else ""
            if host and not host.startswith(str(tmp)):
                # The postgres user could not reach the temp dir: the server used its
                # fallback, a directory of its own under the system temp dir.
                if Path(host).name.startswith("chirpy-dev-") and Path(host).parent == Path(tempfile.gettempdir()):
                    shutil.rmtree(host, ignore_errors=True)
                else:
                    log(f"note: the cluster lived outside the temp dir, in {host}")

    report, problems, targets = build_report(data, info, args, command, pinned)
    elapsed = time.monotonic() - started
    if q:
        print(report)
        log(f"quick run done in {elapsed:.0f}s (debug build; nothing written)")
    else:
        args.output.write_text(report)
        print(report)
        log(f"full run done in {elapsed:.0f}s; wrote {args.output}")
    missed = [t[0] for t in targets if not t[4]]
    if missed:
        log(f"targets missed ({len(missed)}): " + "; ".join(missed))
    if problems:
        for prob in problems:
            print(f"bench: PROBLEM: {prob}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
