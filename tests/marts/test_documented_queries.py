"""Every SQL example in docs/marts.md runs against the refreshed demo warehouse.

The examples are what a data team copies into a BI tool: a renamed column or a wrong
grain in the docs shows up here as an error.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.marts.documented import statements


def _named() -> list[tuple[str, str]]:
    return [
        (f"statement{number}:{code.split()[1][:30]}", code)
        for number, code in enumerate(statements(), start=1)
    ]


STATEMENTS = _named()


def test_the_doc_has_examples() -> None:
    assert len(STATEMENTS) >= 20


@pytest.mark.parametrize(("name", "sql"), STATEMENTS, ids=[name for name, _ in STATEMENTS])
def test_documented_query_runs(marts: psycopg.Connection, name: str, sql: str) -> None:
    marts.execute(sql).fetchall()
