"""Shared fixtures: the real PostgreSQL and Redis, a fresh database and stream per test.

`make test` runs the suite on several pytest-xdist workers (one per core). Every test has a
database and a stream key of its own; what the workers share is the server's roles, the dbt
manifest and the session's demo warehouse, handled here:

- the roles are cluster-wide and every refresh sets their passwords (``setup_roles``): the
  session sets them once in the environment, before any worker starts, so every refresh of
  every worker sets the same ones;
- the manifest is parsed once, by the process that starts the workers;
- the tests that read the demo warehouse (or refresh it again) run on one worker, which
  builds it once; every other module runs whole on one worker, so module fixtures are
  built once (``pytest_xdist_make_scheduler``); the longest of these start first.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psycopg
import pytest
import redis

from extract.config import REPO_ROOT, Settings, load_settings, with_database
from orchestration.lib.roles import PASSWORD_VARIABLES

ANALYTICS_BIN = Path(sys.executable).parent / "analytics"
DEMO_GROUP = "demo_warehouse"

# Set at import, in the process that starts the workers: they inherit its environment.
for _variable in PASSWORD_VARIABLES.values():
    os.environ.setdefault(_variable, f"test-{_variable.lower()}-{uuid.uuid4().hex[:8]}")


def pytest_configure(config: pytest.Config) -> None:
    """A fresh dbt manifest, as the make targets prepare it (it is never committed); parsed
    once, before any worker starts (a worker's ``config`` has ``workerinput``)."""
    if not hasattr(config, "workerinput"):
        from orchestration.lib.dbt_project import prepare_manifest

        prepare_manifest(force=True)


# The files whose tests read the session's demo warehouse: one work unit, so that one
# worker builds it once (checked at collection: a file that uses it must be listed).
DEMO_FILES = frozenset(
    {
        "tests/test_demo_path.py",
        "tests/marts/test_ai_marts.py",
        "tests/marts/test_day_order.py",
        "tests/marts/test_documented_queries.py",
        "tests/marts/test_user_activity.py",
        "tests/marts/test_web_marts.py",
        "tests/marts/test_whatsapp_marts.py",
        "tests/security/test_personal_data.py",
        "tests/security/test_roles.py",
    }
)
# Work units started first, longest first (each several minutes: refreshes of warehouses
# of their own), so that the short ones fill the gaps at the end. Measured on two workers.
LONGEST_FIRST = (
    DEMO_GROUP,
    "tests/reliability/test_kill_refresh.py",
    "tests/orchestration/test_refresh_equals_full_rebuild.py",
    "tests/orchestration/test_write_audit_publish.py",
    "tests/orchestration/test_late_data.py",
    "tests/reliability/test_faults.py",
    "tests/reliability/test_load.py",
)


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the demo warehouse's group."""
    path = nodeid.split("::", 1)[0]
    return DEMO_GROUP if path in DEMO_FILES else path


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Whole work units to one worker each (``work_unit``), in the collection's order.

    pytest-xdist's own ``--dist loadgroup`` marks the group in the test's node id, which
    pytest 9 no longer lets a plugin change: every test went to whichever worker was free,
    so the demo warehouse and each module's fixtures were built on both workers."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # keep LONGEST_FIRST's order, not test counts
    return WorkUnitScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest work units first (``LONGEST_FIRST``), each file's tests in their order."""
    unlisted = sorted(
        {
            item.nodeid.split("::", 1)[0]
            for item in items
            if DEMO_GROUP in item.fixturenames and work_unit(item.nodeid) != DEMO_GROUP
        }
    )
    if unlisted:
        raise pytest.UsageError(
            f"{', '.join(unlisted)} read the demo warehouse: add them to DEMO_FILES in "
            "tests/conftest.py, so that one worker builds it once"
        )
    rank = {unit: n for n, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """The configured servers, started under .local/ when unreachable (as `make test` does)."""
    from orchestration.lib.services import services_up

    settings = load_settings()
    services_up(settings, log=lambda line: None)
    return settings


def _admin_url(settings: Settings) -> str:
    return with_database(settings.database_url, "postgres")


@contextmanager
def fresh_warehouse(base_settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a new, empty database and a new stream key; both removed after."""
    suffix = uuid.uuid4().hex[:12]
    dbname = f"test_{suffix}"
    with psycopg.connect(_admin_url(base_settings), autocommit=True) as admin:
        admin.execute(f'create database "{dbname}"')
    test_settings = base_settings.with_overrides(
        database_url=with_database(base_settings.database_url, dbname),
        stream=f"test:{suffix}",
    )
    try:
        yield test_settings
    finally:
        redis.Redis.from_url(base_settings.redis_url).delete(test_settings.stream)
        with psycopg.connect(_admin_url(base_settings), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{dbname}" with (force)')


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on right now (held open together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture()
def settings(base_settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a new, empty database and a new stream key."""
    with fresh_warehouse(base_settings) as test_settings:
        yield test_settings


class DemoWarehouse(NamedTuple):
    settings: Settings
    truth: dict
    refresh: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def demo_warehouse(base_settings: Settings, tmp_path_factory) -> Iterator[DemoWarehouse]:
    """`make demo`'s path once for the session: the demo week generated, then refreshed."""
    with fresh_warehouse(base_settings) as demo_settings:
        truth_file = tmp_path_factory.mktemp("demo") / "truth.json"
        generated = run_cli(
            demo_settings, "generate", "--days", "7", "--seed", "42",
            "--truth-file", str(truth_file),
        )  # fmt: skip
        assert generated.returncode == 0, generated.stderr
        refreshed = run_cli(demo_settings, "refresh")
        yield DemoWarehouse(demo_settings, json.loads(truth_file.read_text())["truth"], refreshed)


@pytest.fixture()
def db(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture()
def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


def run_cli(
    settings: Settings, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the installed `analytics` command against these settings."""
    return subprocess.run(
        [str(ANALYTICS_BIN), *args],
        env={**os.environ, **settings.environ(), **(env or {})},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
