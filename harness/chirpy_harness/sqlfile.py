"""A SQL file with `$1`, `$2`, ... parameters, each replaced by an expression of the caller's.

Lets a harness run the statements the server runs (src/store/sql/*.sql) elsewhere, in
pgbench say, where parameters are written in the client's own syntax.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import HarnessError

PARAMETER = re.compile(r"\$(\d+)")
LINE_COMMENT = re.compile(r"--[^\n]*")


def load(path: Path, *arguments: str) -> str:
    """The statement in `path`, comments dropped, `$n` replaced by `arguments[n - 1]`, ending
    in `;`. The file must take exactly as many parameters as there are arguments."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise HarnessError(f"cannot read the statement {path}: {exc.strerror}") from exc
    statement = LINE_COMMENT.sub("", text).strip().rstrip(";").strip()
    used = sorted({int(n) for n in PARAMETER.findall(statement)})
    if used != list(range(1, len(arguments) + 1)):
        taken = ", ".join(f"${n}" for n in used) or "none"
        raise HarnessError(
            f"{path} takes parameters {taken}; the harness supplies {len(arguments)}: "
            "the statement changed, so update the harness to match"
        )
    return PARAMETER.sub(lambda m: arguments[int(m.group(1)) - 1], statement) + ";"
