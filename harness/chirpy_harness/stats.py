"""The one percentile every harness reports."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below
    it, so always one of the values, never an interpolation. p = 0 gives the smallest value,
    p = 100 the largest; no values give NaN (a step that never ran has no latency)."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile wants 0 <= p <= 100, not {p}")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[rank - 1]
