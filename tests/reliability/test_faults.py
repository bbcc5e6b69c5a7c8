"""Servers that go away (issue: faults), with the real services the project starts.

- Redis unreachable when a refresh starts: a clear error naming the URL, a non-zero exit,
  nothing written to the warehouse.
- Redis restarted during an extract, PostgreSQL restarted during an extract and during the
  dbt build of a refresh: each run ends (failing clearly, or carrying on once the server is
  back), the next run completes, and the marts equal those of a warehouse that loaded the
  same events without interruption.

A failpoint pauses the process at a chosen moment (``name=N/sleep=S``,
``extract/failpoints.py``) while the test restarts the server under it. The servers it
restarts are its own, started by `services_up` under a temporary folder: the tests other
workers run meanwhile keep theirs.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import psycopg
import pytest

from extract.config import REPO_ROOT, Settings
from generator import GeneratorConfig, generate
from orchestration.lib.services import POSTGRES, REDIS, services_down, services_up
from tests.conftest import ANALYTICS_BIN, free_ports, fresh_warehouse, run_cli
from tests.warehouse import deliver, differing, fingerprints

WAREHOUSE_SCHEMAS = ("raw", "staging", "intermediate", "marts", "marts_pii")


def test_refresh_with_redis_unreachable_fails_clearly_and_writes_nothing(
    settings: Settings,
) -> None:
    broken = settings.with_overrides(redis_url="redis://127.0.0.1:1/0")
    result = run_cli(broken, "refresh")
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("refresh FAILED at step raw__events"), last_line
    assert "redis://127.0.0.1:1/0" in last_line and "unreachable" in last_line
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        schemas = conn.execute(
            "select nspname from pg_namespace where nspname like any(%s)",
            ([f"{schema}%" for schema in WAREHOUSE_SCHEMAS],),
        ).fetchall()
    assert schemas == []


def start(settings: Settings, *args: str, failpoints: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ANALYTICS_BIN), *args],
        env={**os.environ, **settings.environ(), "ANALYTICS_FAILPOINTS": failpoints},
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def audited_batches(settings: Settings) -> int:
    try:
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=2) as conn:
            return conn.execute("select count(*) from raw.load_audit").fetchone()[0]
    except psycopg.Error:
        return 0


class OwnServers(NamedTuple):
    settings: Settings  # the warehouse and stream on them
    root: Path  # where services_up started them


@pytest.fixture()
def own_servers(base_settings: Settings, tmp_path: Path) -> Iterator[OwnServers]:
    pg_port, redis_port = free_ports(2)
    servers = OwnServers(
        base_settings.with_overrides(
            database_url=f"postgresql://postgres@127.0.0.1:{pg_port}/analytics",
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
        ),
        tmp_path / "services",
    )
    services_up(servers.settings, root=servers.root, log=lambda line: None)
    try:
        yield servers
    finally:
        services_down(servers.settings, root=servers.root, log=lambda line: None)


def restart(servers: OwnServers, service: str) -> None:
    services_down(servers.settings, root=servers.root, log=lambda line: None, only=(service,))
    services_up(servers.settings, root=servers.root, log=lambda line: None)


def finished_clearly(process: subprocess.Popen[str], server: str) -> None:
    """The interrupted run ended: carried on, or failed with one line naming the server."""
    out, err = process.communicate(timeout=300)
    if process.returncode != 0:
        assert process.returncode == 1, err[-3000:]
        assert server in (out + err), (out[-2000:], err[-2000:])
        assert "Traceback" not in err, err[-3000:]


@pytest.fixture()
def reference(base_settings: Settings):
    with fresh_warehouse(base_settings) as settings:
        yield settings


def test_servers_restarted_mid_run_then_rerun_gives_the_same_marts(
    own_servers: OwnServers, reference: Settings
) -> None:
    settings = own_servers.settings
    start_day = datetime.date.today() - datetime.timedelta(days=2)
    entries = [
        entry.payload
        for entry in generate(GeneratorConfig(days=1, seed=71, start=start_day, scale=0.5))
    ]
    parts = [entries[: len(entries) // 3], entries[len(entries) // 3 : 2 * len(entries) // 3]]
    parts.append(entries[2 * len(entries) // 3 :])
    # the refreshes below read as the same (per-host) consumer, so they take over what an
    # interrupted extract left pending at once (another consumer's only after 5 minutes)
    batch = ["--batch-size", "300"]

    # Redis restarted while the extract pauses after its third committed batch.
    deliver(settings, parts[0])
    extract = start(settings, "extract", *batch, failpoints="after_commit=3/sleep=4")
    wait_for(lambda: audited_batches(settings) >= 3)
    restart(own_servers, REDIS)
    finished_clearly(extract, "Redis")

    # PostgreSQL restarted the same way.
    deliver(settings, parts[1])
    before = audited_batches(settings)
    extract = start(settings, "extract", *batch, failpoints="after_commit=3/sleep=4")
    wait_for(lambda: audited_batches(settings) >= before + 3)
    restart(own_servers, POSTGRES)
    finished_clearly(extract, "PostgreSQL")

    # PostgreSQL restarted while dbt builds (the refresh pauses after the first model; dbt
    # goes on building meanwhile).
    deliver(settings, parts[2])
    refresh = start(
        settings, "refresh", failpoints="dbt.after.intermediate__int_events__identified/sleep=3"
    )
    wait_for(lambda: refresh.poll() is not None or _building(settings), timeout=120)
    restart(own_servers, POSTGRES)
    out, err = refresh.communicate(timeout=300)
    assert refresh.returncode == 1, out[-3000:]
    assert err.strip().splitlines()[-1].startswith("refresh FAILED at step"), err[-2000:]

    finished = run_cli(settings, "refresh")
    assert finished.returncode == 0, finished.stdout[-3000:]

    deliver(reference, entries)
    assert run_cli(reference, "refresh").returncode == 0
    after_faults, clean = fingerprints(settings.database_url), fingerprints(reference.database_url)
    assert after_faults["marts.fct_events"][0] == clean["marts.fct_events"][0] > 0
    assert not differing(after_faults, clean)


def _building(settings: Settings) -> bool:
    """dbt has built the first model of this refresh (the warehouse had none before)."""
    try:
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=2) as conn:
            return (
                conn.execute(
                    "select to_regclass('intermediate.int_events__identified')"
                ).fetchone()[0]
                is not None
            )
    except psycopg.Error:
        return False
