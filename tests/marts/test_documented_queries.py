"""Every SQL example in docs/marts.md runs against the refreshed demo warehouse.

The examples are what a data team copies into a BI tool: a renamed column or a wrong
grain in the docs shows up here as an error.
"""

from __future__ import annotations

import re

import psycopg
import pytest

from extract.config import REPO_ROOT

DOC = REPO_ROOT / "docs" / "marts.md"
_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


def _statements() -> list[tuple[str, str]]:
    found = []
    for block_number, block in enumerate(_BLOCK.findall(DOC.read_text()), start=1):
        for statement in block.split(";"):
            code = "\n".join(
                line for line in statement.splitlines() if not line.strip().startswith("--")
            ).strip()
            if code:
                found.append((f"block{block_number}:{code.split()[1][:30]}", code))
    return found


STATEMENTS = _statements()


def test_the_doc_has_examples() -> None:
    assert len(STATEMENTS) >= 20


@pytest.mark.parametrize(("name", "sql"), STATEMENTS, ids=[name for name, _ in STATEMENTS])
def test_documented_query_runs(marts: psycopg.Connection, name: str, sql: str) -> None:
    marts.execute(sql).fetchall()
