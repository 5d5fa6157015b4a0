"""A stand-in for `chirpy serve` and `devpg run`, driven by FAKE_* variables, so that the
launcher's waiting, stopping and refusing can be tested without building anything."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

PROGRAM = r'''
import json, os, signal, sys, time

ready_file = sys.argv[sys.argv.index("--ready-file") + 1]
mode = os.environ.get("FAKE_MODE", "ready")

def on_term(*_):
    for line in filter(None, os.environ.get("FAKE_LOG_ON_EXIT", "").split("|")):
        print(line, file=sys.stderr, flush=True)
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))

signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "ignore-term" else on_term)
time.sleep(float(os.environ.get("FAKE_DELAY", "0")))
print("fake: starting", file=sys.stderr, flush=True)
if mode == "crash":
    print("fake: cannot start", file=sys.stderr, flush=True)
    sys.exit(3)
if mode == "garbage":
    with open(ready_file, "w") as f:
        f.write("listening, honest")
elif mode != "silent":
    ready = {"url": os.environ.get("FAKE_URL", "http://127.0.0.1:9"), "database": None,
             "pid": int(os.environ.get("FAKE_PID", os.getpid()))}
    with open(ready_file + ".tmp", "w") as f:
        f.write(json.dumps(ready) + "\n")
    os.rename(ready_file + ".tmp", ready_file)

while True:
    time.sleep(0.05)
'''


def fake_bin_dir() -> Path:
    """A temp directory whose `chirpy` and `devpg` are the fake (the caller removes it)."""
    path = Path(tempfile.mkdtemp(prefix="chirpy-harness-test-"))
    for name in ("chirpy", "devpg", "hash-cost"):
        program = path / name
        program.write_text(f"#!{sys.executable}\n{PROGRAM}")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return path


def fake_argv() -> list[str]:
    return [sys.executable, "-c", PROGRAM]


def fake_env(**fake: str) -> dict[str, str]:
    return dict(os.environ, **{f"FAKE_{k.upper()}": v for k, v in fake.items()})
