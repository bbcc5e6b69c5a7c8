"""The refresh killed with SIGKILL at many points of the whole job (extract, enrichment,
dbt build, checks, publish), then run again: the marts equal those of a warehouse that
loaded the same events with one uninterrupted refresh. No event lost, none counted twice.

Each refresh below dies at the next point (failpoints, `extract/failpoints.py`: the process
kills itself there exactly as an out-of-memory kill would; dbt, its child, dies with it).
The next refresh is the rerun after that crash, and is itself killed further on, so every
point is crossed by a rerun after a crash; new events arrive twice along the way. A last
refresh runs to the end. The same events go to a second, fresh warehouse in one go and one
refresh; every published mart must be identical, row for row.
"""

from __future__ import annotations

import datetime

import psycopg
import pytest

from extract.config import Settings
from generator import GeneratorConfig, generate
from tests.conftest import fresh_warehouse, run_cli
from tests.warehouse import deliver, differing, fingerprints

# In the order a refresh reaches them. Left out, as states another point already leaves:
# the extract's kill before its commit (tests/extract/test_load.py kills the extract at
# each of its points), a kill after the staging views or a second intermediate model, and
# one while Great Expectations reads the built marts (built, not published: the state a
# kill inside the publish transaction leaves).
KILL_POINTS = (
    "refresh.locked",  # the refresh lock taken, nothing else done: the lock must not outlive it
    "mid_copy",  # extract: the batch half copied into the temporary table
    "after_commit",  # extract: committed, not acknowledged in Redis
    "enrich.before_commit",  # (after its commit is the state of the next point)
    "dbt.after.intermediate__int_events__identified",
    "dbt.after.intermediate__int_changed_days",  # the days log written, no mart yet
    "dbt.after.marts__fct_events",  # one incremental mart caught up, the others not
    "publish.before_commit",  # schemas swapped, not committed
    "publish.after_commit",  # published; the replaced marts are the next build
)
EXTRACT_POINTS = ("mid_copy", "after_commit")


def _events() -> list[list[str]]:
    start = datetime.date.today() - datetime.timedelta(days=2)
    entries = [
        e.payload for e in generate(GeneratorConfig(days=1, seed=61, start=start, scale=0.4))
    ]
    third = len(entries) // 3
    return [entries[:third], entries[third : 2 * third], entries[2 * third :]]


def _refresh(settings: Settings, failpoint: str | None = None):
    env = {"ANALYTICS_FAILPOINTS": failpoint} if failpoint else None
    return run_cli(settings, "refresh", env=env)


@pytest.fixture()
def reference(base_settings: Settings):
    with fresh_warehouse(base_settings) as settings:
        yield settings


def test_sigkill_anywhere_in_the_refresh_then_rerun_gives_the_same_marts(
    settings: Settings, reference: Settings
) -> None:
    parts = _events()
    deliver(settings, parts[0])
    assert _refresh(settings).returncode == 0  # something published to lose, or keep
    deliver(settings, parts[0][:50])  # and producer retries
    for point in KILL_POINTS:
        if point in EXTRACT_POINTS:  # the extract needs new events to die in
            n = EXTRACT_POINTS.index(point)
            deliver(settings, parts[1][n * 100 : (n + 1) * 100])
        elif point == "enrich.before_commit":
            deliver(settings, parts[1][len(EXTRACT_POINTS) * 100 :])
        elif point == "dbt.after.marts__fct_events":
            deliver(settings, parts[2])
        killed = _refresh(settings, point)
        assert killed.returncode == -9, (point, killed.stdout[-2000:], killed.stderr[-2000:])
    finished = _refresh(settings)
    assert finished.returncode == 0, finished.stdout[-3000:]

    deliver(reference, [payload for part in parts for payload in part])
    assert _refresh(reference).returncode == 0

    crashed, clean = fingerprints(settings.database_url), fingerprints(reference.database_url)
    assert crashed["marts.fct_events"][0] == clean["marts.fct_events"][0] > 0
    assert not differing(crashed, clean)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        schemas = {
            row[0]
            for row in conn.execute("select nspname from pg_namespace where nspname like 'marts%%'")
        }
    # the published marts and the next build, nothing a crashed swap left half-renamed
    assert schemas == {"marts", "marts_pii", "marts_build", "marts_pii_build"}, schemas
