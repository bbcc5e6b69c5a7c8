"""`make demo`'s path end to end: generate the demo week, refresh through Dagster, compare."""

from __future__ import annotations

import psycopg

from extract.config import Settings
from tests.conftest import DemoWarehouse, run_cli
from tests.warehouse import differing, fingerprints


def test_demo_week_lands_exactly_what_the_generator_produced(
    demo_warehouse: DemoWarehouse,
) -> None:
    settings, truth, refreshed = demo_warehouse
    assert refreshed.returncode == 0, refreshed.stdout[-3000:] + refreshed.stderr[-3000:]
    assert "refresh succeeded" in refreshed.stdout
    with psycopg.connect(settings.database_url) as db:
        loaded = db.execute("select count(*) from raw.events").fetchone()[0]
        assert loaded == truth["accepted_events"]
        staged = db.execute("select count(*) from staging.stg_raw__events").fetchone()[0]
        assert staged == truth["accepted_events"]
        reasons = dict(db.execute("select reason, count(*) from raw.rejected_events group by 1"))
        assert reasons == {k: v for k, v in truth["rejected_by_reason"].items() if v}
        by_name = dict(db.execute("select event_name, count(*) from raw.events group by 1"))
        assert by_name == {k: v for k, v in truth["events_by_name"].items() if v}
        audit = db.execute(
            "select sum(entries), sum(duplicates), sum(replayed) from raw.load_audit"
        ).fetchone()
        assert audit == (truth["entries_pushed"], truth["duplicate_deliveries"], 0)

    # The run is Dagster's own, recorded in its PostgreSQL storage like a scheduled one.
    run_id = refreshed.stdout.strip().splitlines()[-1].split("run ")[-1].rstrip(")")
    with psycopg.connect(settings.dagster_database_url) as dagster_db:
        status = dagster_db.execute(
            "select status from runs where run_id = %s", (run_id,)
        ).fetchone()
    assert status == ("SUCCESS",)


def test_a_second_refresh_with_nothing_new_changes_nothing(
    demo_warehouse: DemoWarehouse,
) -> None:
    settings = demo_warehouse.settings
    with psycopg.connect(settings.database_url, autocommit=True) as db:
        counts = db.execute("select count(*) from raw.events").fetchone()[0]
    before = fingerprints(settings.database_url)

    again = run_cli(settings, "refresh")

    assert again.returncode == 0, again.stderr[-2000:]
    with psycopg.connect(settings.database_url, autocommit=True) as db:
        assert db.execute("select count(*) from raw.events").fetchone()[0] == counts
    after = fingerprints(settings.database_url)
    assert before["marts.fct_events"][0] > 0
    assert not differing(before, after)


def test_refresh_with_redis_unreachable_fails_in_one_clear_line(
    settings: Settings, db: psycopg.Connection
) -> None:
    broken = settings.with_overrides(redis_url="redis://127.0.0.1:1/0")

    refreshed = run_cli(broken, "refresh")

    assert refreshed.returncode != 0
    last_line = refreshed.stderr.strip().splitlines()[-1]
    assert "refresh FAILED at step raw__events" in last_line
    assert "redis://127.0.0.1:1/0" in last_line
    assert db.execute("select count(*) from pg_namespace where nspname = 'raw'").fetchone() == (0,)
