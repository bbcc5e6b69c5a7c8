"""The SQL examples of docs/marts.md, for the tests that run them: what a data team copies
into a BI tool is what the tests check."""

from __future__ import annotations

import datetime
import math
import re

from extract.config import REPO_ROOT

DOC = REPO_ROOT / "docs" / "marts.md"
# the week the examples query
FIRST_DAY, LAST_DAY = "2026-11-19", "2026-11-25"
_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


def statements() -> list[str]:
    """Every statement of every SQL block, without its comment lines."""
    found = []
    for block in _BLOCK.findall(DOC.read_text()):
        for statement in block.split(";"):
            code = "\n".join(
                line for line in statement.splitlines() if not line.strip().startswith("--")
            ).strip()
            if code:
                found.append(code)
    return found


def query(containing: str, first: datetime.date, last: datetime.date) -> str:
    """The one example that contains ``containing``, over ``first`` to ``last`` instead of
    the doc's week."""
    matches = [code for code in statements() if containing in code]
    assert len(matches) == 1, f"{len(matches)} examples in docs/marts.md contain {containing!r}"
    days = {FIRST_DAY: first.isoformat(), LAST_DAY: last.isoformat()}
    return re.sub("|".join(days), lambda found: days[found.group()], matches[0])


def percentile_cont(counts: dict[int, int], fraction: float) -> float:
    """PostgreSQL's percentile_cont over the values of a frequency table."""
    ordered = [value for value in sorted(counts) for _ in range(counts[value])]
    position = fraction * (len(ordered) - 1)
    below, above = ordered[math.floor(position)], ordered[math.ceil(position)]
    return below + (position - math.floor(position)) * (above - below)
