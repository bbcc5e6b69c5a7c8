"""The warehouse roles (CONTRACT.md section 4), each tried by connecting as it: what it can
and cannot read or write. The demo warehouse is the one `make demo` builds (its refresh
created the roles and published the marts)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import redis

from extract.config import Settings
from extract.load import run_extract
from extract.schema import ensure_raw_schema
from orchestration.lib.roles import BI, LOADER, PASSWORD_VARIABLES, PII, ensure_roles
from tests.conftest import DemoWarehouse, fresh_warehouse, run_cli

# The session's passwords (tests/conftest.py): every refresh, of any worker, sets these.
PASSWORDS = {role: os.environ[PASSWORD_VARIABLES[role]] for role in (LOADER, BI, PII)}


def role_url(settings: Settings, role: str, password: str | None = None) -> str:
    target = settings.postgres
    return (
        f"postgresql://{role}:{password or PASSWORDS[role]}@{target.host}:{target.port}/"
        f"{target.dbname}"
    )


@pytest.fixture(scope="module")
def warehouse(demo_warehouse: DemoWarehouse) -> Settings:
    assert demo_warehouse.refresh.returncode == 0, demo_warehouse.refresh.stdout[-2000:]
    ensure_roles(demo_warehouse.settings.database_url, PASSWORDS)
    return demo_warehouse.settings


@pytest.fixture()
def connect(warehouse: Settings) -> Iterator:
    opened: list[psycopg.Connection] = []

    def _connect(role: str) -> psycopg.Connection:
        conn = psycopg.connect(role_url(warehouse, role), autocommit=True)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()


def can(conn: psycopg.Connection, statement: str) -> bool:
    """Whether ``statement`` is allowed (run in a transaction that is rolled back)."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def test_bi_reads_marts_only(connect) -> None:
    bi = connect(BI)
    assert bi.execute("select count(*) from marts.fct_sessions").fetchone()[0] > 0
    assert can(bi, "select * from marts.kra_daily limit 1")
    for denied in (
        "select * from marts_pii.dim_user_traits limit 1",
        "select * from raw.events limit 1",
        "select * from raw.event_enrichment limit 1",
        "select * from intermediate.int_events__identified limit 1",
        "select * from staging.stg_raw__events limit 1",
        "delete from marts.fct_sessions",
        "create table marts.mine (x int)",
        "create table public.mine (x int)",
    ):
        assert not can(bi, denied), denied


def test_pii_reads_marts_and_marts_pii_only(connect) -> None:
    pii = connect(PII)
    assert can(pii, "select * from marts.fct_conversations limit 1")
    assert pii.execute("select count(*) from marts_pii.dim_user_traits").fetchone()[0] > 0
    for denied in (
        "select * from raw.events limit 1",
        "select * from intermediate.int_conversations limit 1",
        "update marts_pii.dim_user_traits set email = null",
    ):
        assert not can(pii, denied), denied


def test_loader_runs_the_extract_and_writes_nothing_else(settings: Settings) -> None:
    # a warehouse of its own: the demo warehouse's raw tables must stay as generated
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        ensure_raw_schema(conn)
    ensure_roles(settings.database_url, PASSWORDS)
    client = redis.Redis.from_url(settings.redis_url)
    event_id = f"loader-{uuid.uuid4()}"
    client.xadd(
        settings.stream,
        {"event": json.dumps({"eventId": event_id, "name": "page_view",
                              "timestamp": "2026-01-05T09:00:00Z"})},
    )  # fmt: skip
    as_loader = settings.with_overrides(database_url=role_url(settings, LOADER))
    result = run_extract(as_loader)
    assert result.loaded == 1
    with psycopg.connect(role_url(settings, LOADER), autocommit=True) as loader:
        assert (
            loader.execute(
                "select count(*) from raw.events where event_id = %s", (event_id,)
            ).fetchone()[0]
            == 1
        )
        for denied in (
            "delete from raw.events",
            "update raw.load_audit set loaded = 0",
            "create table raw.mine (x int)",
            "create schema mine",
        ):
            assert not can(loader, denied), denied


def test_loader_reads_nothing_outside_raw(connect) -> None:
    loader = connect(LOADER)
    for denied in (
        "select * from raw.event_enrichment limit 1",
        "select * from marts.fct_events limit 1",
        "select * from intermediate.int_events__identified limit 1",
        "select * from staging.stg_raw__events limit 1",
    ):
        assert not can(loader, denied), denied


def test_a_wrong_password_is_refused(warehouse: Settings) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(role_url(warehouse, BI, password="not-the-password")).close()


def test_grants_survive_publishing(warehouse: Settings, connect) -> None:
    # the refresh sets the roles' passwords from the environment, as in production
    environ = {PASSWORD_VARIABLES[role]: password for role, password in PASSWORDS.items()}
    refreshed = run_cli(warehouse, "refresh", env=environ)
    assert refreshed.returncode == 0, refreshed.stdout[-2000:]
    assert can(connect(BI), "select * from marts.fct_sessions limit 1")
    assert can(connect(PII), "select * from marts_pii.dim_user_traits limit 1")
    assert not can(connect(BI), "select * from marts_pii.dim_user_traits limit 1")


def test_set_ups_of_two_warehouses_at_once_do_not_collide(base_settings: Settings) -> None:
    """The roles are cluster-wide: two warehouses on one server (or two test workers) set
    them up at the same moment, each under its own database's lock."""
    with fresh_warehouse(base_settings) as one, fresh_warehouse(base_settings) as two:

        def set_up(database_url: str) -> int:
            for _ in range(15):
                report = ensure_roles(database_url, PASSWORDS)
                assert set(report.login) == {LOADER, BI, PII}
            return 15

        urls = [one.database_url, two.database_url] * 2
        with ThreadPoolExecutor(len(urls)) as pool:
            assert sum(pool.map(set_up, urls)) == 15 * len(urls)
        for warehouse in (one, two):
            with psycopg.connect(role_url(warehouse, BI), autocommit=True) as bi:
                assert bi.execute("select current_user").fetchone() == (BI,)
