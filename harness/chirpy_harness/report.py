"""Formatting figures for reports, and rewriting the generated region of a markdown file."""

from __future__ import annotations

import math

MIB = 1024 * 1024
REGION_BEGIN = "<!-- bench:begin -->"
REGION_END = "<!-- bench:end -->"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / MIB:.1f} MiB"


def size_text(n_bytes: float) -> str:
    return mib(n_bytes) if n_bytes >= MIB else f"{n_bytes / 1024:.1f} KiB"


def fmt_ms(x: float) -> str:
    """Milliseconds with three significant figures or so; NaN (nothing measured) is n/a."""
    if math.isnan(x):
        return "n/a"
    return f"{x:.2f} ms" if x < 10 else f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_us(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


def replace_region(document: str, region: str, begin: str = REGION_BEGIN, end: str = REGION_END) -> str:
    """`document` with what lies between the `begin` and `end` marker lines replaced by `region`;
    everything outside them (hand-written text) is kept as it is. Refuses a document without
    exactly one pair of markers, rather than guess where generated text may go."""
    if document.count(begin) != 1 or document.count(end) != 1:
        raise ValueError(f"expected one {begin} and one {end} line")
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    if end in head:
        raise ValueError(f"{end} comes before {begin}")
    return f"{head}{begin}\n{region.strip(chr(10))}\n{end}{tail}"
