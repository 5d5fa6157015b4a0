"""psql on a cluster node, and how many chirp reads each node has served.

A chirp read is a run of one of the statements in src/store/sql that GET /api/chirps and
GET /api/chirps/{id} make, counted by pg_stat_statements (loaded on every node of the local
cluster) on the node that ran it. Counting those statements, rather than pg_stat_database's
transactions, leaves out what is not a chirp read: health checks, the replica lag check,
the visit counter. Other reads are counted the same way, by the files of their statements
(HOME_TIMELINE_FILES: GET /api/timelines/home).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .binaries import ROOT
from .errors import HarnessError
from .sqlfile import LINE_COMMENT

# The statements of chirp reads, by file name under src/store/sql.
CHIRP_READ_FILES = ("chirp_by_id", "chirps_asc", "chirps_desc", "chirps_by_author_asc", "chirps_by_author_desc")
# The statement of a home timeline page.
HOME_TIMELINE_FILES = ("home_timeline",)
SQL_DIR = ROOT / "src" / "store" / "sql"
# psql's field and record separators for results that hold newlines (statement texts).
FIELD, RECORD = "\x1f", "\x1e"


def normalize(sql: str) -> str:
    """A statement's text without comments, spacing or a final `;`, to compare two spellings."""
    return re.sub(r"\s+", " ", LINE_COMMENT.sub("", sql)).strip().rstrip(";").strip().lower()


def chirp_read_statements(sql_dir: Path = SQL_DIR, files: tuple[str, ...] = CHIRP_READ_FILES) -> set[str]:
    """The normalized texts of the chirp-read statements (or of those in `files`)."""
    try:
        return {normalize((sql_dir / f"{name}.sql").read_text()) for name in files}
    except OSError as exc:
        raise HarnessError(f"cannot read a chirp-read statement: {exc}") from exc


def parse_records(output: str) -> list[list[str]]:
    """psql -A output with FIELD and RECORD separators, as rows of fields (psql ends it with a
    newline of its own)."""
    output = output.removesuffix("\n")
    return [record.split(FIELD) for record in output.split(RECORD) if record]


def count_calls(rows: list[list[str]], statements: set[str]) -> int:
    """The calls of (query, calls) rows whose query is one of `statements`."""
    return sum(int(calls) for query, calls in rows if normalize(query) in statements)


def share(part: int, other: int) -> float:
    """part / (part + other); NaN when both are zero (nothing was read)."""
    total = part + other
    return part / total if total else float("nan")


class Psql:
    """psql (from the cluster's own bin dir) on one database URL."""

    def __init__(self, bin_dir: Path, url: str):
        self.base = [str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url]

    def run(self, sql: str, timeout: float = 30) -> str:
        cmd = [*self.base, "-F", FIELD, "-R", RECORD, "-c", sql]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"psql took over {timeout:g}s: {sql[:200]}") from exc
        if out.returncode != 0:
            raise HarnessError(f"psql failed: {out.stderr.strip()}\nSQL: {sql[:500]}")
        return out.stdout

    def rows(self, sql: str) -> list[list[str]]:
        return parse_records(self.run(sql))

    def scalar(self, sql: str) -> str:
        rows = self.rows(sql)
        return rows[0][0] if rows else ""


STATEMENT_CALLS = (
    "select query, calls from pg_stat_statements"
    " where dbid = (select oid from pg_database where datname = current_database())"
)


class ChirpReads:
    """Chirp reads (or runs of the statements in `files`) served so far by each node, from
    pg_stat_statements."""

    def __init__(self, nodes: dict[str, Psql], files: tuple[str, ...] = CHIRP_READ_FILES):
        self.nodes = nodes
        self.statements = chirp_read_statements(files=files)

    def on(self, node: str) -> int:
        return count_calls(self.nodes[node].rows(STATEMENT_CALLS), self.statements)

    def snapshot(self, skip: tuple[str, ...] = ()) -> dict[str, int]:
        """{node: chirp reads so far}, leaving out `skip` (a node that is down)."""
        return {name: self.on(name) for name in self.nodes if name not in skip}
