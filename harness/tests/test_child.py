import shutil
import tempfile
import time
import unittest
from pathlib import Path

from chirpy_harness.child import Child
from chirpy_harness.errors import HarnessError

from .fakes import fake_argv, fake_env


class ChildTest(unittest.TestCase):
    def child(self, **fake: str) -> Child:
        child = Child("fake", fake_argv(), fake_env(**fake))
        self.addCleanup(lambda: (child.stop(timeout=2), child.remove()))
        return child.start()

    def test_ready_once_the_file_is_written(self):
        child = self.child(delay="0.3")
        ready = child.wait_ready(timeout=10)
        self.assertEqual(ready["pid"], child.pid)
        self.assertEqual(child.ready, ready)

    def test_a_program_that_exits_first_fails_with_its_code_and_log(self):
        child = self.child(mode="crash")
        with self.assertRaises(HarnessError) as caught:
            child.wait_ready(timeout=10)
        self.assertIn("exited with 3 before it was ready", str(caught.exception))
        self.assertIn("fake: cannot start", str(caught.exception))

    def test_a_program_that_never_gets_ready_times_out(self):
        child = self.child(mode="silent")
        started = time.monotonic()
        with self.assertRaisesRegex(HarnessError, r"was not ready in 0.5s"):
            child.wait_ready(timeout=0.5)
        self.assertLess(time.monotonic() - started, 3)

    def test_a_ready_file_that_is_not_json_is_reported_on_timeout(self):
        child = self.child(mode="garbage")
        with self.assertRaisesRegex(HarnessError, "listening, honest"):
            child.wait_ready(timeout=0.5)

    def test_stop_returns_the_exit_code_after_sigterm(self):
        child = self.child(exit="0")
        child.wait_ready(timeout=10)
        self.assertEqual(child.stop(), 0)
        failing = self.child(exit="7")
        failing.wait_ready(timeout=10)
        self.assertEqual(failing.stop(), 7)
        self.assertFalse(failing.running())

    def test_stop_kills_a_program_that_ignores_sigterm(self):
        child = self.child(mode="ignore-term")
        child.wait_ready(timeout=10)
        self.assertEqual(child.stop(timeout=0.5), -9)

    def test_errors_in_log_are_the_error_lines(self):
        child = self.child(log_on_exit="2026 INFO chirpy: fine|2026 ERROR chirpy: broken|ERRORS are not this")
        child.wait_ready(timeout=10)
        child.stop()
        self.assertEqual(child.errors_in_log(), ["2026 ERROR chirpy: broken"])

    def test_remove_deletes_only_a_directory_it_made(self):
        child = self.child()
        child.wait_ready(timeout=10)
        child.stop()
        child.remove()
        self.assertFalse(child.run_dir.exists())


class GivenDirectoryTest(unittest.TestCase):
    def test_a_given_directory_is_kept(self):
        run_dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, run_dir)
        with Child("fake", fake_argv(), fake_env(), run_dir=run_dir).start() as child:
            child.wait_ready(timeout=10)
        self.assertTrue((run_dir / "fake.log").is_file())


if __name__ == "__main__":
    unittest.main()
