"""Write-audit-publish and one refresh at a time, through `analytics refresh` and the job.

BI tools read `marts`; a refresh builds into `marts_build`, checks there, and swaps. These
tests feed data that breaks a dbt test and data that breaks a Great Expectations suite, and
read the published marts while a refresh publishes.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid

import dagster as dg
import psycopg
import pytest
import redis

from extract.config import Settings
from orchestration.lib.refresh_lock import RefreshLock
from tests.conftest import run_cli

START = datetime.date.today() - datetime.timedelta(days=3)
# A BI tool's view of the marts: two tables that must agree, read in one statement.
BI_QUERY = """
select
    (select count(*) from marts.fct_sessions),
    (select coalesce(sum(sessions), 0) from marts.overview_daily),
    (select count(*) from marts.fct_ai_classifications)
"""
FINGERPRINT = """
select md5(string_agg(row_text, '' order by row_text)) from (
    select t::text as row_text from marts.kra_daily as t
    union all select t::text from marts.ai_stats_daily as t
    union all select t::text from marts.overview_daily as t
) as rows
"""


def _generate(settings: Settings, day: datetime.date, seed: int) -> None:
    generated = run_cli(
        settings, "generate", "--days", "1", "--seed", str(seed), "--start", day.isoformat()
    )
    assert generated.returncode == 0, generated.stderr


def _push_classifications(settings: Settings, count: int, confidence: float) -> None:
    """Valid events (CONTRACT.md section 3 leaves properties to producers) whose values
    break the marts' checks."""
    client = redis.Redis.from_url(settings.redis_url)
    pipe = client.pipeline()
    moment = datetime.datetime.combine(START, datetime.time(12), datetime.UTC)
    for n in range(count):
        event = {
            "eventId": f"bad-{uuid.uuid4()}",
            "name": "ai.classification",
            "timestamp": (moment + datetime.timedelta(seconds=n)).isoformat(),
            "properties": {
                "contact": "+254712000111",
                "intent": "nil_return",
                "confidence": confidence,
                "latencyMs": 300,
                "model": "intent-clf-v3",
            },
        }
        pipe.xadd(settings.stream, {"event": json.dumps(event)})
    pipe.execute()


def _read(settings: Settings, query: str) -> tuple:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return conn.execute(query).fetchone()


class _BiReader(threading.Thread):
    """Runs BI_QUERY in a loop, as a dashboard would, until stopped."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.seen: set[tuple] = set()
        self.reads = 0
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
            while not self._halt.is_set():
                try:
                    self.seen.add(conn.execute(BI_QUERY).fetchone())
                    self.reads += 1
                except psycopg.Error as error:  # pragma: no cover - reported by the test
                    self.errors.append(str(error))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def test_marts_are_published_whole_and_only_when_every_check_passed(settings: Settings) -> None:
    _generate(settings, START, seed=11)
    first = run_cli(settings, "refresh")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    before = _read(settings, BI_QUERY)
    assert before[0] > 0 and before[0] == before[1]

    # A second day arrives while a dashboard keeps reading: every read sees the old marts
    # or the new ones, whole, never a mix and never an error.
    _generate(settings, START + datetime.timedelta(days=1), seed=12)
    reader = _BiReader(settings)
    reader.start()
    second = run_cli(settings, "refresh")
    reader.stop()
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    after = _read(settings, BI_QUERY)
    assert after[0] > before[0]
    assert not reader.errors
    assert reader.reads > 10
    assert reader.seen <= {before, after}, reader.seen
    published = _read(settings, FINGERPRINT)

    # Data that passes dbt's tests but breaks a Great Expectations suite: 8,000 valid
    # classifications with a collapsed confidence. The run fails naming the check and the
    # mart; the published marts stay as they were.
    _push_classifications(settings, 8000, confidence=0.01)
    gx_failed = run_cli(settings, "refresh")
    assert gx_failed.returncode == 1
    assert "great_expectations on marts/fct_ai_classifications" in gx_failed.stderr
    assert _read(settings, FINGERPRINT) == published
    assert _read(settings, BI_QUERY) == after

    # Data that breaks a dbt test: a confidence of 7.5 (CONTRACT.md: 0-1).
    _push_classifications(settings, 1, confidence=7.5)
    dbt_failed = run_cli(settings, "refresh")
    assert dbt_failed.returncode == 1
    assert "dbt_models" in dbt_failed.stderr and "fct_ai_classifications" in dbt_failed.stderr
    assert "row_rules_fct_ai_classifications" in dbt_failed.stderr
    assert "broken: confidence >= 0 and <= 1 (1 row)" in dbt_failed.stderr
    assert _read(settings, FINGERPRINT) == published
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        # the events are kept in raw, and nothing is left half-published
        assert conn.execute(
            "select count(*) from raw.events where event_id like 'bad-%'"
        ).fetchone() == (8001,)
        schemas = {row[0] for row in conn.execute("select nspname from pg_namespace")}
    assert {"marts", "marts_pii"} <= schemas
    assert not any("_previous_" in name for name in schemas)


def test_a_second_refresh_exits_while_one_is_running(settings: Settings) -> None:
    with RefreshLock(settings.database_url, "test-holder") as held:
        held.acquire()
        refused = run_cli(settings, "refresh")
        waited = run_cli(settings, "refresh", "--wait", "1")
    assert refused.returncode == 3
    assert "another refresh is running" in refused.stderr
    assert "analytics-refresh test-holder" in refused.stderr  # who holds it
    assert waited.returncode == 3
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        schemas = {row[0] for row in conn.execute("select nspname from pg_namespace")}
    assert "raw" not in schemas  # nothing was touched


def test_the_job_itself_takes_the_lock_for_scheduled_runs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run launched by the daemon (not the CLI) refuses to run beside another refresh."""
    from orchestration.definitions import defs
    from orchestration.defs.schedules import REFRESH_JOB_NAME

    for name, value in settings.environ().items():
        monkeypatch.setenv(name, value)
    job = defs().resolve_job_def(REFRESH_JOB_NAME)
    with RefreshLock(settings.database_url, "test-holder") as held:
        held.acquire()
        with dg.instance_for_test() as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    reported = " ".join(
        f"{event.message} {event.event_specific_data}" for event in result.all_events
    )
    assert "another refresh is running" in reported
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert conn.execute(
            "select count(*) from pg_namespace where nspname = 'raw'"
        ).fetchone() == (0,)
