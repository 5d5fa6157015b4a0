"""pgbench's scripts: the server's own statements, read from src/store/sql/, with each `$n`
replaced by the pgbench expression naming the same seeded rows."""

from __future__ import annotations

from chirpy_harness import sqlfile
from chirpy_harness.binaries import ROOT

from seed import CHIRP_ID_SQL, N_AUTHORS, USER_ID_SQL

SQL_DIR = ROOT / "src" / "store" / "sql"
GET_CHIRP = "chirp_by_id.sql"
LIST_CHIRPS = "chirps_asc.sql"
NEWEST_CHIRPS = "chirps_desc.sql"
INSERT_CHIRP = "insert_chirp.sql"


def get_chirp(n_chirps: int) -> str:
    """A random one of the seeded chirps, by id."""
    statement = sqlfile.load(SQL_DIR / GET_CHIRP, CHIRP_ID_SQL.format(n=":n"))
    return f"\\set n random(1, {n_chirps})\n{statement}\n"


def list_chirps(size: int) -> str:
    """The feed from its start, as the server reads a list that fits one page: the whole table
    of `size` chirps and one more row asked for, to learn that none follows."""
    start = ("'-infinity'", "'00000000-0000-0000-0000-000000000000'")  # before every chirp
    statement = sqlfile.load(SQL_DIR / LIST_CHIRPS, *start, str(size + 1))
    return f"{statement}\n"


def newest_chirps(limit: int) -> str:
    """The feed's first page newest first, as the server reads `?sort=desc&limit=<limit>`:
    from after every chirp, one row more than the page holds, to learn whether more follow."""
    start = ("'infinity'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'")  # after every chirp
    statement = sqlfile.load(SQL_DIR / NEWEST_CHIRPS, *start, str(limit + 1))
    return f"{statement}\n"


def insert_chirp() -> str:
    """A chirp by a random seeded author."""
    body = "'Benchmark chirp ' || :r || ': hello from pgbench, what a nice day'"
    statement = sqlfile.load(SQL_DIR / INSERT_CHIRP, body, USER_ID_SQL.format(n=":u"))
    return f"\\set u random(1, {N_AUTHORS})\n\\set r random(1, 1000000000)\n{statement}\n"


def check_all() -> None:
    """Fails, naming the file, before any seeding if a statement is missing or has changed shape."""
    get_chirp(1)
    list_chirps(1)
    newest_chirps(1)
    insert_chirp()
