"""Chirpy past one machine, on one machine: a local cluster of real parts.

    python3 -m chirpy_harness.cluster [--port PORT] [--env NAME=VALUE]... [--pool-mode MODE]   (`just cluster`)

Under one temp dir, on 127.0.0.1 only: a PostgreSQL primary and a streaming replica
(`devpg run`), PgBouncer in transaction mode in front of both (database `chirpy` for the
primary, `chirpy_replica` for the replica), two `chirpy serve` instances, and haproxy in front
of them, health-checking /api/readyz. Prints the front URL and every piece's address, then
runs until Ctrl-C or SIGTERM, when it stops everything (front first, PostgreSQL last) and
deletes the temp dir. Binaries from CHIRPY_BIN_DIR, else a debug build.
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from . import cluster_config as config
from .binaries import bin_dir as find_bin_dir
from .cluster_children import Daemon, Instance, Postgres, instance, postgres
from .errors import HarnessError
from .launcher import free_port
from .pgstats import CHIRP_READ_FILES, ChirpReads, Psql

# Every node loads pg_stat_statements: it is how the harness counts reads per node.
PG_SETTINGS = ["shared_preload_libraries=pg_stat_statements"]
INSTANCE_NAMES = ("a", "b")
# PostgreSQL and PgBouncer refuse to run as root; devpg switches to this user by itself.
PG_USER = "postgres"


def program(name: str, package: str) -> str:
    """A Debian package's program, also where root's PATH may not look (/usr/sbin)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        raise HarnessError(f"{name} not found: apt-get install {package}")
    return found


def tcp_url(port: int, database: str) -> str:
    return f"postgres://{PG_USER}@127.0.0.1:{port}/{database}"


class LocalCluster:
    """The running topology. `start()` brings it up, `stop()` takes it down (whatever part of
    it came up) and returns what went wrong on the way down."""

    def __init__(
        self, bin_dir: Path, front_port: int = 0, pool_mode: str = "transaction", env: dict[str, str] | None = None
    ):
        self.bin_dir = bin_dir
        self.pool_mode = pool_mode
        # The operator's own settings for both instances, over the cluster's.
        self.extra_env = env or {}
        self.front_port = front_port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="chirpy-cluster-"))
        # PostgreSQL and PgBouncer run as postgres: they must reach their own directories.
        self.root.chmod(0o711)
        self.as_root = os.geteuid() == 0
        self.jwt_secret = secrets.token_hex(32)
        self.polka_key = "cluster-polka-" + secrets.token_hex(8)
        self.primary: Postgres | None = None
        self.replica: Postgres | None = None
        self.bouncer: Daemon | None = None
        self.front: Daemon | None = None
        self.instances: dict[str, Instance] = {}
        self.primary_port = self.replica_port = self.bouncer_port = 0
        self.timings: dict[str, float] = {}

    # -- bringing it up

    def start(self) -> LocalCluster:
        started = time.monotonic()
        self.start_primary()
        self.timings["primary"] = time.monotonic() - started
        self.replica_port = free_port()
        self.start_replica()
        self.timings["replica"] = time.monotonic() - started
        self.start_bouncer()
        for name in INSTANCE_NAMES:
            self.instances[name] = self.new_instance(name, port=0).start()
        for server in self.instances.values():
            server.wait_ready()
        self.timings["instances"] = time.monotonic() - started
        self.start_front()
        self.wait_servers_up(timeout=10)
        self.timings["up"] = time.monotonic() - started
        return self

    def start_primary(self) -> None:
        run_dir = self.piece_dir("primary")
        args = ["--data-dir", str(run_dir / "data"), "--port", "0"] + [a for s in PG_SETTINGS for a in ("-c", s)]
        self.primary = postgres(self.bin_dir, args, run_dir, "primary").start()
        self.primary.wait_ready(timeout=120)
        self.primary_port = urlsplit(self.primary.ready["tcp_url"]).port
        admin = Psql(self.primary.bin_dir, tcp_url(self.primary_port, "postgres"))
        admin.run(f"create database {config.DATABASE}")
        # How the checks count reads per node; the replica gets it with the base backup.
        self.psql("primary").run("create extension pg_stat_statements")

    def start_replica(self) -> None:
        """Starts the replica: a base backup of the primary the first time; its own data
        directory (and so the WAL it has replayed) on a restart, on the same port."""
        run_dir = self.piece_dir("replica")
        args = [
            "--data-dir",
            str(run_dir / "data"),
            "--port",
            str(self.replica_port),
            "--replica-of",
            tcp_url(self.primary_port, "postgres"),
        ] + [a for s in PG_SETTINGS for a in ("-c", s)]
        self.replica = postgres(self.bin_dir, args, run_dir, "replica").start()
        self.replica.wait_ready(timeout=120)

    def stop_replica(self) -> int | None:
        assert self.replica is not None
        return self.replica.stop()

    def start_bouncer(self) -> None:
        run_dir = self.piece_dir("pgbouncer")
        user = PG_USER if self.as_root else None
        if user:
            entry = pwd.getpwnam(user)
            os.chown(run_dir, entry.pw_uid, entry.pw_gid)
        self.bouncer_port = free_port()
        auth_file = run_dir / "userlist.txt"
        auth_file.write_text(config.pgbouncer_userlist([PG_USER]))
        ini = run_dir / "pgbouncer.ini"
        ini.write_text(
            config.pgbouncer_ini(
                config.Bouncer(self.bouncer_port, self.primary_port, self.replica_port, auth_file, self.pool_mode)
            )
        )
        argv = [program("pgbouncer", "pgbouncer"), str(ini)]
        # SIGINT: PgBouncer's safe shutdown (SIGTERM is its immediate one, exit code 1).
        self.bouncer = Daemon("pgbouncer", argv, run_dir, self.bouncer_port, signal.SIGINT, user=user).start()
        self.bouncer.wait_ready()

    def instance_env(self, port: int) -> dict[str, str]:
        return {
            "DATABASE_URL": tcp_url(self.bouncer_port, config.DATABASE),
            "DATABASE_POOL_MODE": "transaction",
            "DATABASE_DIRECT_URL": tcp_url(self.primary_port, config.DATABASE),
            "DATABASE_REPLICA_URL": tcp_url(self.bouncer_port, config.REPLICA_ALIAS),
            # haproxy, which says who the client is in X-Forwarded-For.
            "TRUSTED_PROXIES": "127.0.0.1",
            "PLATFORM": "dev",
            "JWT_SECRET": self.jwt_secret,
            "POLKA_KEY": self.polka_key,
            "PORT": str(port),
        } | self.extra_env

    def new_instance(self, name: str, port: int) -> Instance:
        return instance(self.bin_dir, self.instance_env(port), self.piece_dir(f"chirpy-{name}"), f"chirpy-{name}")

    def restart_instance(self, name: str) -> Instance:
        """A stopped (or killed) instance started again on its old port, where haproxy looks."""
        old = self.instances[name]
        assert not old.running(), f"instance {name} is still running"
        server = self.new_instance(name, port=old.port).start()
        self.instances[name] = server
        server.wait_ready()
        return server

    def start_front(self) -> None:
        run_dir = self.piece_dir("haproxy")
        cfg = run_dir / "haproxy.cfg"
        servers = {name: server.port for name, server in self.instances.items()}
        cfg.write_text(config.haproxy_cfg(config.Front(self.front_port, servers, self.stats_socket)))
        # -db: stay in the foreground, so SIGTERM and the process's exit are ours to see.
        argv = [program("haproxy", "haproxy"), "-db", "-f", str(cfg)]
        # SIGUSR1: haproxy's soft stop, which lets requests in flight finish (SIGTERM cuts them).
        self.front = Daemon("haproxy", argv, run_dir, self.front_port, signal.SIGUSR1).start()
        self.front.wait_ready()

    def piece_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(exist_ok=True)
        return path

    # -- looking at it

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    @property
    def stats_socket(self) -> Path:
        return self.root / "haproxy" / "haproxy.sock"

    def psql(self, node: str) -> Psql:
        """psql on the chirpy database of "primary" or "replica", directly."""
        port = {"primary": self.primary_port, "replica": self.replica_port}[node]
        assert self.primary is not None
        return Psql(self.primary.bin_dir, tcp_url(port, config.DATABASE))

    def chirp_reads(self, files: tuple[str, ...] = CHIRP_READ_FILES) -> ChirpReads:
        """Chirp reads per node (or runs of the statements in `files`, from src/store/sql)."""
        return ChirpReads({node: self.psql(node) for node in ("primary", "replica")}, files)

    def haproxy_stat(self) -> dict[str, dict[str, str]]:
        """The backend's servers, by name, as haproxy's `show stat` has them now."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.stats_socket))
            s.sendall(b"show stat\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        rows = config.parse_show_stat(b"".join(chunks).decode())
        return {sv: row for (px, sv), row in rows.items() if px == "chirpy" and sv in self.instances}

    def wait_servers_up(self, timeout: float, names: tuple[str, ...] | None = None) -> float:
        """Seconds until haproxy has every named instance UP with a passed check."""
        names = names or tuple(self.instances)
        started = time.monotonic()
        while True:
            stat = self.haproxy_stat()
            if all(stat[n]["status"] == "UP" and stat[n]["check_status"] == "L7OK" for n in names):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                states = ", ".join(f"{n}: {stat[n]['status']} ({stat[n]['check_status']})" for n in names)
                raise HarnessError(f"haproxy did not have every instance up within {timeout:g}s: {states}")
            time.sleep(0.05)

    def describe(self) -> str:
        lines = [
            f"front (haproxy)      {self.url}",
            *(f"instance {n}           {s.url}   log {s.log_path}" for n, s in self.instances.items()),
            (
                f"PgBouncer            {tcp_url(self.bouncer_port, config.DATABASE)}  "
                f"(replica: /{config.REPLICA_ALIAS}; {self.pool_mode} pooling)"
            ),
            f"PostgreSQL primary   {tcp_url(self.primary_port, config.DATABASE)}",
            f"PostgreSQL replica   {tcp_url(self.replica_port, config.DATABASE)}",
            f"haproxy stats socket {self.stats_socket}  (`show stat`, `disable server chirpy/a`, ...)",
            f"POLKA_KEY            {self.polka_key}",
            f"everything under     {self.root}",
        ]
        return "\n".join(lines)

    # -- taking it down

    def pieces(self) -> list:
        """Every piece, in the order to stop them: the front first, the primary last."""
        return [p for p in (self.front, *self.instances.values(), self.bouncer, self.replica, self.primary) if p]

    def stop(self) -> list[str]:
        problems = []
        postmasters = [pg.postmaster_pid for pg in (self.replica, self.primary) if pg and pg.ready]
        for piece in self.pieces():
            was_running = piece.running()
            code = piece.stop(timeout=30)
            # Each exits 0 on its stop signal; anything else is its to explain. (An instance
            # killed on purpose was not running by now.)
            if was_running and code != 0:
                problems.append(f"{piece.name} exited with {code} when stopped:\n{piece.log_tail(10)}")
        for pid in postmasters:
            if pid and not exits_within(pid, 10):
                problems.append(f"PostgreSQL (postmaster {pid}) is still running 10 s after its devpg stopped")
        return problems

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def exits_within(pid: int, seconds: float) -> bool:
    """Whether process `pid` (not ours to wait for: pg_ctl started it) is gone or a zombie
    within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class Stop(Exception):
    """SIGTERM arrived: stop as for Ctrl-C."""


def on_sigterm(*_) -> None:
    raise Stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m chirpy_harness.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="haproxy's port on 127.0.0.1 (default: a free one)")
    add_cluster_options(parser)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    cluster, problems = None, []
    try:
        cluster = LocalCluster(find_bin_dir("debug"), args.port, args.pool_mode, dict(args.env))
        print(f"::: cluster: starting under {cluster.root}", flush=True)
        cluster.start()
        print(cluster.describe(), flush=True)
        print(f"::: cluster: up in {cluster.timings['up']:.1f}s; Ctrl-C stops everything", flush=True)
        watch(cluster)
    except (KeyboardInterrupt, Stop):
        print("\n::: cluster: stopping", flush=True)
    except HarnessError as exc:
        problems.append(str(exc))
    finally:
        if cluster:
            # A second Ctrl-C must not cut the teardown short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            problems += cluster.stop()
            cluster.remove()
            print(f"::: cluster: stopped; removed {cluster.root}", flush=True)
    for problem in problems:
        print(f"cluster: {problem}", file=sys.stderr)
    return 1 if problems else 0


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """--pool-mode and --env, for every command that brings the cluster up."""
    parser.add_argument(
        "--pool-mode",
        choices=("transaction", "session"),
        default="transaction",
        help="PgBouncer's pool_mode (default transaction, as deployed; session only to tell whether a "
        "failure is transaction pooling's: the instances are configured the same either way)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        type=env_setting,
        metavar="NAME=VALUE",
        help="a setting for both instances, over the cluster's (e.g. CHIRP_CACHE_MIB=0); repeatable",
    )


def env_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--env wants NAME=VALUE, not {text!r}")
    return name, value


def watch(cluster: LocalCluster) -> None:
    """Until interrupted: says when a piece exits (an operator may kill one to watch the rest
    cope; the cluster keeps running)."""
    reported = set()
    while True:
        for piece in cluster.pieces():
            if piece.name not in reported and not piece.running():
                reported.add(piece.name)
                print(f"::: cluster: {piece.name} exited ({piece.proc.returncode}); log: {piece.log_path}", flush=True)
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
