"""The home timeline's statements for pgbench and psql: the server's own (src/store/sql/), the
naive baseline beside them, and the candidates prototyped in bench/sql/ (fan-out on write, the
hybrid, a walk-first fan-out on read), each `$n` replaced by the expression naming the same
seeded rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chirpy_harness import sqlfile

from queries import SQL_DIR
from seed import CHIRP_ID_SQL, USER_ID_SQL

PROTOTYPES = Path(__file__).resolve().parent / "sql"
SERVER_PAGE = "home_timeline.sql"
NAIVE_PAGE = "home_timeline_naive.sql"
# A first page as the server reads it: 20 chirps and one more, to learn whether more follow.
LIMIT = 20
ROWS = LIMIT + 1
# Before every chirp, newest first.
START = ("'infinity'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'")
# Inboxes keep this many chirps per user (trimmed), and are filled for every SAMPLE_STEP-th user.
INBOX_KEEP = 200
SAMPLE_STEP = 5
# The hybrid pulls at read time the accounts followed by more than this share of everyone.
PULLED_SHARE = 0.2
BODY = "'Benchmark chirp ' || :r || ': hello from pgbench, what a nice day'"


def prototype(name: str, *arguments: str) -> str:
    return sqlfile.load(PROTOTYPES / name, *arguments)


def server(name: str, *arguments: str) -> str:
    return sqlfile.load(SQL_DIR / name, *arguments)


@dataclass(frozen=True)
class Readers:
    """Whom a pgbench script reads as: the `\\set` lines choosing one per transaction, the
    expression of that user's number, and what the report calls them."""

    sets: str
    number: str
    label: str

    @classmethod
    def random(cls, users: int) -> Readers:
        return cls(f"\\set n random(1, {users})\n", ":n", "random users")

    @classmethod
    def among(cls, numbers: list[int], label: str) -> Readers:
        """A random one of `numbers` (pgbench has no lists: an array literal, indexed)."""
        array = "array[" + ",".join(map(str, numbers)) + "]"
        return cls(f"\\set i random(1, {len(numbers)})\n", f"({array})[:i]", label)

    @classmethod
    def sample(cls, users: int) -> Readers:
        """The users whose inboxes are filled: every SAMPLE_STEP-th."""
        return cls(f"\\set n {SAMPLE_STEP} * random(1, {users // SAMPLE_STEP})\n", ":n",
                   f"every {SAMPLE_STEP}th user (whose inboxes are filled)")

    @property
    def reader(self) -> str:
        return USER_ID_SQL.format(n=self.number)


def naive_page(readers: Readers) -> str:
    """The obvious query, the baseline: it reads 21 rows, as the server's first page does."""
    return readers.sets + server(NAIVE_PAGE, readers.reader) + "\n"


def server_page(readers: Readers) -> str:
    return readers.sets + server(SERVER_PAGE, readers.reader, *START, str(ROWS)) + "\n"


def walk_first_page(readers: Readers) -> str:
    return readers.sets + prototype("walk_first_page.sql", readers.reader, *START, str(ROWS)) + "\n"


def inbox_page(readers: Readers) -> str:
    return readers.sets + prototype("inbox_page.sql", readers.reader, *START, str(ROWS)) + "\n"


def hybrid_page(readers: Readers) -> str:
    return readers.sets + prototype("hybrid_page.sql", readers.reader, *START, str(ROWS)) + "\n"


def page_statement(kind: str, reader_sql: str, rows: int = ROWS) -> str:
    """One page's statement for psql, for the reader `reader_sql` (an expression)."""
    files = {"naive": None, "server": (SQL_DIR, SERVER_PAGE), "walk_first": (PROTOTYPES, "walk_first_page.sql"),
             "inbox": (PROTOTYPES, "inbox_page.sql"), "hybrid": (PROTOTYPES, "hybrid_page.sql")}
    if kind == "naive":
        return sqlfile.load(SQL_DIR / NAIVE_PAGE, reader_sql)
    folder, name = files[kind]
    return sqlfile.load(folder / name, reader_sql, *START, str(rows))


def post(fan_out: bool, author: int) -> str:
    """A chirp by user `author`: alone (fan-out on read) or with a row per follower's inbox."""
    name = "post_fanout.sql" if fan_out else "post_plain.sql"
    return f"\\set r random(1, 1000000000)\n{prototype(name, BODY, USER_ID_SQL.format(n=str(author)))}\n"


def backfill(users: int) -> str:
    """A follow's backfill: a random account's newest INBOX_KEEP chirps into a sampled inbox."""
    return (f"\\set n {SAMPLE_STEP} * random(1, {users // SAMPLE_STEP})\n\\set e random(2, {users})\n"
            + prototype("inbox_backfill.sql", USER_ID_SQL.format(n=":n"), USER_ID_SQL.format(n=":e"),
                        str(INBOX_KEEP)) + "\n")


LIKES = "likes_apply.sql"
SEARCH = "search_chirps.sql"


def like_toggle(chirp: int, users: int) -> str:
    """The server's like statement, a group of one: a random user likes or unlikes chirp number
    `chirp`, at random (as bench/wrk/like_storm.lua asks the server to)."""
    statement = server(LIKES, f"array[{CHIRP_ID_SQL.format(n=str(chirp))}]", f"array[{USER_ID_SQL.format(n=':u')}]",
                       "array[:l = 1]")
    return f"\\set u random(1, {users})\n\\set l random(0, 1)\n{statement}\n"


def search(word: str) -> str:
    """The server's search statement, the first page of `word` for an anonymous reader."""
    return server(SEARCH, f"'{word}'", *START, str(ROWS), "null::uuid") + "\n"


def schema() -> str:
    return prototype("inbox_schema.sql") + "\n" + prototype("walk_first.sql") + "\n"


def fill(users: int) -> str:
    pulled = int(users * PULLED_SHARE)
    return prototype("inbox_fill.sql", str(SAMPLE_STEP), str(SAMPLE_STEP), str(users), USER_ID_SQL.format(n="n"),
                     str(INBOX_KEEP), str(pulled)) + "\nvacuum analyze bench_home_inbox;\n" \
        "vacuum analyze bench_home_inbox_hybrid;\nvacuum analyze bench_hybrid_pulled;\n"


def check_all() -> None:
    """Fails, naming the file, before any seeding if a statement is missing or changed shape."""
    readers = Readers.random(10)
    for script in (naive_page, server_page, walk_first_page, inbox_page, hybrid_page):
        script(readers)
    post(True, 1)
    post(False, 1)
    backfill(10)
    like_toggle(1, 10)
    search("coffee")
    schema()
    fill(10)
