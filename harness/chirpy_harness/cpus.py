"""Keeping a load generator off the CPUs of what it measures."""

from __future__ import annotations

import os
from collections.abc import Callable


def split_in_halves() -> tuple[list[int], list[int]] | None:
    """(load CPUs, server CPUs): the first half of the CPUs this process may use and the rest;
    None with fewer than two."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    half = len(allowed) // 2
    return allowed[:half], allowed[half:]


def pin_to(cpus: list[int] | None) -> Callable[[], None] | None:
    """A subprocess `preexec_fn` that pins the child, and so all it starts, to `cpus`."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)
