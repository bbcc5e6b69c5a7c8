"""`analytics services` against real servers: PostgreSQL clusters and Redis daemons started
under temporary folders on free ports, so the project's own `.local/` and ports 5432/6379
are never touched. Every fixture stops what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from extract.config import Settings
from orchestration.cli import build_parser
from orchestration.lib import services
from orchestration.lib.roles import DEVELOPMENT_ROLE_PASSWORD, PASSWORD_VARIABLES
from orchestration.lib.services import (
    ServiceError,
    ServiceStatus,
    ensure_databases,
    format_status,
    services_down,
    services_status,
    services_up,
)
from tests.conftest import free_ports

# --------------------------------------------------------------------------- helpers


def make_settings(pg_port: int, redis_port: int, dbname: str = "analytics") -> Settings:
    return Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{pg_port}/{dbname}",
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
    )


def postgres_answers(port: int) -> bool:
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def redis_answers(port: int) -> bool:
    client = redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_connect_timeout=1,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),  # the default retries with back-off take seconds
    )
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def database_names(port: int) -> set[str]:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as conn:
        return {row[0] for row in conn.execute("select datname from pg_database")}


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def new_root() -> Path:
    return Path(tempfile.mkdtemp(prefix="analytics-services-test-"))


def stop_leftovers(root: Path) -> None:
    """Safety net after `services_down`: stop servers still running from files under root."""
    pid_files = [(root / "postgres" / "data" / "postmaster.pid", "postgres")]
    pid_files.append((root / "redis" / "redis.pid", "redis"))
    for pid_file, program in pid_files:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            if services._process_alive(pid, program):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while services._process_alive(pid, "") and time.monotonic() < deadline:
                    time.sleep(0.1)
                if services._process_alive(pid, ""):
                    os.kill(pid, signal.SIGKILL)


def cleanup(settings: Settings, root: Path) -> None:
    with contextlib.suppress(ServiceError):
        services_down(settings, root=root, log=lambda _line: None)
    stop_leftovers(root)
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Started:
    root: Path
    settings: Settings
    pg_port: int
    redis_port: int
    statuses: list[ServiceStatus]
    lines: list[str] = field(default_factory=list)


@pytest.fixture(scope="module", autouse=True)
def no_role_passwords() -> Iterator[None]:
    """The servers these tests start are development servers: their roles get the
    development password, not the test session's (tests/conftest.py)."""
    with pytest.MonkeyPatch.context() as environ:
        for variable in PASSWORD_VARIABLES.values():
            environ.delenv(variable, raising=False)
        yield


@pytest.fixture(scope="module")
def started() -> Iterator[Started]:
    """PostgreSQL and Redis started once by `services_up` for the read-only tests."""
    root = new_root()
    pg_port, redis_port = free_ports(2)
    settings = make_settings(pg_port, redis_port)
    lines: list[str] = []
    try:
        statuses = services_up(settings, root=root, log=lines.append)
        yield Started(root, settings, pg_port, redis_port, statuses, lines)
    finally:
        cleanup(settings, root)


@pytest.fixture
def scratch_root() -> Iterator[Path]:
    """An empty root folder; anything started under it is stopped afterwards."""
    root = new_root()
    try:
        yield root
    finally:
        stop_leftovers(root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def foreign_redis() -> Iterator[int]:
    """A redis-server this test starts itself, i.e. one the project did not start."""
    (port,) = free_ports(1)
    work_dir = Path(tempfile.mkdtemp(prefix="analytics-foreign-redis-"))
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(work_dir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not redis_answers(port):
            assert process.poll() is None, "the test's own redis-server exited"
            assert time.monotonic() < deadline, "the test's own redis-server did not answer"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port where something that is neither PostgreSQL nor Redis accepts connections."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def by_name(statuses: list[ServiceStatus]) -> dict[str, ServiceStatus]:
    return {status.name: status for status in statuses}


# --------------------------------------------------------------------------- up / status


def test_up_starts_both_servers_and_creates_both_databases(started: Started) -> None:
    statuses = by_name(started.statuses)
    assert set(statuses) == {"postgresql", "redis"}
    for status in statuses.values():
        assert status.reachable and status.managed
        assert isinstance(status.pid, int)
    assert statuses["postgresql"].url == started.settings.database_url
    assert statuses["redis"].url == started.settings.redis_url
    assert {"analytics", "dagster"} <= database_names(started.pg_port)
    assert redis_answers(started.redis_port)
    log = "\n".join(started.lines)
    assert f"PostgreSQL: started on 127.0.0.1:{started.pg_port}" in log
    assert "postgres.log" in log
    assert "PostgreSQL: created database analytics" in log
    assert "PostgreSQL: created database dagster" in log
    assert f"Redis: started on 127.0.0.1:{started.redis_port}" in log


def test_status_reports_managed_servers_with_their_pids(started: Started) -> None:
    statuses = by_name(services_status(started.settings, root=started.root))
    assert statuses == by_name(started.statuses)

    postmaster_pid = int((started.root / "postgres/data/postmaster.pid").read_text().split()[0])
    redis_pid = int((started.root / "redis/redis.pid").read_text())
    assert statuses["postgresql"].pid == postmaster_pid
    assert statuses["redis"].pid == redis_pid
    assert statuses["postgresql"].detail == (
        f"started by the project under {started.root / 'postgres'} (port {started.pg_port})"
    )
    assert statuses["redis"].detail == (
        f"started by the project under {started.root / 'redis'} (port {started.redis_port})"
    )

    state = json.loads((started.root / "services.json").read_text())
    assert state["postgresql"]["pid"] == postmaster_pid
    assert state["postgresql"]["port"] == started.pg_port
    assert state["postgresql"]["data_dir"] == str(started.root / "postgres" / "data")
    assert state["redis"]["pid"] == redis_pid
    assert state["redis"]["port"] == started.redis_port
    assert {"name", "port", "pid", "data_dir", "started_at"} <= set(state["redis"])


def test_redis_keeps_an_append_only_file(started: Started) -> None:
    client = redis.Redis(host="127.0.0.1", port=started.redis_port)
    try:
        config = client.config_get("appendonly")
        assert config["appendonly"] == "yes"
    finally:
        client.close()
    assert (started.root / "redis" / "appendonlydir").is_dir()


def test_second_up_starts_nothing_and_reports_the_same(started: Started) -> None:
    lines: list[str] = []
    again = services_up(started.settings, root=started.root, log=lines.append)
    assert by_name(again) == by_name(started.statuses)
    assert not any("started on" in line or "created database" in line for line in lines)
    assert any(line.startswith("PostgreSQL: already running") for line in lines)
    assert any(line.startswith("Redis: already running") for line in lines)
    assert ensure_databases(started.settings) == []


def test_ensure_databases_is_safe_when_processes_race(started: Started) -> None:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{started.pg_port}/race_wh_{suffix}",
        redis_url=started.settings.redis_url,
        dagster_database_url=(
            f"postgresql://postgres@127.0.0.1:{started.pg_port}/race_dagster_{suffix}"
        ),
    )
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            results.append(ensure_databases(settings))
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        created = sorted(name for names in results for name in names)
        assert created == [f"race_dagster_{suffix}", f"race_wh_{suffix}"]
        assert {f"race_dagster_{suffix}", f"race_wh_{suffix}"} <= database_names(started.pg_port)
    finally:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{started.pg_port}/postgres", autocommit=True
        ) as conn:
            for name in (f"race_dagster_{suffix}", f"race_wh_{suffix}"):
                conn.execute(f'drop database if exists "{name}"')


def test_format_status_is_an_aligned_table(started: Started) -> None:
    table = format_status(started.statuses).splitlines()
    assert len(table) == 3
    assert table[0].split() == ["SERVICE", "URL", "REACHABLE", "MANAGED", "PID", "DETAIL"]
    for column in ("URL", "REACHABLE", "MANAGED", "PID", "DETAIL"):
        start = table[0].index(column)
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in table)
    assert str(by_name(started.statuses)["redis"].pid) in table[2]


# --------------------------------------------------------------------------- down


def test_down_stops_both_and_up_brings_back_the_same_data(scratch_root: Path) -> None:
    pg_port, redis_port = free_ports(2)
    settings = make_settings(pg_port, redis_port)
    try:
        first = by_name(services_up(settings, root=scratch_root, log=lambda _line: None))
        client = redis.Redis(host="127.0.0.1", port=redis_port)
        client.xadd("analytics:events", {"event": "{}"})
        client.close()
        # an operator's ALTER SYSTEM outlives the settings file rewritten at every start
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("alter system set max_wal_size = '2GB'")

        lines: list[str] = []
        after = by_name(services_down(settings, root=scratch_root, log=lines.append))
        assert not postgres_answers(pg_port)
        assert not redis_answers(redis_port)
        for status in after.values():
            assert not status.reachable and not status.managed and status.pid is None
            assert status.detail == "not running"
        for status in first.values():
            assert status.pid is not None
            assert not services._process_alive(status.pid, "")
        assert json.loads((scratch_root / "services.json").read_text()) == {}
        assert any(line.startswith("PostgreSQL: stopped the project's server") for line in lines)
        assert any(line.startswith("Redis: stopped the project's server") for line in lines)

        lines.clear()
        services_down(settings, root=scratch_root, log=lines.append)
        assert lines == [
            "PostgreSQL: not started by the project; nothing to stop",
            "Redis: not started by the project; nothing to stop",
        ]

        # A restart reuses the cluster and the append-only file.
        lines.clear()
        services_up(settings, root=scratch_root, log=lines.append)
        assert not any("initialising" in line or "created database" in line for line in lines)
        client = redis.Redis(host="127.0.0.1", port=redis_port)
        assert client.xlen("analytics:events") == 1
        client.close()
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            assert conn.execute("show max_wal_size").fetchone()[0] == "2GB"
    finally:
        cleanup(settings, scratch_root)


def test_down_never_stops_a_server_it_did_not_start(
    started: Started, foreign_redis: int, scratch_root: Path
) -> None:
    # Both servers exist already: the module's PostgreSQL belongs to another root.
    settings = make_settings(started.pg_port, foreign_redis)
    lines: list[str] = []
    statuses = by_name(services_up(settings, root=scratch_root, log=lines.append))
    for status in statuses.values():
        assert status.reachable and not status.managed and status.pid is None
        assert status.detail == "existing server, not managed"
    assert f"Redis: using the existing server at redis://127.0.0.1:{foreign_redis}/0" in lines[-1]
    assert not (scratch_root / "redis").exists()
    assert not (scratch_root / "postgres").exists()

    after = by_name(services_down(settings, root=scratch_root, log=lambda _line: None))
    assert redis_answers(foreign_redis)
    assert postgres_answers(started.pg_port)
    assert all(status.reachable and not status.managed for status in after.values())

    # Seen from its own root, the module's PostgreSQL is still the project's.
    from_owner = by_name(services_status(settings, root=started.root))
    assert from_owner["postgresql"].managed
    assert not from_owner["redis"].managed


def test_unreachable_remote_postgres_is_an_error_naming_the_url(scratch_root: Path) -> None:
    (redis_port,) = free_ports(1)
    settings = Settings(
        database_url="postgresql://analyst:s3cret@db.invalid:5432/analytics",
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
    )
    with pytest.raises(ServiceError) as error:
        services_up(settings, root=scratch_root, log=lambda _line: None)
    message = str(error.value)
    assert "postgresql://analyst:***@db.invalid:5432/analytics" in message
    assert "only starts servers on localhost" in message
    assert "s3cret" not in message
    assert not (scratch_root / "postgres").exists()
    assert not redis_answers(redis_port)


def test_unreachable_remote_redis_is_an_error_naming_the_url(
    started: Started, scratch_root: Path
) -> None:
    settings = Settings(
        database_url=started.settings.database_url,
        redis_url="redis://:s3cret@redis.invalid:6379/0",
    )
    with pytest.raises(ServiceError) as error:
        services_up(settings, root=scratch_root, log=lambda _line: None)
    message = str(error.value)
    assert "redis://:***@redis.invalid:6379/0" in message
    assert "only starts servers on localhost" in message
    assert "s3cret" not in message


def test_a_port_taken_by_something_else_is_an_error(
    started: Started, busy_port: int, scratch_root: Path
) -> None:
    for settings, label in (
        (make_settings(busy_port, started.redis_port), "PostgreSQL"),
        (make_settings(started.pg_port, busy_port), "Redis"),
    ):
        with pytest.raises(ServiceError) as error:
            services_up(settings, root=scratch_root, log=lambda _line: None)
        assert f"{label}: port {busy_port} on 127.0.0.1 is taken by something" in str(error.value)
    assert not (scratch_root / "postgres").exists()
    assert not (scratch_root / "redis").exists()


# --------------------------------------------------------------------------- bad state


def write_stale_state(root: Path, pg_port: int, redis_port: int) -> int:
    """A state file whose servers have died (pid files left behind); returns the dead pid."""
    pid = dead_pid()
    (root / "redis").mkdir(parents=True)
    (root / "redis" / "redis.pid").write_text(f"{pid}\n")
    state = {
        "postgresql": {
            "name": "postgresql",
            "port": pg_port,
            "pid": pid,
            "data_dir": str(root / "postgres" / "data"),
            "started_at": "2026-01-01T00:00:00+00:00",
        },
        "redis": {
            "name": "redis",
            "port": redis_port,
            "pid": pid,
            "data_dir": str(root / "redis"),
            "started_at": "2026-01-01T00:00:00+00:00",
        },
    }
    (root / "services.json").write_text(json.dumps(state))
    return pid


def test_stale_state_is_reported_and_forgotten_by_down(
    started: Started, scratch_root: Path
) -> None:
    (redis_port,) = free_ports(1)
    settings = make_settings(started.pg_port, redis_port)
    write_stale_state(scratch_root, started.pg_port, redis_port)

    statuses = by_name(services_status(settings, root=scratch_root))
    assert statuses["postgresql"].reachable and not statuses["postgresql"].managed
    assert statuses["postgresql"].detail == "existing server, not managed"
    assert not statuses["redis"].reachable and not statuses["redis"].managed
    assert statuses["redis"].detail.startswith("not running (the project's Redis under")

    lines: list[str] = []
    services_down(settings, root=scratch_root, log=lines.append)
    assert sum("no longer running; forgetting it" in line for line in lines) == 2
    assert json.loads((scratch_root / "services.json").read_text()) == {}
    assert postgres_answers(started.pg_port)


def test_up_replaces_stale_state_with_a_fresh_server(started: Started, scratch_root: Path) -> None:
    (redis_port,) = free_ports(1)
    settings = make_settings(started.pg_port, redis_port)
    stale_pid = write_stale_state(scratch_root, started.pg_port, redis_port)
    try:
        lines: list[str] = []
        statuses = by_name(services_up(settings, root=scratch_root, log=lines.append))
        assert any("no longer running; forgetting it" in line for line in lines)
        assert statuses["redis"].managed and statuses["redis"].pid not in (None, stale_pid)
        assert not statuses["postgresql"].managed and statuses["postgresql"].reachable
        state = json.loads((scratch_root / "services.json").read_text())
        assert set(state) == {"redis"}
        assert state["redis"]["pid"] == statuses["redis"].pid
    finally:
        services_down(settings, root=scratch_root, log=lambda _line: None)
    assert not redis_answers(redis_port)
    assert postgres_answers(started.pg_port)


def test_unreadable_state_file_is_an_error_naming_it(started: Started, scratch_root: Path) -> None:
    (scratch_root / "services.json").write_text("{not json")
    with pytest.raises(ServiceError) as error:
        services_status(started.settings, root=scratch_root)
    assert str(scratch_root / "services.json") in str(error.value)


def test_servers_listen_on_localhost_only_and_ask_roles_for_passwords(started: Started) -> None:
    with psycopg.connect(started.settings.database_url, autocommit=True) as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
        # the project's roles exist on its own server, with the development password
        logins = dict(
            conn.execute(
                "select rolname, rolcanlogin from pg_roles where rolname like 'analytics\\_%'"
            ).fetchall()
        )
    assert logins == {"analytics_loader": True, "analytics_bi": True, "analytics_pii": True}
    bi = f"postgresql://analytics_bi:{DEVELOPMENT_ROLE_PASSWORD}@127.0.0.1:{started.pg_port}/analytics"
    psycopg.connect(bi).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bi.replace(DEVELOPMENT_ROLE_PASSWORD, "wrong")).close()
    client = redis.Redis(host="127.0.0.1", port=started.redis_port)
    assert client.config_get("bind")["bind"] == "127.0.0.1"


def test_the_server_runs_with_the_warehouse_settings(started: Started) -> None:
    data_dir = started.root / "postgres" / "data"
    expected = services.server_settings(
        services._memory_bytes(), services._wal_compression(services._postgres_bindir(data_dir))
    )
    assert expected["wal_compression"] in {"lz4", "pglz"}
    with psycopg.connect(started.settings.database_url, autocommit=True) as conn:
        for name, value in expected.items():
            if name in {"shared_buffers", "effective_cache_size", "max_wal_size"}:
                same = conn.execute(
                    "select pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", (name, value)
                ).fetchone()[0]
                assert same, (name, value, conn.execute(f"show {name}").fetchone()[0])
            else:
                assert conn.execute(f"show {name}").fetchone()[0] == value, name
        # above PostgreSQL's defaults (128MB, 1GB) on any machine
        assert (
            conn.execute("select pg_size_bytes(current_setting('max_wal_size'))").fetchone()[0]
            > 1024**3
        )


def test_server_settings_scale_with_memory_within_bounds() -> None:
    gib = 1024**3
    assert services.server_settings(24 * gib, "lz4")["shared_buffers"] == "3072MB"
    assert services.server_settings(64 * gib, "lz4")["shared_buffers"] == "4096MB"
    assert services.server_settings(0, "pglz")["shared_buffers"] == "128MB"
    assert services.server_settings(0, "pglz")["effective_cache_size"] == "512MB"
    assert services.server_settings(8 * gib, "pglz")["effective_cache_size"] == "6144MB"


def test_the_ui_and_the_docs_server_default_to_localhost() -> None:
    parser = build_parser()
    assert parser.parse_args(["dev"]).host == "127.0.0.1"
    assert parser.parse_args(["docs"]).host == "127.0.0.1"


def test_a_redis_still_loading_a_large_file_is_waited_for_and_kept_managed(
    scratch_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a crash, the project's Redis reads its append-only file before it answers
    ("Redis is loading the dataset in memory"): minutes for a large stream. `up` waits for
    it, saying so, and records it as started by the project, however long that takes
    beyond the start timeout (made tiny here)."""
    (port,) = free_ports(1)
    work_dir = scratch_root / "redis"
    work_dir.mkdir()
    # the files a crashed project Redis leaves: an append-only file of 3 M keys
    writer = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--dir", str(work_dir), "--appendonly", "yes", "--save", "",
         "--enable-debug-command", "local"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            time.sleep(0.1)
        client.execute_command("DEBUG", "POPULATE", 3_000_000)
        client.bgrewriteaof()
        while client.info("persistence")["aof_rewrite_in_progress"]:
            time.sleep(0.1)
        client.shutdown(nosave=True)
    except BaseException:
        writer.kill()
        raise
    writer.wait(timeout=30)

    monkeypatch.setattr(services, "START_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(services, "RECOVERY_NOTE_SECONDS", 0.2)
    lines: list[str] = []
    settings = make_settings(free_ports(1)[0], port)
    state: dict = {}
    services._up_redis(services._endpoints(settings)[1], scratch_root, state, lines.append)

    assert any("still recovering" in line and "loading" in line for line in lines), lines
    assert client.dbsize() == 3_000_000
    recorded = json.loads((scratch_root / "services.json").read_text())
    assert recorded["redis"]["pid"] == client.info("server")["process_id"]
