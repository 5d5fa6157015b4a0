"""Where the harnesses get Chirpy's programs.

With CHIRPY_BIN_DIR set, its chirpy, devpg and hash-cost are used as they are and nothing is
built (CI builds once; a reviewer may point at a snapshot). Otherwise `cargo build` brings
target/<profile>/ up to date first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .errors import HarnessError

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("chirpy", "devpg", "hash-cost")


def bin_dir(profile: str = "debug", build: bool = True) -> Path:
    """The directory holding every program in PROGRAMS, built first when that is ours to do."""
    given = os.environ.get("CHIRPY_BIN_DIR")
    if given:
        path = Path(given).resolve()
    else:
        path = ROOT / "target" / profile
        if build:
            cargo_build(profile)
    missing = [name for name in PROGRAMS if not (path / name).is_file()]
    if missing:
        source = "CHIRPY_BIN_DIR" if given else f"cargo build{' --release' if profile == 'release' else ''}"
        raise HarnessError(f"{', '.join(missing)} not found in {path} (from {source})")
    return path


def cargo_build(profile: str) -> None:
    cmd = ["cargo", "build", "--quiet", "--bins"] + (["--release"] if profile == "release" else [])
    print(f"::: {' '.join(cmd)}", file=sys.stderr, flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        raise HarnessError(f"{' '.join(cmd)} failed")
