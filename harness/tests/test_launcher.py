import os
import shutil
import unittest
from unittest import mock

from chirpy_harness import launcher
from chirpy_harness.errors import HarnessError

from .fakes import fake_bin_dir


class ServerEnvTest(unittest.TestCase):
    def test_variables_are_settings_lines_and_names_in_backticks(self):
        example = (
            "# The URL (`DB_URL` is accepted too). Default: PLATFORM=dev, `dev` or `prod`.\n"
            "# DATABASE_URL=postgres://x\n"
            "#JWT_SECRET=abc\n"
            "PORT=8080\n"
            "# PORT=8081\n"
            "# lower_case=no\n"
        )
        self.assertEqual(launcher.server_variables(example), ["DB_URL", "DATABASE_URL", "JWT_SECRET", "PORT"])

    def test_the_repositorys_env_example_names_the_essentials(self):
        names = launcher.server_variables(launcher.ENV_EXAMPLE.read_text())
        essentials = ["DATABASE_URL", "DB_URL", "JWT_SECRET", "TOKEN_STRING", "POLKA_KEY", "PLATFORM", "PORT"]
        for name in essentials + ["RUST_LOG"]:
            self.assertIn(name, names)

    def test_the_callers_configuration_does_not_reach_the_server(self):
        outside = {"DATABASE_URL": "postgres://prod", "JWT_SECRET": "s", "PORT": "80", "RUST_LOG": "trace"}
        outside["KEEP_ME"] = "1"
        with mock.patch.dict(os.environ, outside):
            env = launcher.server_env({"ACCESS_TOKEN_TTL": "2"})
        self.assertEqual(env["DATABASE_URL"], "")
        self.assertEqual(env["JWT_SECRET"], "")
        self.assertEqual(env["PORT"], "0")
        self.assertEqual(env["HOST"], "127.0.0.1")
        self.assertEqual(env["ACCESS_TOKEN_TTL"], "2")
        self.assertEqual(env["RUST_LOG"], "warn,chirpy=info,chirpy::observe=warn")
        self.assertEqual(env["KEEP_ME"], "1")


class UrlTest(unittest.TestCase):
    URL = "postgres://postgres@localhost:5432/postgres?host=/tmp/devpg-1-ab"

    def test_database_url_swaps_the_database_only(self):
        self.assertEqual(
            launcher.database_url(self.URL, "chirpy"), "postgres://postgres@localhost:5432/chirpy?host=/tmp/devpg-1-ab"
        )

    def test_socket_dir(self):
        self.assertEqual(str(launcher.socket_dir(self.URL)), "/tmp/devpg-1-ab")


class StartServerTest(unittest.TestCase):
    def setUp(self):
        self.bin_dir = fake_bin_dir()
        self.addCleanup(shutil.rmtree, self.bin_dir)

    def start(self, **fake: str) -> launcher.Server:
        env = {f"FAKE_{k.upper()}": v for k, v in fake.items()}
        return launcher.start_server(self.bin_dir, env=env)

    def test_the_url_comes_from_the_ready_file(self):
        with self.start(url="http://127.0.0.1:4321") as server:
            self.assertEqual(server.url, "http://127.0.0.1:4321")
            self.assertEqual(server.port, 4321)
            self.assertIsNone(server.database)
            self.assertIn("--throwaway-db", server.argv)
        self.assertEqual(server.exit_code, 0)

    def test_a_server_off_loopback_is_refused_and_stopped(self):
        with self.assertRaisesRegex(HarnessError, "not a loopback address"):
            self.start(url="http://10.1.2.3:80")

    def test_a_ready_file_naming_another_process_is_refused(self):
        with self.assertRaisesRegex(HarnessError, "names pid 1,"):
            self.start(pid="1")

    def test_a_server_that_exits_at_start_fails_with_its_log(self):
        with self.assertRaisesRegex(HarnessError, "(?s)exited with 3.*cannot start"):
            self.start(mode="crash")


if __name__ == "__main__":
    unittest.main()
