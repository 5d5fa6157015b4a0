import types
import unittest

from chirpy_harness.cluster_checks import CheckFailed, newest_first, next_link, replica_may_lag, time_key


class NextLinkTest(unittest.TestCase):
    def test_the_next_url_or_none_on_the_last_page(self):
        link = '</api/timelines/home?limit=1&cursor=00ab>; rel="next"'
        self.assertEqual(next_link(link), "/api/timelines/home?limit=1&cursor=00ab")
        self.assertIsNone(next_link(None))

    def test_a_link_that_is_not_rel_next_fails_the_check(self):
        with self.assertRaisesRegex(CheckFailed, "rel=next"):
            next_link('</api/timelines/home>; rel="prev"')


class OrderTest(unittest.TestCase):
    def test_fractions_of_any_length_sort_as_time(self):
        stamps = ["2026-12-02T16:25:15Z", "2026-12-02T16:25:15.5Z", "2026-12-02T16:25:15.123456Z"]
        self.assertEqual(sorted(stamps, key=time_key), [stamps[0], stamps[2], stamps[1]])

    def test_newest_first_with_ties_broken_by_id_descending(self):
        chirps = [
            {"id": "a", "created_at": "2026-12-02T16:25:15.1Z"},
            {"id": "c", "created_at": "2026-12-02T16:25:16Z"},
            {"id": "b", "created_at": "2026-12-02T16:25:15.100000Z"},
        ]
        self.assertEqual(newest_first(chirps), ["c", "b", "a"])


class ReplicaMayLagTest(unittest.TestCase):
    def test_the_servers_max_lag_plus_two_replica_checks(self):
        self.assertEqual(replica_may_lag(types.SimpleNamespace(extra_env={})), 7.0)
        self.assertEqual(replica_may_lag(types.SimpleNamespace(extra_env={"DB_REPLICA_MAX_LAG_MS": "250"})), 2.25)


if __name__ == "__main__":
    unittest.main()
