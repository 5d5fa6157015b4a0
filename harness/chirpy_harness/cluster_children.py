"""The cluster harness's programs: `chirpy serve` and `devpg run` through the launcher's
classes, and PgBouncer and haproxy, which have no --ready-file, ready once their port accepts.

What `child.Child.start` does, with three differences a long-lived, many-process harness needs:
- each program gets its own process group, so a terminal's Ctrl-C reaches only the harness,
  which then stops the pieces in order (front first, PostgreSQL last);
- each gets SIGTERM if the harness dies, however it dies (PR_SET_PDEATHSIG), so nothing
  outlives a killed harness;
- the log is appended to, so an instance restarted in the same directory keeps the lines
  of its first life.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from .child import Child
from .errors import HarnessError
from .launcher import Cluster, Server, server_env

PR_SET_PDEATHSIG = 1
# Loaded here, not in the child: between fork and exec only calls that take no lock are safe,
# and the harness has threads (load generators) while it restarts an instance.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent(parent: int) -> None:
    """In the child before exec: SIGTERM when the harness's thread that spawned it ends (so
    spawn from the main thread only), and if the harness is already gone, now."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


class OwnGroup(Child):
    # Run as this user (PgBouncer refuses to run as root); None: as the harness.
    user: str | None = None

    def command(self) -> list[str]:
        return [*self.argv, "--ready-file", str(self.ready_path)]

    def start(self) -> OwnGroup:
        self.ready_path.unlink(missing_ok=True)
        parent = os.getpid()
        as_user = {"user": self.user, "group": self.user, "extra_groups": []} if self.user else {}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.run_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                process_group=0,
                preexec_fn=lambda: _die_with_parent(parent),
                **as_user,
            )
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown of its own."""
        assert self.proc is not None, "not started"
        self.proc.kill()
        self.proc.wait()


class Instance(OwnGroup, Server):
    """One `chirpy serve` of the cluster (ready file, loopback check: the launcher's)."""


class Postgres(OwnGroup, Cluster):
    """One `devpg run` of the cluster: a primary or a replica."""


class Daemon(OwnGroup):
    """PgBouncer or haproxy in the foreground: ready once `port` on 127.0.0.1 accepts."""

    def __init__(self, name: str, argv: list[str], run_dir: Path, port: int, stop_signal: int, user: str | None = None):
        super().__init__(name, argv, dict(os.environ), run_dir=run_dir)
        self.port = port
        self.stop_signal = stop_signal
        self.user = user

    def command(self) -> list[str]:
        return self.argv

    def stop(self, timeout: float = 60) -> int | None:
        """`stop_signal` (each program's own graceful stop), then as Child.stop: SIGTERM and
        SIGKILL only if that does not end it within `timeout`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        return super().stop(timeout)

    def wait_ready(self, timeout: float = 30) -> dict:
        assert self.proc is not None, "not started"
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                self.ready = {"port": self.port, "pid": self.pid}
                return self.ready
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"{self.name} exited with {self.proc.returncode} before it listened:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise HarnessError(f"{self.name} did not listen on {self.port} in {timeout:g}s:\n{self.log_tail()}")
            time.sleep(0.02)


def instance(bin_dir: Path, env: dict[str, str], run_dir: Path, name: str) -> Instance:
    """A `chirpy serve` configured by `env` (over the launcher's defaults), not yet started."""
    return Instance(name, [str(bin_dir / "chirpy"), "serve"], server_env(env), run_dir=run_dir)


def postgres(bin_dir: Path, args: list[str], run_dir: Path, name: str) -> Postgres:
    """A `devpg run ARGS` (--data-dir, --port, --replica-of, -c), not yet started."""
    return Postgres(name, [str(bin_dir / "devpg"), "run", *args], dict(os.environ), run_dir=run_dir)
