"""The charts beside BENCHMARKS.md (docs/bench/*.svg: each case's throughput over its ceiling,
and the latencies), and the lines of the report that show them."""

from __future__ import annotations

from pathlib import Path

import charts
from cases import NEWEST
from loadgen import Result
from report_rows import metrics_ratio, ratio
from report_targets import METRICS_GOAL

# The charts, beside the report: `docs/bench/` next to BENCHMARKS.md, linked relatively.
CHART_DIR = Path("docs") / "bench"
CHARTS = {"throughput.svg": "Throughput as a share of its ceiling", "latency.svg": "Latency, p50 and p99"}


def chart_links() -> list[str]:
    """The charts, linked relatively from BENCHMARKS.md, and how to read them."""
    out = []
    for name, title in CHARTS.items():
        out += [f"![{title}]({(CHART_DIR / name).as_posix()})", ""]
    out += [
        "The bars are each case's throughput over its ceiling's in this run (pgbench, `/api/healthz`, the Argon2id "
        "cost, the same server without metrics), green where it meets its goal (the black tick), red where it "
        "misses; latencies are wrk's (pgbench's for its own rows), on a log scale.",
        "",
    ]
    return out


def chart_files(data: dict) -> dict[str, str]:
    """The charts' SVG, by file name (see CHARTS)."""
    r: dict[str, Result] = data["cases"]
    small = data["sizes"][0]
    hash_ceiling = data["hash"]["ceiling"]

    def share(case: str, ceiling: str, label: str, goal: float | None = None) -> charts.Ratio:
        return charts.Ratio(label, ratio(r[case].rps, r[ceiling].rps), goal)

    ratios = [
        share("get_hot", "pg_get_chirp", "GET chirp, hot ÷ pgbench by id", 1.5),
        share("get_hot", "healthz", "GET chirp, hot ÷ /api/healthz", 0.5),
        share("get_cold", "pg_get_chirp", "GET chirp, cold ÷ pgbench by id", 1.0),
        share("not_modified", "healthz", "304 revalidation ÷ /api/healthz", 0.7),
        share("list_newest", "pg_list_newest", f"newest {NEWEST} ÷ pgbench", 1.0),
        share(f"list_{small}", f"pg_list_{small}", f"list of {small} (whole) ÷ pgbench"),
        share("post_chirp", "pg_insert", "POST chirp ÷ pgbench insert", 1.5),
        charts.Ratio("login ÷ Argon2id ceiling", ratio(r["login"].rps, hash_ceiling), 0.9),
        charts.Ratio("/api/healthz, metrics on ÷ off", metrics_ratio(data, "healthz"), METRICS_GOAL),
        charts.Ratio("GET chirp hot, metrics on ÷ off", metrics_ratio(data, "get_hot"), METRICS_GOAL),
    ]
    latency_cases = [
        ("healthz", "/api/healthz"),
        ("get_hot", "GET chirp, hot"),
        ("not_modified", "GET chirp, 304"),
        ("get_cold", "GET chirp, cold"),
        ("pg_get_chirp", "pgbench by id"),
        ("list_newest", f"newest {NEWEST}"),
        ("pg_list_newest", f"pgbench newest {NEWEST}"),
        *((f"list_{n}", f"list of {n:,}") for n in data["sizes"]),
        (f"pg_list_{small}", f"pgbench list of {small}"),
        ("list_author", "one author's chirps"),
        ("post_chirp", "POST chirp"),
        ("pg_insert", "pgbench insert"),
        ("login", "POST login"),
        ("reader_rest", "paced reader, at rest"),
        ("reader_storm", "paced reader, login storm"),
    ]
    latencies = [charts.Latency(label, r[case].p50_ms, r[case].p99_ms) for case, label in latency_cases]
    conns = data["cases"]["healthz"].connections
    return {
        "throughput.svg": charts.ratio_chart(ratios, f"Chirpy: throughput ÷ its ceiling, same run ({conns} conns)",
                                             "requests/s ÷ the ceiling's (1x: as fast as the ceiling)"),
        "latency.svg": charts.latency_chart(latencies, "Chirpy: latency per case (wrk; pgbench for its rows)"),
    }


def write_charts(output: Path, files: dict[str, str]) -> None:
    """Writes the charts to CHART_DIR beside `output`."""
    folder = output.parent / CHART_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, svg in files.items():
        (folder / name).write_text(svg)
