import argparse
import contextlib
import io
import subprocess
import sys
import unittest

from chirpy_harness import cluster
from chirpy_harness.errors import HarnessError


class ProgramTest(unittest.TestCase):
    def test_a_missing_program_names_its_debian_package(self):
        with self.assertRaisesRegex(HarnessError, "apt-get install no-such-package"):
            cluster.program("chirpy-no-such-program", "no-such-package")


class OptionsTest(unittest.TestCase):
    def parse(self, *argv):
        parser = argparse.ArgumentParser()
        cluster.add_cluster_options(parser)
        return parser.parse_args(argv)

    def test_defaults_are_the_deployed_configuration(self):
        args = self.parse()
        self.assertEqual(args.pool_mode, "transaction")
        self.assertEqual(dict(args.env), {})

    def test_env_settings_keep_everything_after_the_first_equals_sign(self):
        args = self.parse("--env", "CHIRP_CACHE_MIB=0", "--env", "RUST_LOG=info,sqlx=warn", "--env", "EMPTY=")
        self.assertEqual(dict(args.env), {"CHIRP_CACHE_MIB": "0", "RUST_LOG": "info,sqlx=warn", "EMPTY": ""})

    def test_env_without_a_name_is_refused(self):
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            self.parse("--env", "=1")


class ExitsWithinTest(unittest.TestCase):
    def test_a_running_process_is_not_gone_and_a_reaped_or_zombie_one_is(self):
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            self.assertFalse(cluster.exits_within(proc.pid, 0.2))
            proc.kill()
            # Not reaped yet: a zombie, which counts as gone.
            self.assertTrue(cluster.exits_within(proc.pid, 5))
        finally:
            proc.kill()
            proc.wait()
        self.assertTrue(cluster.exits_within(proc.pid, 0))


if __name__ == "__main__":
    unittest.main()
