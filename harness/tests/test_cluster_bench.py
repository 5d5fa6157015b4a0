import math
import tempfile
import unittest
from datetime import datetime, timezone
from pathlib import Path

from chirpy_harness import cluster_bench as bench
from chirpy_harness.errors import HarnessError

WRK_OUT = """Running 10s test @ http://127.0.0.1:8000
BENCH_JSON {"requests": 12000, "duration_us": 10000000, "bytes": 1, "connect_errors": 0, "read_errors": 1, "write_errors": 0, "timeouts": 2, "non_2xx_3xx": 3, "p50_us": 1500, "p90_us": 3000, "p99_us": 9000, "mean_us": 1800.0, "max_us": 20000}
"""


class WrkTest(unittest.TestCase):
    def test_the_bench_json_line_becomes_a_case(self):
        case = bench.case_from("GET one chirp", "front", bench.parse_bench_json(WRK_OUT))
        self.assertEqual(case.requests, 12000)
        self.assertEqual(case.rps, 1200)
        self.assertEqual(case.errors, 6)
        self.assertEqual((case.p50_ms, case.p99_ms), (1.5, 9.0))

    def test_output_without_the_line_is_an_error(self):
        with self.assertRaises(HarnessError):
            bench.parse_bench_json("unable to connect to 127.0.0.1:8000 Connection refused\n")


def case(target, replica, primary, errors=0, requests=1000):
    return bench.Case("GET one chirp", target, requests, 10.0, errors, 1.0, 5.0, replica, primary)


class VerdictTest(unittest.TestCase):
    def test_the_goal_is_the_replicas_share_without_errors(self):
        self.assertEqual(bench.verdict_of(case("front", 950, 50)), "PASS")
        self.assertEqual(bench.verdict_of(case("front", 949, 51)), "**MISS**")
        self.assertEqual(bench.verdict_of(case("front", 1000, 0, errors=1)), "**MISS** (errors)")
        self.assertTrue(math.isnan(case("front", 0, 0).replica_share))
        self.assertEqual(bench.verdict_of(case("front", 0, 0)), "**MISS**")
        self.assertEqual(bench.fmt_share(case("front", 0, 0)), "none read (the cache answered)")
        self.assertEqual(bench.fmt_share(case("front", 950, 50)), "95.0%")


class RegionTest(unittest.TestCase):
    CASES = [case("front", 990, 10, requests=2000), case("instance a", 1000, 0)]
    WHEN = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)

    def test_the_region_has_each_case_and_the_ratio(self):
        text = bench.region(self.CASES, "`chirpy`", "transaction", 16, 10, self.WHEN)
        self.assertIn("| GET one chirp | front | 200 |", text)
        self.assertIn("| 990 / 10 | 99.0% | PASS |", text)
        self.assertIn("| GET one chirp | instance a | 100 |", text)
        self.assertIn("**2.00x**", text)
        self.assertIn("PgBouncer in transaction mode", text)

    def test_written_at_the_end_once_then_replaced_leaving_the_rest(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "BENCHMARKS.md"
            path.write_text(
                "# Chirpy benchmarks\n\n<!-- bench:begin -->\nbench figures\n<!-- bench:end -->\n\nby hand\n"
            )
            bench.write_region("first", path)
            bench.write_region("second", path)
            text = path.read_text()
        self.assertEqual(text.count(bench.BEGIN), 1)
        self.assertIn(f"{bench.BEGIN}\nsecond\n{bench.END}", text)
        self.assertNotIn("first", text)
        self.assertIn("<!-- bench:begin -->\nbench figures\n<!-- bench:end -->\n\nby hand\n", text)
        self.assertLess(text.index("by hand"), text.index(bench.SECTION))


if __name__ == "__main__":
    unittest.main()
