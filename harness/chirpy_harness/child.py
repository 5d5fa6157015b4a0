"""A program a harness runs and waits for: in a temp working directory, its output in a log
file there, ready once it has written the one JSON line it was asked for with --ready-file,
stopped with SIGTERM. Readiness is that file, never a line of the log."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .cpus import pin_to
from .errors import HarnessError


class Child:
    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        run_dir: Path | None = None,
        cpus: list[int] | None = None,
    ):
        self.name = name
        self.argv = argv
        self.env = env
        self.cpus = cpus
        self.own_dir = run_dir is None
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"chirpy-{name}-")) if run_dir is None else run_dir
        self.log_path = self.run_dir / f"{name}.log"
        self.ready_path = self.run_dir / f"{name}.ready.json"
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}
        self.exit_code: int | None = None
        self.shutdown_seconds: float | None = None

    def start(self) -> Child:
        """Spawns the program, pinned to `cpus` if given (its own children inherit that)."""
        self.ready_path.unlink(missing_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*self.argv, "--ready-file", str(self.ready_path)],
                cwd=self.run_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=pin_to(self.cpus),
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def wait_ready(self, timeout: float) -> dict:
        """The ready file's JSON, once written; fails, with the log's tail, if the program exits
        first or takes longer than `timeout` seconds."""
        assert self.proc is not None, "not started"
        deadline = time.monotonic() + timeout
        text = ""
        while True:
            try:
                text = self.ready_path.read_text()
                self.ready = json.loads(text)
                if not isinstance(self.ready, dict):
                    raise HarnessError(f"{self.name}'s ready file holds {text!r}, not a JSON object")
                return self.ready
            except FileNotFoundError:
                pass
            except json.JSONDecodeError:
                pass  # not all there yet: a writer that is not atomic
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"{self.name} exited with {self.proc.returncode} before it was ready:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                found = f"; its ready file holds {text[:200]!r}" if text else ""
                raise HarnessError(f"{self.name} was not ready in {timeout:g}s{found}:\n{self.log_tail()}")
            time.sleep(0.02)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, then wait (SIGKILL after `timeout` seconds); the exit code, or None if it never
        started. The program's own shutdown (finishing requests, stopping PostgreSQL) happens here."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            started = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.shutdown_seconds = time.monotonic() - started
        self.exit_code = self.proc.returncode
        return self.exit_code

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(empty log)"

    def errors_in_log(self) -> list[str]:
        """The lines logged at ERROR (the server logs every 500 so, with its cause)."""
        return [line for line in self.log_text().splitlines() if " ERROR " in line]

    def remove(self) -> None:
        """Deletes the working directory if this Child made it (stop first)."""
        if self.own_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.remove()
