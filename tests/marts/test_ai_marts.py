"""AI marts against what the generator knows it produced (the demo week)."""

from __future__ import annotations

import psycopg

from tests.conftest import DemoWarehouse


def test_classifications_feedback_accuracy_and_errors(
    marts: psycopg.Connection, demo_warehouse: DemoWarehouse
) -> None:
    ai = demo_warehouse.truth["ai"]
    row = marts.execute(
        "select count(*), count(is_correct), count(*) filter (where is_correct)"
        " from marts.fct_ai_classifications"
    ).fetchone()
    assert row == (ai["classifications"], ai["feedback"], ai["correct_classifications"])
    errors = marts.execute("select count(*) from marts.fct_ai_errors").fetchone()[0]
    assert errors == ai["errors"]
