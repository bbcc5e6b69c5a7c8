"""Every Great Expectations expectation fails on a table built to break it, and passes on
one that keeps it: a check that cannot fail is not a check."""

from __future__ import annotations

import datetime

import psycopg
import pytest

from extract.config import Settings
from orchestration.lib.quality import (
    MIN_ROWS_FOR_DISTRIBUTIONS,
    SUITES,
    Expect,
    raw_events_freshness,
    row_count_band,
    snake_case,
    validate_marts,
)

ROWS = MIN_ROWS_FOR_DISTRIBUTIONS + 100
CASES = [
    (mart, index, expect) for mart, suite in SUITES.items() for index, expect in enumerate(suite)
]


def _breaking_value(expect: Expect) -> object:
    """A value that, in every row, breaks the expectation."""
    kwargs = expect.kwargs
    match expect.kind:
        case "ExpectColumnValuesToNotBeNull":
            return None
        case "ExpectColumnValuesToBeInSet":
            return "not-in-the-set"
        case "ExpectColumnValuesToBeBetween" | "ExpectColumnMeanToBeBetween":
            return kwargs["max_value"] + 1
    raise AssertionError(f"no breaking value for {expect.kind}: add one")


def _keeping_value(expect: Expect) -> object:
    kwargs = expect.kwargs
    match expect.kind:
        case "ExpectColumnValuesToNotBeNull":
            return 1
        case "ExpectColumnValuesToBeInSet":
            return kwargs["value_set"][0]
        case "ExpectColumnValuesToBeBetween" | "ExpectColumnMeanToBeBetween":
            return kwargs["min_value"]
    raise AssertionError(f"no keeping value for {expect.kind}: add one")


def _table(
    conn: psycopg.Connection,
    schema: str,
    name: str,
    column: str,
    value: object,
    earlier: object = None,
) -> None:
    """``ROWS`` rows of ``value``; with ``earlier``, stamped: as many rows of ``earlier``
    written by an earlier refresh (stamp 1) before them (stamp 2)."""
    kind = "text" if isinstance(value, str) else "numeric"
    conn.execute(f'create schema if not exists "{schema}"')
    conn.execute(f'drop table if exists "{schema}"."{name}"')
    conn.execute(f'create table "{schema}"."{name}" ("{column}" {kind}, refreshed_load_id int)')
    for stamp, stamped_value in ((1, earlier), (2, value)) if earlier is not None else ():
        conn.execute(
            f'insert into "{schema}"."{name}" select %s::{kind}, %s from generate_series(1, %s)',
            (stamped_value, stamp, ROWS),
        )
    if earlier is None:
        conn.execute(
            f'insert into "{schema}"."{name}" select %s::{kind}, null from generate_series(1, %s)',
            (value, ROWS),
        )


def _validate_alone(settings: Settings, schema: str, mart: str, expect: Expect) -> object:
    """Only the expectation under test: the others name columns the table does not have."""
    suite = SUITES[mart]
    SUITES[mart] = [expect]
    try:
        return validate_marts(settings.database_url, schema, [mart], {})[mart]
    finally:
        SUITES[mart] = suite


@pytest.mark.parametrize(
    ("mart", "index", "expect"), CASES, ids=[f"{m}-{e.kind}-{i}" for m, i, e in CASES]
)
def test_each_expectation_fails_on_broken_data_and_passes_on_good(
    db: psycopg.Connection, settings: Settings, mart: str, index: int, expect: Expect
) -> None:
    column = expect.kwargs["column"]
    keeping, breaking = _keeping_value(expect), _breaking_value(expect)
    _table(db, "broken", mart, column, breaking)
    _table(db, "good", mart, column, keeping)
    broken = _validate_alone(settings, "broken", mart, expect)
    good = _validate_alone(settings, "good", mart, expect)
    assert not broken.passed
    assert snake_case(expect.kind) in broken.summary() and column in broken.summary()
    assert expect.why in broken.summary()
    assert good.passed, good.summary()
    if expect.distribution:
        return
    # a row-level one reads the rows of the last stamp only (a row_condition): the earlier
    # refresh's rows neither break nor keep it
    _table(db, "broken", mart, column, breaking, earlier=keeping)
    _table(db, "good", mart, column, keeping, earlier=breaking)
    broken = _validate_alone(settings, "broken", mart, expect)
    good = _validate_alone(settings, "good", mart, expect)
    assert (broken.row_level_stamp, good.row_level_stamp) == (2, 2)
    assert not broken.passed and snake_case(expect.kind) in broken.summary()
    assert good.passed, good.summary()


def test_row_count_band_fails_a_mart_that_lost_half_or_exploded(
    db: psycopg.Connection, settings: Settings
) -> None:
    _table(db, "built", "some_mart", "x", 1)  # ROWS rows
    assert validate_marts(settings.database_url, "built", ["some_mart"], {"some_mart": ROWS})[
        "some_mart"
    ].passed
    shrunk = validate_marts(
        settings.database_url, "built", ["some_mart"], {"some_mart": ROWS * 2 + 2}
    )["some_mart"]
    assert not shrunk.passed and "expect_table_row_count_to_be_between" in shrunk.summary()
    assert "--accept-row-counts" in shrunk.summary()
    assert row_count_band(None) == (0, None)
    assert row_count_band(0) == (0, None)
    low, high = row_count_band(1000)
    assert (low, high) == (500, 20_000)
    # switched off for a deliberate large change
    assert validate_marts(
        settings.database_url,
        "built",
        ["some_mart"],
        {"some_mart": ROWS * 3},
        row_count_band_enabled=False,
    )["some_mart"].passed


def test_distributions_wait_for_enough_rows(db: psycopg.Connection, settings: Settings) -> None:
    db.execute("create schema small")
    db.execute("create table small.fct_ai_classifications (confidence numeric, latency_ms numeric)")
    db.execute("insert into small.fct_ai_classifications values (0.01, 100)")
    result = validate_marts(settings.database_url, "small", ["fct_ai_classifications"], {})[
        "fct_ai_classifications"
    ]
    assert result.passed
    assert len(result.skipped) == len(SUITES["fct_ai_classifications"])


def _stamped_sessions(conn: psycopg.Connection, rows: list[tuple[int, int, int]]) -> None:
    """stamped.fct_sessions with (refreshed_load_id, duration_seconds, page_view_count)
    rows, each repeated ROWS times."""
    conn.execute("create schema if not exists stamped")
    conn.execute("drop table if exists stamped.fct_sessions")
    conn.execute(
        "create table stamped.fct_sessions "
        "(refreshed_load_id bigint, duration_seconds numeric, page_view_count numeric)"
    )
    for row in rows:
        conn.execute(
            "insert into stamped.fct_sessions select %s, %s, %s from generate_series(1, %s)",
            (*row, ROWS),
        )


def test_row_level_expectations_read_the_rows_of_the_last_stamp(
    db: psycopg.Connection, settings: Settings
) -> None:
    """A value range holds row by row: on a stamped mart it reads the rows the last build
    wrote (rows written earlier were checked then). A distribution reads the whole mart."""

    def validate() -> object:
        return validate_marts(settings.database_url, "stamped", ["fct_sessions"], {})[
            "fct_sessions"
        ]

    # a few of an older refresh's sessions over 24 h (under a tenth of all: the p90 holds),
    # the last refresh's within it
    _stamped_sessions(db, [(1, 100_000, 3)] + [(2, 600, 3)] * 10)
    result = validate()
    assert result.passed, result.summary()
    assert result.row_level_stamp == 2 and "rows stamped 2" in result.summary()
    assert result.evaluated == len(SUITES["fct_sessions"]) + 1  # and the row-count band

    # one session of the last refresh over 24 h fails it
    db.execute("insert into stamped.fct_sessions values (2, 100000, 3)")
    result = validate()
    assert not result.passed
    assert "expect_column_values_to_be_between on duration_seconds" in result.summary()

    # after a full build every row carries one stamp: the row-level expectations read the
    # whole table, without a condition
    _stamped_sessions(db, [(3, 600, 3)] * 3)
    result = validate()
    assert result.passed, result.summary()
    assert result.row_level_stamp is None and "rows stamped" not in result.summary()
    db.execute("insert into stamped.fct_sessions values (3, 100000, 3)")
    result = validate()
    assert not result.passed
    assert "expect_column_values_to_be_between on duration_seconds" in result.summary()

    # the mean page views of the whole mart, older rows included, is over 50
    _stamped_sessions(db, [(1, 600, 500), (1, 600, 500), (2, 600, 3)])
    result = validate()
    assert not result.passed
    assert "expect_column_mean_to_be_between on page_view_count" in result.summary()


def test_raw_events_freshness_warns_when_nothing_arrived_lately(
    db: psycopg.Connection, settings: Settings
) -> None:
    from extract.schema import ensure_raw_schema

    ensure_raw_schema(db)
    empty = raw_events_freshness(settings.database_url)
    assert not empty.passed and "empty" in empty.description
    db.execute(
        """
        insert into raw.events (stream_id, event_id, event_name, channel, occurred_at, payload,
            load_id)
        values ('1700000000000-0', 'e1', 'page_view', 'web', now(), '{}', 1)
        """
    )
    stale = raw_events_freshness(settings.database_url)  # received in November 2023
    assert not stale.passed and "are the producers" in stale.description
    assert stale.newest is not None and stale.newest.year == 2023
    recent = raw_events_freshness(settings.database_url, max_age=datetime.timedelta(days=10_000))
    assert recent.passed
