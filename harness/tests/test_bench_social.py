"""The home timeline part of the bench (bench/social*.py, report_social.py): the follow graph's
degrees, the access tokens it mints, the statements it hands pgbench, the report's rows, and a
run of one part keeping the other's text in BENCHMARKS.md."""

import base64
import hashlib
import hmac
import json
import math
import statistics
import unittest

from tests.test_bench import fake_run  # puts bench/ on sys.path

import benchmarks_md  # noqa: E402
import report_social  # noqa: E402
import report_targets  # noqa: E402
import social  # noqa: E402
import social_http  # noqa: E402
import social_cases  # noqa: E402
import social_sql  # noqa: E402
from loadgen import Result  # noqa: E402


class DegreesTest(unittest.TestCase):
    def test_the_full_shape_the_issue_asks_for(self):
        degrees = social.out_degrees(social.FULL)
        following = social.following_counts(degrees)
        self.assertEqual(len(following), 10_000)
        self.assertEqual(statistics.median(following), 100)
        self.assertEqual(max(following), 5_000)
        heavy = social.heavy_users(social.FULL, degrees)
        self.assertTrue(3 <= len(heavy) <= 30, len(heavy))  # "a few users following 5,000"
        self.assertTrue(all(following[n - 1] == 5_000 for n in heavy))
        self.assertGreaterEqual(min(following), 2)

    def test_the_tail_is_a_power_law(self):
        # Pareto with alpha 1.5: the share above x falls as x^-1.5 (x 2.25 times larger: 1/3.375).
        following = social.following_counts(social.out_degrees(social.FULL))
        above = [sum(f > x for f in following) / len(following) for x in (400, 900)]
        self.assertAlmostEqual(above[0] / above[1], 2.25 ** 1.5, delta=0.4)

    def test_nobody_follows_more_than_there_are_others(self):
        degrees = social.out_degrees(social.QUICK)
        self.assertLessEqual(max(degrees), social.QUICK.users - 2)
        self.assertEqual(max(social.following_counts(degrees)), social.QUICK.most_following)

    def test_dealt_out_in_the_same_shuffled_order_every_run(self):
        a, b = social.out_degrees(social.FULL), social.out_degrees(social.FULL)
        self.assertEqual(a, b)
        self.assertNotEqual(a, sorted(a))
        self.assertNotEqual(a, social.out_degrees(social.FULL, shuffle_seed=1))

    def test_the_median_user_follows_the_median(self):
        degrees = social.out_degrees(social.FULL)
        n = social.median_user(degrees)
        self.assertNotEqual(n, 1)
        self.assertEqual(social.following_counts(degrees)[n - 1], 100)


    def test_the_independent_variant_shuffles_who_writes_most(self):
        order = social.activity_order(social.FULL)
        self.assertEqual(sorted(order), list(range(1, 10_001)))
        self.assertNotEqual(order[0], 1)
        sql = social.chirps_sql(social.QUICK, social.activity_order(social.QUICK))
        self.assertIn("'::int[])[1 + floor(300 * random() ^ 2)::int]", sql)


class TokensTest(unittest.TestCase):
    def test_user_ids_are_postgres_md5_uuids(self):
        # md5('chirpy-bench-user-' || 37)::uuid, as PostgreSQL computed it
        self.assertEqual(social.user_id(37), "66c889f5-9e7e-9b26-b680-49c71ce7a820")

    def test_a_minted_token_is_an_hs256_jwt_with_the_servers_claims(self):
        token = social_http.mint_access_token("s3cret", social.user_id(1), 1_700_000_000, 3600)
        # Checked once against `openssl dgst -sha256 -hmac s3cret`.
        self.assertEqual(token.split(".")[2], "SROPVbw84BlxBMXifRgVNPScziEBAOgy33gh-_pgoi0")
        header, payload, signature = token.split(".")

        def decode(part: str) -> bytes:
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        self.assertEqual(json.loads(decode(header)), {"typ": "JWT", "alg": "HS256"})
        self.assertEqual(json.loads(decode(payload)), {"iss": "chirpy-access", "sub": social.user_id(1),
                                                       "iat": 1_700_000_000, "exp": 1_700_003_600})
        expected = hmac.new(b"s3cret", f"{header}.{payload}".encode(), hashlib.sha256).digest()
        self.assertEqual(decode(signature), expected)
        self.assertNotIn("=", token)

    def test_one_token_per_line(self):
        import tempfile
        from pathlib import Path
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tokens.txt"
            social_http.write_tokens(path, [1, 2, 3], now=1_700_000_000)
            lines = path.read_text().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[0], social_http.mint_access_token(social_http.JWT_SECRET, social.user_id(1), 1_700_000_000))


class SeedSqlTest(unittest.TestCase):
    def test_the_follows_follow_the_degrees_and_everyone_follows_the_celebrity(self):
        shape = social.QUICK
        degrees = social.out_degrees(shape)
        sql = social.follows_sql(shape, degrees)
        self.assertIn("'{" + ",".join(map(str, degrees)) + "}'::int[]", sql)
        self.assertIn(f"from generate_series(2, {shape.users}) u", sql)
        self.assertIn("md5('chirpy-bench-user-' || 1)::uuid", sql)
        self.assertIn(f"where d.degree > {shape.fallback_degree}", sql)
        self.assertTrue(sql.rstrip().endswith("order by 1, 2;"))

    def test_a_bulk_load_turns_the_tables_triggers_off_inside_its_transaction(self):
        sql = social.bulk("chirps", "insert into chirps select 1;")
        order = [sql.index(s) for s in ("begin;", "disable trigger user", "insert into chirps",
                                        "enable trigger user", "commit;")]
        self.assertEqual(order, sorted(order))

    def test_chirps_have_distinct_increasing_timestamps(self):
        sql = social.chirps_sql(social.QUICK)
        self.assertIn(f"n * interval '{social.CHIRP_STEP_S} seconds'", sql)
        self.assertIn(f"random() * interval '{social.CHIRP_STEP_S - 1} seconds'", sql)


class PgbenchScriptsTest(unittest.TestCase):
    def test_the_statements_load_with_their_parameters(self):
        social_sql.check_all()

    def test_readers_named_as_pgbench_can(self):
        heavy = social_sql.Readers.among([7, 11, 13], "heavy")
        script = social_sql.server_page(heavy)
        self.assertTrue(script.startswith("\\set i random(1, 3)\n"))
        self.assertIn("home_timeline(md5('chirpy-bench-user-' || (array[7,11,13])[:i])::uuid, 'infinity'", script)
        self.assertIn(", 21)", script)
        sample = social_sql.Readers.sample(10_000)
        self.assertTrue(social_sql.inbox_page(sample).startswith("\\set n 5 * random(1, 2000)\n"))
        self.assertIn("limit 21", social_sql.naive_page(social_sql.Readers.random(10)))

    def test_posts_with_and_without_fan_out(self):
        plain, fanout = social_sql.post(False, 1), social_sql.post(True, 1)
        self.assertNotIn("bench_home_inbox", plain)
        self.assertIn("insert into bench_home_inbox", fanout)
        self.assertIn("join follows f on f.followee_id = p.user_id", fanout)


PLANS = """psql:<stdin>:12: LOG:  duration: 0.462 ms  plan:
Query Text: select array_agg(a.id order by l.created_at desc, l.id desc),
           (array_agg(l.created_at))[page]
Aggregate  (cost=100.20..100.21 rows=1 width=56) (actual rows=1 loops=1)
  Buffers: shared hit=350 read=2
  ->  Nested Loop
psql:<stdin>:12: LOG:  duration: 1.083 ms  plan:
Query Text: select a || b from home_timeline($1)
Function Scan on home_timeline  (actual rows=21 loops=1)
  Buffers: shared hit=507
"""


class ExplainTest(unittest.TestCase):
    def test_each_nested_plan_with_its_time_and_buffers(self):
        text = social_cases.explain_text(PLANS)
        self.assertTrue(text.startswith("duration: 0.462 ms"))
        summary = report_social.plan_summary(text)
        self.assertEqual(summary, [
            (0.462, "select array_agg(a.id order by l.created_at desc, l.id desc),", 350, 2),  # its first line
            (1.083, "select a \\|\\| b from home_timeline($1)", 507, 0),
        ])


def fake_social(data: dict, scale: float = 1.0) -> dict:
    """`data` (a core run's) with a social part: made-up figures; `scale` multiplies the
    server's throughputs over HTTP."""
    def res(name, rps, p50=2.0, p99=10.0, tool="pgbench", connections=32):
        return Result(name, tool, connections, 10, requests=int(rps * 10), rps=rps, p50_ms=p50, p99_ms=p99,
                      mean_ms=p50, rss_start=30 << 20, rss_peak=40 << 20, cpu_db_us=500.0, other_cpu=0.02)

    cases = [
        res("social_home", 1_500 * scale, tool="wrk", p99=15), res("social_pg_naive", 1_200),
        res("social_pg_server", 600), res("social_pg_walk_first", 1_150),
        res("social_home_heavy", 900 * scale, tool="wrk", p99=40), res("social_pg_naive_heavy", 500),
        res("social_pg_server_heavy", 550), res("social_pg_walk_first_heavy", 520),
        res("social_home_rest", 1_500 * scale, tool="wrk", p99=16),
        res("social_celebrity_post", 9.5, tool="wrk", p99=12, connections=1),
        res("social_home_during", 1_450 * scale, tool="wrk", p99=20),
        res("social_pg_inbox", 3_600), res("social_pg_hybrid", 1_700),
        *(res(f"social_pg_post_{who}_{kind}", 10, connections=1)
          for who in ("celebrity", "median") for kind in ("plain", "fanout")),
        res("social_pg_backfill", 900, connections=1),
        res("social_pg_server_rest", 600), res("social_pg_server_during", 590),
        res("social_pg_post_during_server", 10, connections=1),
        res("social_pg_inbox_rest", 3_600), res("social_pg_inbox_during", 3_000, p99=14),
        res("social_pg_post_during_inbox", 8, p99=900, connections=1),
        res("social_pg_naive_independent", 300), res("social_pg_server_independent", 700),
        res("social_pg_walk_first_independent", 500),
        res("social_hot_rest", 40_000, tool="wrk", p99=2), res("social_like_storm", 3_000, tool="wrk"),
        res("social_pg_like_storm", 2_000), res("social_like_storm_during", 2_500, tool="wrk"),
        res("social_hot_during", 25_000, tool="wrk", p99=4), res("social_like_burst", 3_000, tool="wrk"),
        res("social_search_common", 900, tool="wrk", p99=45), res("social_pg_search_common", 1_000),
        res("social_search_rare", 5_000, tool="wrk", p99=5), res("social_pg_search_rare", 6_000),
    ]
    data["cases"].update({r.name: r for r in cases})
    data["parts"] = [*data.get("parts", []), "social"]
    figures = {"users": 10_000, "chirps": 1_000_000, "follows": 1_741_658, "following": [100, 290, 1340, 5000],
               "followers": [108, 297, 1145, 9999], "chirps_per_user": [72, 160, 503, 10083], "min_following": 63,
               "min_chirps": 24, "celebrity_chirps": 10_083, "celebrity_followers": 9_999,
               "bytes": {"chirps": 500 << 20, "follows": 450 << 20, "users": 9 << 20},
               "timeline_share": [0.023, 0.03, 0.045, 0.09]}
    plans = PLANS.replace("psql:<stdin>:12: LOG:  ", "")
    storage = {t: {"rows": rows, "bytes": rows * 156, "readers": readers} for t, rows, readers in (
        ("bench_home_inbox", 400_000, 2_000), ("bench_home_inbox_hybrid", 120_000, 2_000),
        ("chirps", 1_000_000, 0), ("follows", 1_741_658, 0))}
    data["social"] = {
        "shape": social.FULL, "idle_rss": 15 << 20, "celebrity_rate": 10.0, "post_rate": 9.5, "heavy": [5, 7, 9], "median_user": 37,
        "median_following": 100, "checked_http": 17, "log_errors": [],
        "follow_then_read": {"pairs": 20, "p50_ms": 30.0, "max_ms": 80.0},
        "independent": {"seconds": 60.0, "celebrity_chirps": 67, "timeline_share": [0.005, 0.006, 0.01, 0.03]},
        "seed": {"steps": {"users": 0.3, "chirps": 60.0}, "seconds": 120.0, "figures": figures,
                 "triggers_off": {"chirps": ["chirps_record_posted"], "follows": ["follows_count"]}},
        "likes": {"storm": {"likes": 4_990},
                  "burst": {"likes": 10_000, "requests": 30_000, "inserted": 1, "updated": 420, "rows": 1,
                            "actors": 10_000},
                  "search": {"common": 220_000, "rare": 20}},
        "explain": {"median": plans, "heavy": plans, "median_naive": "Limit", "heavy_naive": "Limit"},
        "candidates": {"fill_seconds": 5.0, "checked_sql": {"walk_first": 17, "inboxes": 12}, "storage": storage,
                       "pulled": 36, "median_author": 3647, "followers": {"celebrity": 9_999, "median": 108},
                       "wal": {**{f"social_pg_post_{w}_{k}": 9000.0 for w in ("celebrity", "median")
                                  for k in ("plain", "fanout")}, "social_pg_backfill": 30_000.0}},
    }
    return data


class SocialReportTest(unittest.TestCase):
    def verdicts(self, data: dict) -> dict[str, bool]:
        return {name: met for name, _, _, _, met, _ in report_targets.targets(data)
                if name.startswith(report_social.TARGET_PREFIXES)}

    def test_the_issues_targets(self):
        data, *_ = fake_run()
        v = self.verdicts(fake_social(data))
        self.assertEqual(list(v.values()), [True] * 12, v)
        v = self.verdicts(fake_social(fake_run()[0], scale=0.5))
        self.assertFalse(v["home timeline: first page, random users, vs pgbench naive query"])  # 0.62x

    def test_p99s_and_the_ratio_during_posts(self):
        data = fake_social(fake_run()[0])
        r = data["cases"]
        r["social_home_during"].p99_ms = 32.0  # 2x the 16 ms at rest: not under 2x
        r["social_celebrity_post"].p99_ms = 50.0
        r["social_home_heavy"].p99_ms = 49.9
        v = self.verdicts(data)
        self.assertFalse(v["home timeline: read p99 while the celebrity posts vs at rest"])
        self.assertFalse(v["home timeline: the celebrity's POST p99 while timelines are read"])
        self.assertTrue(v["home timeline: first page, users following 5,000: p99"])
        r["social_home_heavy"].rss_peak = (15 + 96 + 20 << 20) + 1
        self.assertFalse(self.verdicts(data)["home timeline: peak RSS while timelines are read (cache 96 MiB)"])

    def test_likes_notifications_and_search(self):
        data = fake_social(fake_run()[0])
        r, likes = data["cases"], data["social"]["likes"]
        r["social_like_storm"].rps = 1_390  # 0.695x pgbench's 2,000
        r["social_hot_during"].rps = 19_999  # under half the 40,000 at rest
        r["social_search_rare"].p99_ms = 50.0
        likes["burst"]["rows"] = 2
        v = self.verdicts(data)
        self.assertFalse(v["likes: a storm on one chirp vs pgbench running the same statement"])
        self.assertFalse(v["likes: reads of that chirp during the storm vs at rest"])
        self.assertFalse(v["notifications: rows its author gets from 10,000 likes of one chirp"])
        self.assertFalse(v["search: a rare word, first page, p99 at 32 connections"])
        self.assertTrue(v["search: a common word, first page, p99 at 32 connections"])

    def test_the_section_renders_every_figure(self):
        data, *rest = fake_run()
        text = benchmarks_md.region(fake_social(data), *rest)
        self.assertIn(report_social.HEADING, text.splitlines())
        self.assertNotIn("nan", text)
        self.assertIn("| celebrity: a chirp and an inbox row per follower and self | 10,001 |", text)
        self.assertIn("**156 bytes per row**", text)
        self.assertLess(text.index("## 8. Metrics on vs off"), text.index(report_social.HEADING))

    def test_errors_in_the_social_part_are_its_problems(self):
        data = fake_social(fake_run()[0])
        self.assertEqual(report_targets.problems(data), [])
        data["cases"]["social_home"].non_2xx = 3
        found = report_targets.problems(data)
        self.assertEqual(len(found), 1)
        self.assertIn("social_home", found[0])
        self.assertEqual(report_targets.core_problems(data), [])


class MergeTest(unittest.TestCase):
    """A run of one part rewrites its text in the region and keeps the other's."""

    def regions(self) -> tuple[str, str, str]:
        data, *rest = fake_run()
        both = benchmarks_md.region(fake_social(data), *rest)
        core_data, *rest = fake_run()
        core = benchmarks_md.region(core_data, *rest)
        social_data = fake_social({"cases": {}, "parts": []})
        social_only = benchmarks_md.region(social_data, *rest)
        return both, core, social_only

    def test_a_social_run_keeps_the_core_and_replaces_its_own(self):
        both, core, social_only = self.regions()
        old = both.replace("| 1,500 |", "| 1,234 |")  # an older social run's figure
        merged = benchmarks_md.merge(old, social_only.replace("| 1,500 |", "| 1,499 |"), ["social"])
        self.assertNotIn("| 1,234 |", merged)
        self.assertIn("| 1,499 |", merged)
        self.assertIn("## 8. Metrics on vs off", merged)
        self.assertEqual(merged.count(report_social.HEADING), 1)
        rows = [line for line in merged.splitlines() if line.startswith("| ")]
        prefixes = tuple(f"| {p}" for p in report_social.TARGET_PREFIXES)
        self.assertEqual(len([r for r in rows if r.startswith(prefixes)]), 12)
        table = merged.split("## Targets")[1].split("\n\n")[1].splitlines()
        self.assertTrue(table[-1].startswith(prefixes), table[-1])

    def test_a_core_run_keeps_the_social_part(self):
        both, core, _ = self.regions()
        merged = benchmarks_md.merge(both, core, ["core"])
        self.assertEqual(benchmarks_md.split_social(merged)[:2], benchmarks_md.split_social(both)[:2])
        self.assertEqual(merged.strip(), both.strip())

    def test_into_a_region_without_a_social_part_or_without_targets(self):
        both, core, social_only = self.regions()
        merged = benchmarks_md.merge(core, social_only, ["social"])
        self.assertEqual(merged.strip(), both.strip())
        self.assertEqual(benchmarks_md.merge("", social_only, ["social"]), social_only)
        self.assertEqual(benchmarks_md.merge(core, both, ["core", "social"]), both)

    def test_problems_stay_last(self):
        data, *rest = fake_run()
        data["log_errors"] = ["ERROR something broke"]
        core = benchmarks_md.region(data, *rest)
        social_only = benchmarks_md.region(fake_social({"cases": {}, "parts": []}), *rest)
        merged = benchmarks_md.merge(core, social_only, ["social"])
        self.assertLess(merged.index(report_social.HEADING), merged.index("## Problems in this run"))


class RatioTest(unittest.TestCase):
    def test_cut_not_rounded(self):
        self.assertEqual(report_social.at_most(0.999), "0.99")
        self.assertEqual(report_social.at_most(math.nan), "nan")


if __name__ == "__main__":
    unittest.main()
