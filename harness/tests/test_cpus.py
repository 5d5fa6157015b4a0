import os
import subprocess
import sys
import unittest
from unittest import mock

from chirpy_harness.cpus import pin_to, split_in_halves


class CpusTest(unittest.TestCase):
    def test_halves_of_the_allowed_cpus(self):
        with mock.patch("os.sched_getaffinity", return_value={5, 1, 3, 7, 2}):
            self.assertEqual(split_in_halves(), ([1, 2], [3, 5, 7]))

    def test_one_cpu_cannot_be_split(self):
        with mock.patch("os.sched_getaffinity", return_value={0}):
            self.assertIsNone(split_in_halves())

    def test_a_pinned_child_runs_on_those_cpus_only(self):
        first = min(os.sched_getaffinity(0))
        out = subprocess.run(
            [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
            capture_output=True, text=True, preexec_fn=pin_to([first]), check=True,
        ).stdout
        self.assertEqual(out.strip(), f"[{first}]")

    def test_no_cpus_means_no_pinning(self):
        self.assertIsNone(pin_to(None))
        self.assertIsNone(pin_to([]))


if __name__ == "__main__":
    unittest.main()
