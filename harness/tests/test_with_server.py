import contextlib
import io
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from chirpy_harness import with_server

from .fakes import fake_bin_dir

# Fails unless CHIRPY_URL is the fake server's.
CHECK_URL = [sys.executable, "-c", "import os, sys; sys.exit(os.environ['CHIRPY_URL'] != 'http://127.0.0.1:9')"]


class WithServerTest(unittest.TestCase):
    def setUp(self):
        bin_dir = fake_bin_dir()
        self.addCleanup(shutil.rmtree, bin_dir)
        patch = mock.patch.dict(os.environ, {"CHIRPY_BIN_DIR": str(bin_dir)})
        patch.start()
        self.addCleanup(patch.stop)

    def run_main(self, *argv: str) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = with_server.main(list(argv))
        return code, err.getvalue()

    def test_the_command_gets_the_servers_url(self):
        code, _ = self.run_main("--", *CHECK_URL)
        self.assertEqual(code, 0)

    def test_the_commands_failure_is_the_exit_status(self):
        code, err = self.run_main("--", sys.executable, "-c", "raise SystemExit(4)")
        self.assertEqual(code, 4)
        self.assertIn("failed (exit 4)", err)

    def test_a_server_that_does_not_exit_0_fails_the_run(self):
        code, err = self.run_main("--env", "FAKE_EXIT=2", "--", *CHECK_URL)
        self.assertEqual(code, 1)
        self.assertIn("exited with 2", err)

    def test_error_lines_fail_the_run_only_when_asked(self):
        logged = "FAKE_LOG_ON_EXIT=2026 ERROR chirpy: the database went away"
        self.assertEqual(self.run_main("--env", logged, "--", *CHECK_URL)[0], 0)
        code, err = self.run_main("--fail-on-error-log", "--env", logged, "--", *CHECK_URL)
        self.assertEqual(code, 1)
        self.assertIn("the database went away", err)

    def test_the_log_is_kept_where_asked(self):
        log = Path(tempfile.mkdtemp()) / "logs" / "server.log"
        self.addCleanup(shutil.rmtree, log.parent.parent)
        code, _ = self.run_main("--log", str(log), "--env", "FAKE_LOG_ON_EXIT=bye", "--", *CHECK_URL)
        self.assertEqual(code, 0)
        self.assertIn("bye", log.read_text())

    def test_a_missing_command_is_127(self):
        code, err = self.run_main("--", "/nonexistent/program")
        self.assertEqual(code, 127)


if __name__ == "__main__":
    unittest.main()
