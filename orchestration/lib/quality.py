"""Great Expectations suites: what dbt tests do poorly, run on the built marts before they
are published.

dbt tests guard structure (keys, relationships, accepted values, reconciliations). These
suites guard the shape of the data: row counts against the published marts (a refresh that
loses half a mart, or multiplies it, is a broken refresh), distributions (medians, means,
shares of nulls) and value ranges that only make sense over many rows. Distribution
expectations apply from ``MIN_ROWS_FOR_DISTRIBUTIONS`` rows on: on a handful of rows a mean
says nothing.

One suite per mart, built in code from ``SUITES`` (every mart gets the row-count band); the
runner uses an ephemeral GX context and returns plain results, so callers (the Dagster
asset checks, the tests) never touch GX objects.

Row-level expectations (a value range, a set of values: ``distribution=False``) hold for
each row on its own, so on a mart stamped with ``refreshed_load_id`` they read the rows
carrying its highest stamp: every row after a full build, the rows the refresh recomputed
after an incremental one (rows written earlier were checked when they were written; the
dbt tests follow the same rule, dbt_project/macros/tests_scope.sql). The row count and the
distributions describe the whole mart and read all of it. At 10 M events the channel set
of ``fct_events`` alone read 10 M rows twice (about 4 s of a refresh of one hour).
"""

from __future__ import annotations

import datetime
import io
import logging
import math
import re
import threading
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from typing import Any

from extract.failpoints import failpoint

# the stamp of the refresh that wrote a row (dbt_project/macros/incremental.sql)
STAMP_COLUMN = "refreshed_load_id"

log = logging.getLogger("orchestration")

# Row-count band against the published mart: at least half of it, at most ten times it
# plus 10,000 rows (a first load or a large backfill may grow a mart a lot).
MAX_SHRINK = 0.5
MAX_GROWTH_FACTOR = 10
GROWTH_SLACK = 10_000
MIN_ROWS_FOR_DISTRIBUTIONS = 500


@dataclass(frozen=True)
class Expect:
    """One expectation: the GX class name, its arguments, and why it is there."""

    kind: str
    kwargs: dict[str, Any]
    why: str
    distribution: bool = True  # needs MIN_ROWS_FOR_DISTRIBUTIONS rows to mean anything


def _percentile_at_most(column: str, share: float, max_value: float, why: str) -> Expect:
    """The ``share`` percentile of ``column`` is at most ``max_value``: at least that share
    of the (non-null) values are. (Written with ``mostly``: GX 1.24's quantile expectation
    passes a last quantile out of its range, which the tests caught.)"""
    return Expect(
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": 0, "max_value": max_value, "mostly": share},
        why,
    )


SUITES: dict[str, list[Expect]] = {
    "fct_events": [
        Expect(
            "ExpectColumnValuesToNotBeNull",
            {"column": "user_key", "mostly": 0.95},
            "at most 5% of events without a person: more means identity broke",
        ),
        Expect(
            # row by row: GX 1.24's ExpectColumnDistinctValuesToBeInSet observes nothing
            # under a row_condition on PostgreSQL, and fails
            "ExpectColumnValuesToBeInSet",
            {"column": "channel", "value_set": ["web", "whatsapp", "ai"]},
            "the three channels of CONTRACT.md",
            distribution=False,
        ),
    ],
    "fct_sessions": [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "duration_seconds", "min_value": 0, "max_value": 86_400},
            "no session lasts over 24 hours (METRICS.md)",
            distribution=False,
        ),
        _percentile_at_most(
            "duration_seconds",
            0.5,
            1_800,
            "median session under 30 min: longer means sessionisation broke",
        ),
        _percentile_at_most(
            "duration_seconds",
            0.9,
            14_400,
            "p90 session under 4 h: longer means sessionisation broke",
        ),
        Expect(
            "ExpectColumnMeanToBeBetween",
            {"column": "page_view_count", "min_value": 0, "max_value": 50},
            "sessions average fewer than 50 page views",
        ),
    ],
    "overview_daily": [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "completion_rate", "min_value": 0, "max_value": 1},
            "a rate is a fraction",
            distribution=False,
        ),
    ],
    "fct_whatsapp_messages": [
        Expect(
            "ExpectColumnValuesToNotBeNull",
            {"column": "contact_key", "mostly": 0.99},
            "messages name their contact",
        ),
        Expect(
            "ExpectColumnValuesToNotBeNull",
            {"column": "conversation_id", "mostly": 0.5},
            "most messages belong to a conversation: fewer means conversation logic broke",
        ),
    ],
    "whatsapp_stats_daily": [
        Expect(
            "ExpectColumnMeanToBeBetween",
            {"column": "delivery_rate", "min_value": 0.5, "max_value": 1},
            "delivery receipts arrive for most messages: a low mean means the status "
            "webhook stopped",
        ),
    ],
    "fct_conversations": [
        _percentile_at_most(
            "first_response_seconds",
            0.5,
            3_600,
            "the median first response is under an hour: longer means the bot is down",
        ),
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "csat_score", "min_value": 1, "max_value": 5},
            "CSAT scores are 1-5",
            distribution=False,
        ),
    ],
    "kra_daily": [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "escalation_rate", "min_value": 0, "max_value": 1},
            "a rate is a fraction",
            distribution=False,
        ),
    ],
    "fct_ai_classifications": [
        Expect(
            "ExpectColumnMeanToBeBetween",
            {"column": "confidence", "min_value": 0.2, "max_value": 1},
            "mean confidence collapsing means the classifier broke",
        ),
        _percentile_at_most("latency_ms", 0.9, 30_000, "p90 classification latency under 30 s"),
    ],
}


@dataclass
class MartValidation:
    """The result of one mart's suite."""

    mart: str
    row_count: int
    previous_row_count: int | None
    passed: bool
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    evaluated: int = 0
    # the stamp whose rows the row-level expectations read (None: the whole mart)
    row_level_stamp: int | None = None

    def summary(self) -> str:
        scope = (
            f" (row-level ones on the rows stamped {self.row_level_stamp})"
            if self.row_level_stamp is not None
            else ""
        )
        if self.passed:
            return f"{self.mart}: {self.evaluated} expectations passed{scope}"
        return f"{self.mart}: " + "; ".join(self.failures) + scope


def row_count_band(previous: int | None) -> tuple[int, int | None]:
    """(min, max) rows for a mart whose published version has ``previous`` rows."""
    if not previous:
        return 0, None
    return math.floor(previous * (1 - MAX_SHRINK)), previous * MAX_GROWTH_FACTOR + GROWTH_SLACK


def snake_case(kind: str) -> str:
    """GX's name of an expectation class: ExpectColumnMeanToBeBetween -> expect_column_..."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _reason_key(kind: str, kwargs: dict[str, Any]) -> tuple:
    if kind.startswith("expect_table_"):
        return (kind,)
    return (kind, kwargs.get("column"), kwargs.get("mostly"), kwargs.get("max_value"))


def _describe(result: Any, reasons: dict[tuple, str]) -> str:
    config = result.expectation_config
    kwargs = {
        k: v
        for k, v in config.kwargs.items()
        if k not in ("batch_id", "row_condition", "condition_parser")
    }
    column = kwargs.pop("column", None)
    observed = (result.result or {}).get("observed_value")
    if observed is None and (result.result or {}).get("unexpected_percent") is not None:
        observed = f"{result.result['unexpected_percent']:.1f}% unexpected"
    target = f" on {column}" if column else ""
    reason = reasons.get(_reason_key(config.type, {**kwargs, "column": column}))
    why = f": {reason}" if reason else ""
    return f"{config.type}{target} {kwargs} failed (observed {observed}){why}"


def preload() -> threading.Thread:
    """Import Great Expectations in a background thread (2-3 s of CPU), so that it is
    loaded when the suites run: the refresh starts it while dbt builds, when this process
    only waits. A later import waits for this one to finish."""

    def load() -> None:
        try:
            import great_expectations  # noqa: F401
            import great_expectations.expectations  # noqa: F401
        except Exception:  # the suites' own import then reports it
            log.debug("preloading great_expectations failed", exc_info=True)

    thread = threading.Thread(target=load, name="preload-great-expectations", daemon=True)
    thread.start()
    return thread


def _warehouse(database_url: str) -> tuple[Any, Any]:
    """An ephemeral GX context and the warehouse as its PostgreSQL data source."""
    import great_expectations as gx  # costs seconds: only when checks run

    for noisy in ("great_expectations", "great_expectations.core", "tzlocal"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_postgres(
        "warehouse",
        connection_string=database_url.replace("postgresql://", "postgresql+psycopg://", 1),
    )
    return context, source


def validate_marts(
    database_url: str,
    schema: str,
    marts: list[str],
    previous_counts: dict[str, int],
    *,
    row_count_band_enabled: bool = True,
) -> dict[str, MartValidation]:
    """Run each mart's suite on ``schema.<mart>``; ``previous_counts`` are the published
    row counts the band is measured against."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import psycopg
    from great_expectations.expectations.row_conditions import Column

    from orchestration.lib.publish import row_counts

    context, source = _warehouse(database_url)
    results: dict[str, MartValidation] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        counts = row_counts(conn, schema)
        # only the marts with a row-level expectation need their stamp
        stamps = last_stamps(
            conn,
            schema,
            [m for m in marts if any(not e.distribution for e in SUITES.get(m, []))],
        )
    for mart in marts:
        failpoint("checks.mart")
        previous = previous_counts.get(mart)
        expectations: list[Any] = []
        validation = MartValidation(mart, counts[mart], previous, passed=True)
        if row_count_band_enabled:
            low, high = row_count_band(previous)
            expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=high))
        reasons = {
            _reason_key(snake_case(expect.kind), expect.kwargs): expect.why
            for expect in SUITES.get(mart, [])
        }
        reasons[_reason_key("expect_table_row_count_to_be_between", {})] = (
            f"row count against the published mart ({previous} rows); a deliberate large "
            "change: analytics refresh --accept-row-counts"
        )
        stamp = stamps.get(mart)
        for expect in SUITES.get(mart, []):
            if expect.distribution and counts[mart] < MIN_ROWS_FOR_DISTRIBUTIONS:
                validation.skipped.append(f"{expect.kind} ({counts[mart]} rows)")
                continue
            kwargs = dict(expect.kwargs)
            if not expect.distribution and stamp is not None:
                # a where clause of the query GX runs on the table: the rows stay in it
                kwargs["row_condition"] = Column(STAMP_COLUMN) == stamp
                validation.row_level_stamp = stamp
            expectations.append(getattr(gxe, expect.kind)(**kwargs))
        if expectations:
            asset = source.add_table_asset(name=mart, table_name=mart, schema_name=schema)
            batch = asset.add_batch_definition_whole_table("whole").get_batch()
            suite = context.suites.add(gx.ExpectationSuite(name=f"{mart}_suite"))
            for expectation in expectations:
                suite.add_expectation(expectation)
            with redirect_stderr(io.StringIO()):  # GX draws progress bars on stderr
                outcome = batch.validate(suite, result_format="SUMMARY")
            validation.evaluated += len(outcome.results)
            for result in outcome.results:
                if not bool(result.success):
                    validation.passed = False
                    validation.failures.append(_describe(result, reasons))
        results[mart] = validation
        log.info("%s", validation.summary())
    return results


def last_stamps(conn: Any, schema: str, marts: list[str]) -> dict[str, int]:
    """The highest ``refreshed_load_id`` of each of ``marts`` that has the column and rows
    the last build did not write (through its index: every stamped mart has one).

    A mart whose rows all carry one stamp (after a full build) has none: its row-level
    expectations read the whole table without a condition to evaluate on every row."""
    from psycopg import sql

    stamped = {
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.columns "
            "where table_schema = %s and column_name = %s",
            (schema, STAMP_COLUMN),
        )
    }
    stamps = {}
    for mart in marts:
        if mart not in stamped:
            continue
        (first, stamp) = conn.execute(
            sql.SQL("select min({0}), max({0}) from {1}.{2}").format(
                sql.Identifier(STAMP_COLUMN), sql.Identifier(schema), sql.Identifier(mart)
            )
        ).fetchone()
        if stamp is not None and first != stamp:
            stamps[mart] = stamp
    return stamps


# Freshness of raw.events: the newest entry reached the stream at most this long ago.
FRESHNESS_MAX_AGE = datetime.timedelta(hours=2)


@dataclass
class Freshness:
    passed: bool
    newest: datetime.datetime | None
    description: str


def raw_events_freshness(
    database_url: str, max_age: datetime.timedelta = FRESHNESS_MAX_AGE
) -> Freshness:
    """Is anything arriving? The newest ``raw.events.received_at`` against ``max_age``.

    One ``max()`` read from the index on ``received_at``: plain SQL rather than a Great
    Expectations suite, whose import alone cost 2-3 s of every refresh for this one value.
    """
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        newest = conn.execute("select max(received_at) from raw.events").fetchone()[0]
    if newest is None:
        return Freshness(False, None, "raw.events is empty: nothing has been loaded yet")
    age = datetime.datetime.now(datetime.UTC) - newest
    hours = age.total_seconds() / 3600
    if age <= max_age:
        return Freshness(True, newest, f"newest event received {hours:.1f} h ago")
    return Freshness(
        False,
        newest,
        f"newest event received {hours:.1f} h ago (more than {max_age}): are the producers "
        "and the stream up? (CONTRACT.md ANALYTICS_REDIS_URL / ANALYTICS_STREAM)",
    )
