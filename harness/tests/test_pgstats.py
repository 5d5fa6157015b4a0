import math
import tempfile
import unittest
from pathlib import Path

from chirpy_harness import pgstats
from chirpy_harness.errors import HarnessError


class NormalizeTest(unittest.TestCase):
    def test_comments_spacing_case_and_semicolon_do_not_matter(self):
        a = "-- One chirp by id\nselect id, body\nfrom chirps\nwhere id = $1\n"
        b = "SELECT id, body FROM chirps WHERE id = $1;"
        self.assertEqual(pgstats.normalize(a), pgstats.normalize(b))

    def test_different_statements_stay_different(self):
        self.assertNotEqual(pgstats.normalize("select 1 from chirps"), pgstats.normalize("select 1 from users"))


class ChirpReadStatementsTest(unittest.TestCase):
    def test_the_repositorys_read_statements_are_all_selects_from_chirps(self):
        statements = pgstats.chirp_read_statements()
        self.assertEqual(len(statements), len(pgstats.CHIRP_READ_FILES))
        for statement in statements:
            self.assertTrue(statement.startswith("select "), statement)
            self.assertIn(" from chirps ", statement)

    def test_the_home_timeline_statement_reads_the_timeline_function(self):
        (statement,) = pgstats.chirp_read_statements(files=pgstats.HOME_TIMELINE_FILES)
        self.assertTrue(statement.startswith("select "), statement)
        self.assertIn(" from home_timeline(", statement)

    def test_a_missing_file_is_an_error_naming_it(self):
        with tempfile.TemporaryDirectory() as tmp, self.assertRaisesRegex(HarnessError, "chirp_by_id"):
            pgstats.chirp_read_statements(Path(tmp))


class RecordsTest(unittest.TestCase):
    F, R = pgstats.FIELD, pgstats.RECORD

    def test_fields_and_records_keep_newlines_inside_values(self):
        output = f"select 1\nfrom chirps{self.F}12{self.R}insert into chirps{self.F}3\n"
        self.assertEqual(pgstats.parse_records(output), [["select 1\nfrom chirps", "12"], ["insert into chirps", "3"]])

    def test_no_rows(self):
        self.assertEqual(pgstats.parse_records(""), [])
        self.assertEqual(pgstats.parse_records("\n"), [])

    def test_count_calls_adds_only_the_wanted_statements(self):
        wanted = {pgstats.normalize("select id from chirps where id = $1")}
        rows = [
            ["-- by id\nselect id\nfrom chirps where id = $1", "40"],
            ["select id from chirps where id = $1", "2"],  # another user's row of the same statement
            ["insert into chirps (body) values ($1)", "7"],
            ["select pg_is_in_recovery()", "100"],
        ]
        self.assertEqual(pgstats.count_calls(rows, wanted), 42)

    def test_share(self):
        self.assertEqual(pgstats.share(95, 5), 0.95)
        self.assertEqual(pgstats.share(0, 10), 0.0)
        self.assertTrue(math.isnan(pgstats.share(0, 0)))


if __name__ == "__main__":
    unittest.main()
