import math
import unittest

from chirpy_harness.report import fmt_ms, fmt_rate, fmt_us, mib, replace_region, size_text

DOC = """# Title

<!-- bench:begin -->
old figures
<!-- bench:end -->

## Findings, by hand
- keep me
"""


class FormatTest(unittest.TestCase):
    def test_milliseconds_keep_about_three_figures(self):
        self.assertEqual(fmt_ms(1.2345), "1.23 ms")
        self.assertEqual(fmt_ms(12.345), "12.3 ms")
        self.assertEqual(fmt_ms(1234.5), "1234 ms")
        self.assertEqual(fmt_ms(math.nan), "n/a")

    def test_rates_and_microseconds(self):
        self.assertEqual(fmt_rate(12345.6), "12,346")
        self.assertEqual(fmt_rate(54.93), "54.9")
        self.assertEqual(fmt_us(12345.6), "12,346")
        self.assertEqual(fmt_us(4.56), "4.6")
        self.assertEqual(fmt_us(math.nan), "n/a")

    def test_sizes(self):
        self.assertEqual(mib(3 * 1024 * 1024), "3.0 MiB")
        self.assertEqual(size_text(26 * 1024), "26.0 KiB")
        self.assertEqual(size_text(25.3 * 1024 * 1024), "25.3 MiB")


class RegionTest(unittest.TestCase):
    def test_only_the_region_changes(self):
        out = replace_region(DOC, "\nnew figures\n\n")
        self.assertIn("<!-- bench:begin -->\nnew figures\n<!-- bench:end -->", out)
        self.assertNotIn("old figures", out)
        self.assertTrue(out.startswith("# Title\n\n"))
        self.assertTrue(out.endswith("## Findings, by hand\n- keep me\n"))

    def test_replacing_twice_is_stable(self):
        once = replace_region(DOC, "new")
        self.assertEqual(replace_region(once, "new"), once)

    def test_missing_or_doubled_markers_are_refused(self):
        for doc in ("# no markers\n", DOC + "<!-- bench:end -->\n", DOC.replace("<!-- bench:begin -->", "")):
            with self.assertRaises(ValueError):
                replace_region(doc, "x")

    def test_markers_in_the_wrong_order_are_refused(self):
        swapped = "<!-- bench:end -->\nx\n<!-- bench:begin -->\n"
        with self.assertRaises(ValueError):
            replace_region(swapped, "x")


if __name__ == "__main__":
    unittest.main()
