"""AI marts against what the generator knows it produced (the demo week)."""

from __future__ import annotations

import psycopg
import pytest

from generator.truth import INTENT_FIELDS
from tests.conftest import DemoWarehouse
from tests.marts.documented import percentile_cont, query


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


def _by_key(marts: psycopg.Connection, sql: str) -> dict:
    return {row[0]: row[1] for row in marts.execute(sql)}


def test_requests_and_errors_by_model_and_type(
    marts: psycopg.Connection, demo_warehouse: DemoWarehouse
) -> None:
    ai = demo_warehouse.truth["ai"]
    for column, expected in (
        ("classifications", ai["classifications_by_model"]),
        ("generations", ai["generations_by_model"]),
        ("errors", ai["errors_by_model"]),
    ):
        actual = _by_key(
            marts,
            f"select model, sum({column}) from marts.ai_stats_daily group by 1"
            f" having sum({column}) > 0",
        )
        assert actual == expected, column
    by_type = _by_key(marts, "select error_type, sum(errors) from marts.ai_errors_daily group by 1")
    assert by_type == ai["errors_by_type"]


def test_latency_histogram_and_totals_by_kind_and_model(
    marts: psycopg.Connection, demo_warehouse: DemoWarehouse
) -> None:
    ai = demo_warehouse.truth["ai"]
    histogram: dict[str, dict[str, int]] = {}
    for key, bucket, requests in marts.execute(
        "select kind || '|' || model, bucket, sum(requests)"
        " from marts.ai_latency_histogram_daily group by 1, 2"
    ):
        histogram.setdefault(key, {})[bucket] = requests
    assert histogram == ai["latency_buckets"]
    totals = _by_key(
        marts,
        """
        select 'classification|' || model, sum(latency_ms) from marts.fct_ai_classifications
        group by model
        union all
        select 'generation|' || model, sum(latency_ms) from marts.fct_ai_generations
        group by model
        """,
    )
    assert totals == ai["latency_ms_sum"]
    weighted = _by_key(
        marts,
        "select kind || '|' || model, round(sum(avg_latency_ms * requests))"
        " from marts.ai_latency_daily group by 1",
    )
    assert weighted == ai["latency_ms_sum"]


def test_intents_with_the_outcome_of_their_conversations(
    marts: psycopg.Connection, demo_warehouse: DemoWarehouse
) -> None:
    rows = marts.execute(
        """
        select intent, sum(classifications), sum(conversations), sum(conversations_resolved),
            sum(conversations_dropped), sum(conversations_open), sum(conversations_escalated)
        from marts.ai_intents_daily
        group by intent
        """
    ).fetchall()
    actual = {intent: dict(zip(INTENT_FIELDS, values, strict=True)) for intent, *values in rows}
    assert actual == demo_warehouse.truth["ai"]["intents"]


def test_latency_percentiles_from_the_distribution(
    marts: psycopg.Connection, demo_warehouse: DemoWarehouse
) -> None:
    """docs/marts.md's query on ai_latency_distribution_daily: requests and p50/p90/p99 of
    the latencies generated (to three significant digits), by kind and model, within 0.5 %
    of the exact percentiles of the facts."""
    ai = demo_warehouse.truth["ai"]
    first, last = marts.execute(
        "select min(activity_date), max(activity_date) from marts.ai_latency_distribution_daily"
    ).fetchone()
    documented = query("from marts.ai_latency_distribution_daily", first, last)
    actual = {f"{kind}|{model}": rest for kind, model, *rest in marts.execute(documented)}
    assert set(actual) == set(ai["latency_counts"])
    exact = {
        f"{kind}|{model}": percentiles
        for kind, model, percentiles in marts.execute(
            """
            select 'classification', model, percentile_cont(array[0.5, 0.9, 0.99])
                within group (order by latency_ms)
            from marts.fct_ai_classifications where latency_ms is not null group by model
            union all
            select 'generation', model, percentile_cont(array[0.5, 0.9, 0.99])
                within group (order by latency_ms)
            from marts.fct_ai_generations where latency_ms is not null group by model
            """
        )
    }
    for key, generated in ai["latency_counts"].items():
        counts = {int(latency): n for latency, n in generated.items()}
        requests, *percentiles = actual[key]
        assert requests == sum(counts.values())
        expected = [percentile_cont(counts, fraction) for fraction in (0.5, 0.9, 0.99)]
        assert percentiles == pytest.approx(expected), key
        for found, fact in zip(percentiles, exact[key], strict=True):
            assert abs(found - fact) <= 0.005 * fact, key
