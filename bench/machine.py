"""What the report says about the machine and the programs measured."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

from chirpy_harness.binaries import ROOT


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine_info(pg_bin: Path) -> dict[str, str]:
    """Cores, memory, CPU model, kernel, tool versions and the commit, for the Machine table."""
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
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


def pinning_text(cpus: tuple[list[int], list[int]] | None, asked: bool) -> str:
    """How the CPUs were shared, for the report's "How to read this"."""
    if cpus:
        load, server = (",".join(map(str, c)) for c in cpus)
        return (
            f"pinned with sched_setaffinity: the server and its PostgreSQL (which inherits the affinity) "
            f"on CPU {server}, wrk and pgbench on CPU {load}, so a load generator never takes CPU from what it "
            "measures, and the server and pgbench's PostgreSQL get the same CPUs. The server sizes its "
            "runtime and its hashing concurrency from its affinity (available_parallelism), and hash-cost "
            "runs pinned the same way, so the login ceiling is for the server's share of the cores."
        )
    ncpu = os.cpu_count() or 1
    return (
        f"not pinned: server, PostgreSQL and the load generator share all {ncpu} cores"
        f"{' (--no-pin)' if ncpu >= 2 and not asked else ''}."
    )
