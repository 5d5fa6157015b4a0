"""What /proc says about processes and the machine: memory, CPU time, children."""

from __future__ import annotations

import os
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_status(pid: int) -> dict[str, int]:
    """The numeric fields of /proc/<pid>/status (VmRSS, VmHWM in kB; Threads; ...)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            first = value.split()[:1]
            if first and first[0].isdigit():
                out[key] = int(first[0])
    return out


def rss_bytes(pid: int) -> int:
    return proc_status(pid)["VmRSS"] * 1024


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        # After the command name, which may hold spaces and ')'; fields[0] is stat's field 3.
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """utime + stime of a live process, plus its waited-for children's (cutime + cstime)."""
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
                pass  # gone since the listing
    return out


def family_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children, those it has reaped (cutime) and those alive: all of
    a PostgreSQL cluster from its postmaster, backends that came and went included."""
    total = cpu_seconds(pid, with_children=True)
    for child in children_of(pid):
        try:
            total += cpu_seconds(child)
        except OSError:
            pass  # exited between the listing and the read: in cutime now or soon
    return total


def machine_busy_seconds() -> float:
    """CPU time the whole machine (all CPUs) has spent busy, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is counted in user already)
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class RssSampler:
    """Reads a process's VmRSS every `interval` seconds on a thread, while in a `with` block.
    Keeps the first reading, the peak and every sample as (seconds since start, bytes)."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.t0 = time.monotonic()
        self.start = rss_bytes(pid)
        self.peak = self.start
        self.samples: list[tuple[float, int]] = [(0.0, self.start)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> bool:
        try:
            value = rss_bytes(self.pid)
        except (OSError, KeyError):
            return False  # the process is gone
        self.peak = max(self.peak, value)
        self.samples.append((time.monotonic() - self.t0, value))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval) and self._sample():
            pass

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not exited (a zombie has)."""
    try:
        return _stat_fields(pid)[0] != "Z"
    except (OSError, IndexError):
        return False
