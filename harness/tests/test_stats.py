import math
import unittest

from chirpy_harness.stats import percentile


class PercentileTest(unittest.TestCase):
    def test_nearest_rank_is_always_one_of_the_values(self):
        values = list(range(1, 11))  # 1..10
        self.assertEqual(percentile(values, 50), 5)  # ceil(0.5 * 10) = 5th
        self.assertEqual(percentile(values, 51), 6)
        self.assertEqual(percentile(values, 99), 10)
        self.assertEqual(percentile([1.0, 2.0], 50), 1.0)  # no interpolation to 1.5

    def test_p99_of_a_hundred_is_the_99th(self):
        self.assertEqual(percentile(range(1, 101), 99), 99)
        self.assertEqual(percentile(range(1, 101), 99.5), 100)

    def test_the_ends(self):
        self.assertEqual(percentile([3, 1, 2], 0), 1)
        self.assertEqual(percentile([3, 1, 2], 100), 3)
        self.assertEqual(percentile([7], 50), 7)

    def test_unsorted_input_is_sorted_first(self):
        self.assertEqual(percentile([9, 1, 5, 3, 7], 50), 5)

    def test_no_values_is_nan(self):
        self.assertTrue(math.isnan(percentile([], 50)))

    def test_p_outside_0_to_100_is_refused(self):
        for p in (-1, 100.1):
            with self.assertRaises(ValueError):
                percentile([1], p)


if __name__ == "__main__":
    unittest.main()
