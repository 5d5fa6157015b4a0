"""What every part of the report shares: the usual table of loads and its rows, and the figures
computed from a run that more than one section shows."""

from __future__ import annotations

import math
from pathlib import Path

from chirpy_harness.binaries import ROOT
from chirpy_harness.report import fmt_ms, fmt_rate, fmt_us, mib

import queries
from loadgen import Result

MIB = 1024 * 1024


def at_most(x: float) -> str:
    """`x` to two decimals, cut rather than rounded, so that a ratio just under its goal is
    never shown as the goal itself next to a MISS (1.496 is 1.49, not 1.50)."""
    return "nan" if math.isnan(x) else f"{math.floor(x * 100 + 1e-9) / 100:.2f}"


def busiest(*cases: Result) -> float:
    """The most other cores any of `cases` saw busy (0 when none was measured)."""
    return max((c.other_cpu for c in cases if not math.isnan(c.other_cpu)), default=0.0)


def ratio(x: float, y: float) -> float:
    return x / y if y else math.nan


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def sql_file(name: str) -> str:
    return f"`{shown(queries.SQL_DIR / name)}`"


def cpu_text(res: Result) -> str:
    return f"{fmt_us(res.cpu_server_us)} / {fmt_us(res.cpu_db_us)} / {fmt_us(res.cpu_load_us)}".replace("n/a", "–")


def other_text(res: Result) -> str:
    return "–" if math.isnan(res.other_cpu) else f"{res.other_cpu:.2f}"


def row(label: str, res: Result) -> str:
    rss = mib(res.rss_peak) if res.tool == "wrk" else "–"
    return (
        f"| {label} | {res.connections} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | {fmt_ms(res.p99_ms)} "
        f"| {rss} | {res.errors} | {cpu_text(res)} | {other_text(res)} |"
    )


HEADER = "| load | conns | req/s | p50 | p99 | peak RSS | errors | CPU µs/req: server / PostgreSQL / load gen | other |"
RULE = "|---|---|---|---|---|---|---|---|---|"


def case_table(*rows: str) -> list[str]:
    """The usual table of loads, then a blank line."""
    return [HEADER, RULE, *rows, ""]


def per_chirp_us(data: dict) -> dict[int, float]:
    """Per chirp listed, from Little's law (connections / mean latency = throughput of a closed
    loop): unlike requests / window, it does not undercount when responses take seconds and the
    ones still in flight when wrk stops are dropped."""
    r = data["cases"]
    return {n: r[f"list_{n}"].mean_ms * 1000 / r[f"list_{n}"].connections / n for n in data["sizes"]}


def metrics_ratio(data: dict, case: str) -> float:
    """Throughput with metrics on over off, summed over the alternating runs."""
    r, runs = data["cases"], data["metrics_cost"][case]
    return ratio(sum(r[n].rps for n in runs["on"]), sum(r[n].rps for n in runs["off"]))
