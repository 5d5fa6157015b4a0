"""`chirpy serve` and `devpg run`, started the one way every harness starts them.

A server comes up on a throwaway PostgreSQL of its own (`--throwaway-db`), or on the
`DATABASE_URL` a harness gives it; a cluster alone (`devpg run`) is for harnesses that need
PostgreSQL's process ids or programs (the bench), or several servers on one database.
Both are found through their --ready-file; see `child`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .binaries import ROOT
from .child import Child
from .errors import HarnessError

# .env.example names every variable the server's configuration reads: set, commented out, or
# (an alias such as DB_URL) in backticks in the prose.
ENV_EXAMPLE = ROOT / ".env.example"
VARIABLE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=|`([A-Z][A-Z0-9_]*)`", re.M)
# Loopback, a port the kernel picks, and request logs off (the startup and error lines stay).
# Each request's "answered" line is chirpy::observe's at info: writing it cost `just bench` a
# quarter of /api/healthz's throughput (38,000 vs 51,000 requests/s).
# RATE_LIMITS=off: the harnesses sign up and post far faster than any one person may.
SERVER_DEFAULTS = {"HOST": "127.0.0.1", "PORT": "0", "RUST_LOG": "warn,chirpy=info,chirpy::observe=warn", "RATE_LIMITS": "off"}


def server_variables(env_example: str) -> list[str]:
    """The variables an .env.example file names, each once, in order."""
    return list(dict.fromkeys(a or b for a, b in VARIABLE.findall(env_example)))


def server_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment with every server setting cleared, SERVER_DEFAULTS, then
    `overrides`. Cleared means set empty, which the server treats as unset and which beats any
    .env file: nothing from the caller's shell leaks into a harness's server."""
    env = dict(os.environ)
    env.update(dict.fromkeys(server_variables(ENV_EXAMPLE.read_text()), ""))
    env.update(SERVER_DEFAULTS)
    env.update(overrides or {})
    return env


class Server(Child):
    """A running `chirpy serve`: `url` (http://127.0.0.1:PORT) and `database`, the throwaway
    cluster's URL (None when the server was given DATABASE_URL)."""

    url = ""
    database: str | None = None
    # The throwaway cluster's postmaster, to check after SIGTERM that the server stopped it.
    postmaster_pid: int | None = None

    def wait_ready(self, timeout: float = 180) -> dict:
        ready = super().wait_ready(timeout)
        if ready.get("pid") != self.pid:
            raise HarnessError(f"the ready file names pid {ready.get('pid')}, not the server's {self.pid}")
        host = urlsplit(ready["url"]).hostname or ""
        if not ipaddress.ip_address(host).is_loopback:
            raise HarnessError(f"the server listens on {host}, not a loopback address: refusing")
        self.url, self.database = ready["url"], ready.get("database")
        if self.database:
            self.postmaster_pid = postmaster_pid(socket_dir(self.database))
        return ready

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 0


def start_server(
    bin_dir: Path,
    env: dict[str, str] | None = None,
    throwaway_db: bool = True,
    cpus: list[int] | None = None,
    run_dir: Path | None = None,
    name: str = "server",
    wait: bool = True,
) -> Server:
    """`chirpy serve` in `run_dir` (a fresh temp dir if None) with `server_env(env)`; on its own
    throwaway PostgreSQL unless `throwaway_db` is False (then `env` names DATABASE_URL). With
    `wait`, returns once it serves; else right after spawning (call `wait_ready`)."""
    argv = [str(bin_dir / "chirpy"), "serve"] + (["--throwaway-db"] if throwaway_db else [])
    server = Server(name, argv, server_env(env), run_dir=run_dir, cpus=cpus).start()
    if wait:
        try:
            server.wait_ready()
        except BaseException:
            server.stop()
            server.remove()
            raise
    return server


class Cluster(Child):
    """A running `devpg run`: `url` (the `postgres` database over the unix socket), `bin_dir`
    (psql, pgbench, ...), `data_dir` and `postmaster_pid`."""

    def wait_ready(self, timeout: float = 120) -> dict:
        ready = super().wait_ready(timeout)
        self.url, self.bin_dir = ready["url"], Path(ready["bin_dir"])
        self.data_dir, self.postmaster_pid = Path(ready["data_dir"]), int(ready["postmaster_pid"])
        return ready

    def database_url(self, database: str) -> str:
        return database_url(self.url, database)


def start_cluster(
    bin_dir: Path,
    settings: list[str] = (),
    cpus: list[int] | None = None,
    run_dir: Path | None = None,
    name: str = "postgres",
) -> Cluster:
    """A throwaway cluster (deleted when devpg exits, however it exits), on a unix socket only,
    with extra `name=value` server settings; returns once it accepts connections."""
    argv = [str(bin_dir / "devpg"), "run"] + [arg for setting in settings for arg in ("-c", setting)]
    cluster = Cluster(name, argv, dict(os.environ), run_dir=run_dir, cpus=cpus).start()
    try:
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        cluster.remove()
        raise
    return cluster


def database_url(url: str, database: str) -> str:
    """`url` naming `database` instead (postgres://u@h:p/postgres?host=... -> .../<database>?...)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def socket_dir(url: str) -> Path:
    """The unix socket directory a devpg URL names (`?host=`), which is its data directory."""
    return Path(parse_qs(urlsplit(url).query)["host"][0])


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid on the first line of the cluster's postmaster.pid, if it is running."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
