import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from chirpy_harness import cluster_config as config


def ini_settings(text: str) -> dict[str, str]:
    """pgbouncer.ini's `name = value` lines (sections and comments dropped)."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith(";"):
            out[name.strip()] = value.strip()
    return out


class PgBouncerTest(unittest.TestCase):
    BOUNCER = config.Bouncer(port=6432, primary_port=5432, replica_port=5433, auth_file=Path("/run/b/userlist.txt"))

    def test_one_alias_per_node_for_the_same_database(self):
        settings = ini_settings(config.pgbouncer_ini(self.BOUNCER))
        self.assertEqual(settings["chirpy"], "host=127.0.0.1 port=5432 dbname=chirpy")
        self.assertEqual(settings["chirpy_replica"], "host=127.0.0.1 port=5433 dbname=chirpy")

    def test_transaction_pooling_on_loopback_only(self):
        settings = ini_settings(config.pgbouncer_ini(self.BOUNCER))
        self.assertEqual(settings["pool_mode"], "transaction")
        self.assertEqual(settings["listen_addr"], "127.0.0.1")
        self.assertEqual(settings["listen_port"], "6432")
        self.assertEqual(settings["unix_socket_dir"], "")
        self.assertEqual(settings["auth_type"], "trust")
        self.assertEqual(settings["auth_file"], "/run/b/userlist.txt")

    def test_fewer_server_connections_than_the_instances_hold_in_transaction_mode(self):
        settings = ini_settings(config.pgbouncer_ini(self.BOUNCER))
        self.assertLess(int(settings["default_pool_size"]), 2 * 10)

    def test_session_mode_gives_every_client_a_connection(self):
        session = config.Bouncer(6432, 5432, 5433, Path("/u"), pool_mode="session")
        settings = ini_settings(config.pgbouncer_ini(session))
        self.assertEqual(settings["pool_mode"], "session")
        self.assertGreaterEqual(int(settings["default_pool_size"]), int(settings["max_client_conn"]))

    def test_a_node_that_came_back_is_retried_within_a_second(self):
        self.assertEqual(ini_settings(config.pgbouncer_ini(self.BOUNCER))["server_login_retry"], "1")

    def test_userlist_quotes_each_user_with_an_empty_password(self):
        self.assertEqual(config.pgbouncer_userlist(["postgres", "chirpy"]), '"postgres" ""\n"chirpy" ""\n')


class HaproxyTest(unittest.TestCase):
    FRONT = config.Front(port=8000, servers={"a": 8001, "b": 8002}, stats_socket=Path("/run/h/haproxy.sock"))

    def test_every_instance_is_a_checked_server_on_loopback(self):
        cfg = config.haproxy_cfg(self.FRONT)
        self.assertIn("    server a 127.0.0.1:8001 check\n", cfg)
        self.assertIn("    server b 127.0.0.1:8002 check\n", cfg)
        self.assertIn("bind 127.0.0.1:8000\n", cfg)
        self.assertIn("stats socket /run/h/haproxy.sock mode 600 level admin", cfg)

    def test_health_checks_are_readyz_every_half_second(self):
        cfg = config.haproxy_cfg(self.FRONT)
        self.assertIn("option httpchk GET /api/readyz", cfg)
        self.assertIn("http-check expect status 200", cfg)
        self.assertIn("default-server inter 500ms fall 2 rise 2", cfg)

    def test_refused_connections_go_to_another_instance_and_only_safe_methods_are_resent(self):
        cfg = config.haproxy_cfg(self.FRONT)
        self.assertIn("retries 3", cfg)
        self.assertIn("option redispatch 1", cfg)
        self.assertIn("http-request disable-l7-retry unless METH_GET || METH_HEAD", cfg)

    def test_the_client_address_and_a_request_id_are_forwarded(self):
        cfg = config.haproxy_cfg(self.FRONT)
        self.assertIn("    option forwardfor\n", cfg)
        self.assertIn("http-request set-header X-Request-Id %[unique-id] unless { req.hdr(x-request-id) -m found }", cfg)

    def test_replies_name_the_instance(self):
        self.assertIn("http-response set-header X-Served-By %[srv_name]", config.haproxy_cfg(self.FRONT))

    @unittest.skipUnless(shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists(), "haproxy not installed")
    def test_haproxy_accepts_the_file(self):
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        with tempfile.TemporaryDirectory() as tmp:
            front = config.Front(8000, {"a": 8001, "b": 8002}, Path(tmp) / "haproxy.sock")
            cfg = Path(tmp) / "haproxy.cfg"
            cfg.write_text(config.haproxy_cfg(front))
            out = subprocess.run([haproxy, "-c", "-f", str(cfg)], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


class ShowStatTest(unittest.TestCase):
    CSV = (
        "# pxname,svname,qcur,scur,stot,status,check_status,\n"
        "chirpy,FRONTEND,,,12,OPEN,,\n"
        "chirpy,a,0,0,7,UP,L7OK,\n"
        "chirpy,b,0,0,5,DOWN,L4CON,\n"
        "chirpy,BACKEND,0,0,12,UP,,\n"
        "\n"
    )

    def test_rows_by_proxy_and_server(self):
        rows = config.parse_show_stat(self.CSV)
        self.assertEqual(rows[("chirpy", "a")]["status"], "UP")
        self.assertEqual(rows[("chirpy", "b")]["check_status"], "L4CON")
        self.assertEqual(rows[("chirpy", "b")]["stot"], "5")
        self.assertEqual(len(rows), 4)

    def test_refuses_what_is_not_show_stat(self):
        with self.assertRaises(ValueError):
            config.parse_show_stat("Unknown command.\n")


if __name__ == "__main__":
    unittest.main()
