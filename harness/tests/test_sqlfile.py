import shutil
import tempfile
import unittest
from pathlib import Path

from chirpy_harness import sqlfile
from chirpy_harness.errors import HarnessError


class SqlFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)

    def file(self, text: str) -> Path:
        path = self.dir / "q.sql"
        path.write_text(text)
        return path

    def test_parameters_become_the_expressions_and_comments_go(self):
        path = self.file("-- a page after ($1, $2); at most $3\nselect a\nfrom t\nwhere (x, y) > ($1, $2)\nlimit $3\n")
        self.assertEqual(
            sqlfile.load(path, ":x", "'b'::uuid", "101"),
            "select a\nfrom t\nwhere (x, y) > (:x, 'b'::uuid)\nlimit 101;",
        )

    def test_two_digit_parameters_are_not_read_as_one_digit(self):
        args = [f"a{n}" for n in range(1, 11)]
        path = self.file("select " + ", ".join(f"${n}" for n in range(1, 11)))
        self.assertEqual(sqlfile.load(path, *args), "select " + ", ".join(args) + ";")

    def test_an_expression_with_a_dollar_is_inserted_as_it_is(self):
        self.assertEqual(sqlfile.load(self.file("select $1;"), r"'\1$2'"), r"select '\1$2';")

    def test_the_wrong_number_of_parameters_is_refused(self):
        path = self.file("select * from t where id = $1 and u = $2")
        with self.assertRaisesRegex(HarnessError, r"takes parameters \$1, \$2; the harness supplies 1"):
            sqlfile.load(path, ":n")
        with self.assertRaisesRegex(HarnessError, "supplies 3"):
            sqlfile.load(path, "1", "2", "3")

    def test_a_gap_in_the_parameters_is_refused(self):
        with self.assertRaises(HarnessError):
            sqlfile.load(self.file("select $1, $3"), "a", "b", "c")

    def test_a_missing_file_is_named(self):
        with self.assertRaisesRegex(HarnessError, "cannot read the statement .*nope.sql"):
            sqlfile.load(self.dir / "nope.sql")


if __name__ == "__main__":
    unittest.main()
