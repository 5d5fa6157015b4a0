"""The bench's pure parts (bench/, which `just bench` runs as a script directory): reading wrk's
report with its status counts, the charts, and the targets' verdicts, on made-up figures."""

import json
import math
import re
import sys
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

from chirpy_harness.binaries import ROOT
from chirpy_harness.errors import HarnessError

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import benchmarks_md  # noqa: E402
import charts  # noqa: E402
import report_charts  # noqa: E402
import report_targets  # noqa: E402
from loadgen import Result, parse_wrk, unexpected_answers  # noqa: E402
from server_metrics import BatchReading, CacheReading, parse  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def bench_json(requests: int, statuses: dict | None = None, non_2xx_3xx: int = 0) -> str:
    data = {"requests": requests, "duration_us": 2_000_000, "bytes": 1, "connect_errors": 0, "read_errors": 0,
            "write_errors": 0, "timeouts": 0, "non_2xx_3xx": non_2xx_3xx, "p50_us": 500, "p90_us": 800,
            "p99_us": 1200, "mean_us": 550.5, "max_us": 3000}
    if statuses is not None:
        data["statuses"] = statuses
    return f"Running 2s test\nBENCH_JSON {json.dumps(data)}\n"


class WrkStatusesTest(unittest.TestCase):
    def test_a_304_case_counts_only_304_as_success(self):
        res = Result("not_modified", "wrk", 32, 2)
        parse_wrk(res, bench_json(1000, {"304": 1000}), "", 0, expect_status=304)
        self.assertEqual((res.errors, res.statuses, res.rps), (0, {304: 1000}, 500.0))

    def test_a_200_where_304_was_expected_is_an_error_though_wrk_counts_none(self):
        res = Result("not_modified", "wrk", 32, 2)
        parse_wrk(res, bench_json(1000, {"304": 990, "200": 9, "404": 1}, non_2xx_3xx=1), "", 0, expect_status=304)
        self.assertEqual(res.errors, 10)

    def test_other_cases_keep_wrks_own_accounting(self):
        res = Result("healthz", "wrk", 32, 2)
        parse_wrk(res, bench_json(1000, non_2xx_3xx=3), "", 0)
        self.assertEqual((res.errors, res.statuses), (3, None))

    def test_counts_that_disagree_with_wrk_or_are_missing_fail_the_run(self):
        with self.assertRaises(HarnessError):
            unexpected_answers({304: 999}, 1000, 304, "x")
        with self.assertRaises(HarnessError):
            unexpected_answers(None, 1000, 304, "x")
        self.assertEqual(unexpected_answers({304: 0, 200: 5}, 5, 304, "x"), 5)


class ServerMetricsTest(unittest.TestCase):
    TEXT = """# HELP chirpy_cache_hits_total Chirp and page reads the cache answered.
# TYPE chirpy_cache_hits_total counter
chirpy_cache_hits_total 1500
chirpy_cache_misses_total 500
chirpy_cache_size_bytes 123456
chirpy_http_requests_total{operation="healthz",method="GET",status="200"} 7
"""

    def test_samples_with_and_without_labels(self):
        samples = parse(self.TEXT)
        self.assertEqual(samples["chirpy_cache_hits_total"], 1500)
        self.assertEqual(samples['chirpy_http_requests_total{operation="healthz",method="GET",status="200"}'], 7)

    def test_hit_ratio_between_two_readings(self):
        before = CacheReading.of(parse(self.TEXT))
        after = CacheReading(hits=2500, misses=500, size_bytes=2e6)
        during = after.since(before)
        self.assertEqual((during.hits, during.misses, during.size_bytes), (1000, 0, 2e6))
        self.assertEqual(during.hit_ratio, 1.0)
        self.assertTrue(math.isnan(CacheReading(0, 0, 0).hit_ratio))

    def test_a_server_without_cache_metrics_is_refused(self):
        with self.assertRaises(HarnessError):
            CacheReading.of(parse("chirpy_cache_hits_total 1\n"))


def texts(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}text"))


def boxes(svg: str) -> list[tuple[float, float, float, float, str]]:
    """Each text's estimated box (x0, y0, x1, y1) as the chart lays it out."""
    out = []
    for t in texts(svg):
        x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
        w = charts.text_width(t.text or "", size)
        x0 = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor")]
        out.append((x0, y - size, x0 + w, y + size * 0.25, t.text or ""))
    return out


class ChartsTest(unittest.TestCase):
    ROWS = [
        charts.Ratio("GET chirp, hot ÷ pgbench by id", 1.8, 1.5),
        charts.Ratio("POST <chirp> & co ÷ pgbench insert", 0.55, 0.7),
        charts.Ratio("list of 100 ÷ pgbench", 0.9),
        charts.Ratio("nothing measured", math.nan, 1.0),
    ]

    def assert_readable(self, svg: str) -> None:
        root = ET.fromstring(svg)  # well-formed, labels escaped
        width = float(root.get("width"))
        found = boxes(svg)
        for i, a in enumerate(found):
            self.assertGreaterEqual(a[0], 0, a[4])
            self.assertLessEqual(a[2], width, a[4])
            for b in found[i + 1:]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                self.assertTrue(apart, f"{a[4]!r} overlaps {b[4]!r}")

    def bars(self, svg: str) -> list[ET.Element]:
        return [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("height") == "14.0"]

    def test_bars_are_proportional_and_coloured_by_their_goal(self):
        svg = charts.ratio_chart(self.ROWS, "Throughput", "x ÷ ceiling")
        hot, post, plain = self.bars(svg)  # no bar for NaN
        self.assertAlmostEqual(float(hot.get("width")) / float(post.get("width")), 1.8 / 0.55, places=2)
        self.assertEqual([b.get("fill") for b in (hot, post, plain)], [charts.MET, charts.MISSED, charts.NO_GOAL])
        labels = [t.text for t in texts(svg)]
        self.assertIn("POST <chirp> & co ÷ pgbench insert", labels)
        self.assertIn("1.80x  (goal 1.5x)", labels)
        self.assertIn("n/a", labels)

    def test_the_goal_tick_sits_at_the_goal(self):
        svg = charts.ratio_chart([charts.Ratio("a", 1.0, 0.5)], "t", "axis")
        bar = self.bars(svg)[0]
        ticks = [line for line in ET.fromstring(svg).iter(f"{SVG}line") if line.get("stroke-width") == "2"
                 and float(line.get("y1")) >= charts.TOP]
        x0, full = float(bar.get("x")), float(bar.get("width"))
        self.assertAlmostEqual(float(ticks[0].get("x1")) - x0, full / 2, places=1)

    def test_no_text_overlaps_however_long_the_labels(self):
        long_rows = self.ROWS + [charts.Ratio("a rather long label " * 4, 12.5, 0.5)]
        self.assert_readable(charts.ratio_chart(long_rows, "A title", "axis label"))
        rows = [charts.Latency("GET /api/healthz", 0.3, 1.1), charts.Latency("list of 100,000", 1500, 1700),
                charts.Latency("nothing", math.nan, math.nan)]
        self.assert_readable(charts.latency_chart(rows, "Latency"))

    def test_latency_axis_spans_whole_decades_around_the_figures(self):
        self.assertEqual(charts.decades(0.3, 1700), [0.1, 1, 10, 100, 1000, 10000])
        self.assertEqual(charts.decades(1, 1), [1, 10])
        svg = charts.latency_chart([charts.Latency("a", 0.3, 2.0)], "Latency")
        self.assertEqual([t.text for t in texts(svg) if t.text.endswith(" ms")][:3], ["0.1 ms", "1 ms", "10 ms"])

    def test_axis_steps_stay_few(self):
        self.assertEqual([charts.tick_step(t) for t in (1.0, 2.1, 4.5, 13, 130)], [0.25, 0.5, 1, 2, 20])

    def test_nice_ceiling(self):
        self.assertEqual(charts.nice_ceiling(1.26, 0.25), 1.5)
        self.assertEqual(charts.nice_ceiling(1.5, 0.25), 1.5)
        self.assertEqual(charts.nice_ceiling(0, 0.5), 0.5)


def fake_data(scale: float = 1.0) -> dict:
    """A run's data with made-up figures; `scale` multiplies the server's throughputs."""
    def res(name, rps, p50=1.0, p99=2.0, tool="wrk", peak=40 << 20, connections=32, cpu=30.0):
        return Result(name, tool, connections, 10, requests=int(rps * 10), rps=rps, p50_ms=p50, p99_ms=p99,
                      mean_ms=p50, rss_start=30 << 20, rss_peak=peak, other_cpu=0.01,
                      cpu_server_us=cpu if tool == "wrk" else math.nan)

    cases = {r.name: r for r in [
        res("healthz", 50_000 * scale), res("get_hot", 30_000 * scale), res("pg_get_chirp", 20_000, tool="pgbench"),
        res("get_cold", 9_000 * scale), res("not_modified", 40_000 * scale, peak=60 << 20),
        res("list_newest", 12_000 * scale, p99=5), res("pg_list_newest", 8_000, tool="pgbench"),
        res("list_100", 3_000 * scale, p99=15), res("pg_list_100", 7_000, tool="pgbench"),
        res("list_10000", 50, p50=150), res("list_100000", 5, p50=1500), res("list_author", 2_900),
        res("get_cold_1", 4_000, p50=0.25, connections=1, cpu=40.0),
        res("pg_get_chirp_1", 8_000, p50=0.125, tool="pgbench", connections=1),
        res("post_chirp", 12_000 * scale, cpu=80.0), res("pg_insert", 8_000, tool="pgbench"),
        res("post_chirp_1", 500, p50=2.0, connections=1), res("pg_insert_1", 600, p50=1.6, tool="pgbench", connections=1),
        res("login", 55, p50=600),
        res("reader_rest", 190, p99=0.7), res("reader_storm", 190, p99=1.4),
        res("metrics_on_healthz_1", 49_000), res("metrics_off_healthz_1", 50_000),
        res("metrics_on_get_hot_1", 28_000), res("metrics_off_get_hot_1", 30_000),
    ]}
    return {
        "parts": ["core"], "cases": cases, "sizes": [100, 10_000, 100_000], "n_chirps": 100_000, "idle_rss": 14 << 20,
        "storm_rss_peak": 70 << 20, "hash": {"ceiling": 60.0, "other": 0.0},
        "ready": {"median_ms": 20.0}, "hot_cache": CacheReading(300_000, 0, 40 << 20),
        "cold": {"idle_rss": 14 << 20, "cache": CacheReading(0, 90_000, 0),
                 "batches": BatchReading(9_000, 90_000, 9.0), "batches_1": BatchReading(40_000, 40_000, 0.4)},
        "post_batches": BatchReading(6_000, 120_000, 60.0), "post_batches_1": BatchReading(5_000, 5_000, 0.05),
        "metrics_cost": {case: {"on": [f"metrics_on_{case}_1"], "off": [f"metrics_off_{case}_1"]}
                         for case in ("healthz", "get_hot")},
    }


def fake_run() -> tuple[dict, dict, SimpleNamespace, str, str, Path]:
    """What `region` renders from: a made-up run (fake_data and the rest), the machine, the options."""
    data = fake_data()
    data["cases"]["not_modified"].statuses = {304: 400_000}
    data.update({
        "pinned": True, "etag_sample": 10_000, "newest_bytes": 21_000, "busy_rss": 50 << 20, "log_errors": [],
        **{f"list_bytes_{n}": n * 210 for n in data["sizes"]},
    })
    runs = [{"line": f"20 hashes: {ms} ms each, 2 cores"} for ms in (33.0, 34.0)]
    data["hash"].update({"runs": runs, "cores": 2, "ms": 33.5})
    data["ready"].update({"idle_rss": 13 << 20, "times_ms": [19.0, 20.0, 24.0]})
    info = {"date": "2026-01-02 03:04 UTC", "commit": "abc1234", "cores": "4", "memory": "8.0 GiB", "cpu": "A CPU",
            "kernel": "6.1", "rustc": "rustc 1.94.0", "postgres": "postgres 15", "wrk": "wrk 4.2.0"}
    args = SimpleNamespace(threads=2, connections=32, duration=10.0, warmup=2.0, list_connections=8, profile="release",
                           hashes=20, reader_connections=2, reader_pause_ms=10)
    bins = ROOT / "target" / "release"
    return data, info, args, "just bench", "server on 0-1, load on 2-3", bins


class TargetsTest(unittest.TestCase):
    def verdicts(self, data: dict) -> dict[str, bool]:
        return {name: met for name, _, _, _, met, _ in report_targets.targets(data)}

    def test_each_issue_target_is_judged_on_its_ratio(self):
        v = self.verdicts(fake_data())
        self.assertTrue(v["GET one chirp, hot (cache hit) vs pgbench select by id"])  # 1.5x exactly
        self.assertTrue(v["GET one chirp, hot vs `/api/healthz`"])  # 0.6x
        self.assertFalse(v["GET one chirp, cold (`CHIRP_CACHE_MIB=0`) vs pgbench"])  # 0.45x
        self.assertTrue(v["If-None-Match revalidation (304) vs `/api/healthz`"])  # 0.8x
        self.assertTrue(v["newest 100 (`?sort=desc&limit=100`) vs pgbench"])  # 1.5x
        self.assertTrue(v["POST chirp vs pgbench insert"])  # 1.5x
        self.assertFalse(v["GET one chirp, cold, one connection: mean latency vs pgbench's"])  # 2x
        self.assertTrue(v["POST chirp, one connection: mean latency vs pgbench's"])  # 1.25x
        self.assertTrue(v["server CPU per cold read"])  # 30 µs, under half of 72
        self.assertFalse(v["server CPU per post"])  # 80 µs, over half of 143
        self.assertTrue(v["peak RSS, random reads over 100,000 chirps (cache 96 MiB)"])  # 70 <= 14 + 116
        self.assertTrue(v["`/api/healthz`, metrics on vs off"])  # 0.98x
        self.assertFalse(v["GET one chirp (hot), metrics on vs off"])  # 0.933x

    def test_a_ratio_just_under_its_goal_is_not_shown_as_the_goal(self):
        data = fake_data()
        data["cases"]["get_hot"].rps = 1.4961 * data["cases"]["pg_get_chirp"].rps
        row = report_targets.targets(data)[0]
        self.assertEqual((row[2], row[4]), ("1.49x", False))
        cut = [report_targets.at_most(x) for x in (0.7, 0.29, 0.57, 1.0)]
        self.assertEqual(cut, ["0.70", "0.29", "0.57", "1.00"])

    def test_slower_servers_miss(self):
        v = self.verdicts(fake_data(scale=0.5))
        self.assertFalse(v["GET one chirp, hot (cache hit) vs pgbench select by id"])
        self.assertFalse(v["POST chirp vs pgbench insert"])

    def test_the_memory_budget_is_idle_plus_the_cache_plus_20_mib(self):
        data = fake_data()
        data["storm_rss_peak"] = data["idle_rss"] + (96 + 20) * 2**20 + 1
        self.assertFalse(self.verdicts(data)["peak RSS, random reads over 100,000 chirps (cache 96 MiB)"])

    def test_a_hot_case_that_missed_the_cache_is_a_problem(self):
        data = fake_data()
        self.assertEqual(report_targets.problems(data), [])
        data["hot_cache"] = CacheReading(900, 100, 0)
        self.assertTrue(any("not hot" in p for p in report_targets.problems(data)))

    def test_the_charts_show_every_ratio_and_latency(self):
        files = report_charts.chart_files(fake_data())
        self.assertEqual(set(files), set(report_charts.CHARTS))
        labels = [t.text for t in texts(files["throughput.svg"])]
        self.assertIn("1.50x  (goal 1.5x)", labels)
        self.assertEqual(len(re.findall("<rect[^>]*height=\"14.0\"", files["throughput.svg"])), 10)
        ChartsTest().assert_readable(files["latency.svg"])


class RegionTest(unittest.TestCase):
    """BENCHMARKS.md's generated text, rendered from the made-up run."""

    def test_every_section_in_order(self):
        text = benchmarks_md.region(*fake_run())
        headings = [line for line in text.splitlines() if line.startswith("#")]
        self.assertEqual(headings, [
            "## How to read this", "## Machine", "## Targets",
            "## 1. GET /api/healthz: the HTTP stack's ceiling",
            "## 2. GET /api/chirps/{id} (random ids over 100,000 chirps): hot, revalidated, cold, vs pgbench",
            "## 3. GET /api/chirps: the whole list, as the table grows",
            "### The newest 100: `GET /api/chirps?sort=desc&limit=100` over 100,000 chirps",
            "## 4. GET /api/chirps?author_id=<random>&sort=desc (100,000 chirps by 1,000 authors)",
            "## 5. POST /api/chirps vs pgbench insert",
            "## 6. POST /api/login vs the Argon2id ceiling, and reads during the storm",
            "## 7. Idle RSS and start-up", "## 8. Metrics on vs off",
        ])
        self.assertTrue(text.startswith("Generated by `just bench` on 2026-01-02 03:04 UTC, from commit abc1234."))
        self.assertIn("| server build | `target/release/chirpy` (`cargo build --release`) |", text)
        self.assertNotIn("nan", text)

    def test_one_verdict_per_target(self):
        data, *rest = fake_run()
        text = benchmarks_md.region(data, *rest)
        verdicts = [line for line in text.splitlines() if line.endswith(("| PASS |", "| **MISS** |"))]
        self.assertEqual(len(verdicts), len(report_targets.targets(data)))
        self.assertIn("| GET one chirp, cold (`CHIRP_CACHE_MIB=0`) vs pgbench | 9,000 vs 20,000 /s | 0.45x "
                      "| >= 1x | **MISS** |", verdicts)

    def test_the_charts_are_linked_where_they_are_written(self):
        text = benchmarks_md.region(*fake_run())
        links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
        self.assertEqual(links, [f"docs/bench/{name}" for name in report_charts.CHARTS])
        for link in links:
            self.assertTrue((ROOT / link).is_file(), link)

    def test_problems_close_the_report(self):
        data, *rest = fake_run()
        data["log_errors"] = ["ERROR something broke"]
        text = benchmarks_md.region(data, *rest)
        self.assertTrue(text.endswith("## Problems in this run\n\n- server log: ERROR something broke\n"), text[-200:])


if __name__ == "__main__":
    unittest.main()
