"""Local PostgreSQL and Redis for development and CI: ``analytics services up|down|status``.

The project starts its own servers under ``.local/`` only when the configured ones
(CONTRACT.md section 2) are unreachable and live on this machine. Whatever it starts is
recorded in ``.local/services.json``; ``down`` stops exactly those servers and nothing else,
so an existing PostgreSQL or Redis the URLs point at is used as it is and never touched.

Layout under the root folder (``.local/`` by default)::

    services.json           what the project started (name, port, pid, data dir, started_at)
    postgres/data           the PostgreSQL cluster (initdb -U <URL user> --auth=trust -E UTF8)
    postgres/run            its Unix socket
    postgres/postgres.log   its server log
    redis/                  Redis working dir: appendonlydir/ (AOF), redis.pid, redis.log
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import redis
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from extract.config import REPO_ROOT, Settings, parse_postgres_url, redact, with_database

Log = Callable[[str], None]

DEFAULT_ROOT = REPO_ROOT / ".local"
STATE_FILE = "services.json"
LOCK_FILE = ".services.lock"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAINTENANCE_DB = "postgres"
POSTGRES_SYSTEM_USER = "postgres"
CONNECT_TIMEOUT_SECONDS = 2
START_TIMEOUT_SECONDS = 30
# After a crash PostgreSQL replays its write-ahead log and Redis reads its append-only file
# before either answers: minutes, for a large warehouse or stream. A server that says it
# is doing so is waited for, with a line of progress now and then.
RECOVERY_TIMEOUT_SECONDS = 1800
RECOVERY_NOTE_SECONDS = 15
_RECOVERING = re.compile(
    r"loading the dataset|is starting up|not yet accepting connections|in recovery mode",
    re.IGNORECASE,
)
STOP_TIMEOUT_SECONDS = 30
LOG_TAIL_LINES = 15
# sizeof(sockaddr_un.sun_path) on Linux; PostgreSQL refuses longer socket paths.
UNIX_SOCKET_PATH_MAX = 107

POSTGRES = "postgresql"
REDIS = "redis"

REDIS_MISSING = (
    "redis-server is not installed: install the package redis-server "
    "(Debian/Ubuntu: sudo apt-get install redis-server) "
    "or point ANALYTICS_REDIS_URL at a running Redis"
)


class ServiceError(RuntimeError):
    """A local service could not be started, stopped or used; the message says what to do."""


@dataclass(frozen=True)
class ServiceStatus:
    """What one configured server looks like right now."""

    name: str  # "postgresql" or "redis"
    url: str  # the URL in use, password redacted
    reachable: bool
    managed: bool  # started by this project, recorded in the state file, alive and reachable
    pid: int | None  # the managed server's process id
    detail: str  # one human sentence


@dataclass(frozen=True)
class _Endpoint:
    """A configured server: which service, its URL and where it listens."""

    name: str
    label: str
    variable: str
    url: str
    scheme: str
    host: str
    port: int

    @property
    def shown(self) -> str:
        return redact(self.url)

    @property
    def startable(self) -> bool:
        """Whether the project may start a server for this URL (plain TCP on this machine)."""
        return self.scheme in ("postgresql", "postgres", "redis") and self.host in LOCAL_HOSTS

    @property
    def bind_address(self) -> str:
        return "::1" if self.host == "::1" else "127.0.0.1"


# --------------------------------------------------------------------------- public API


def services_up(
    settings: Settings, *, root: Path = DEFAULT_ROOT, log: Log = print
) -> list[ServiceStatus]:
    """Make the configured PostgreSQL and Redis reachable, starting local ones when needed.

    A reachable server is used as it is. An unreachable one on 127.0.0.1/localhost/::1 is
    started under ``root`` on the URL's port and recorded in ``root/services.json``. The
    warehouse and Dagster databases are created when missing. Running it again starts
    nothing. Raises :class:`ServiceError` with what to do when a server cannot be had.
    """
    root = Path(root).absolute()
    postgres, redis_endpoint = _endpoints(settings)
    with _locked(root):
        state = _read_state(root)
        _up_postgres(postgres, root, state, log)
        for dbname in ensure_databases(settings):
            log(f"PostgreSQL: created database {dbname}")
        _up_redis(redis_endpoint, root, state, log)
    from orchestration.lib.roles import setup_roles  # roles asks services who started what

    roles = setup_roles(settings, root=root)
    if roles.created:
        log(f"PostgreSQL: created roles {', '.join(roles.created)} (docs/security.md)")
    return services_status(settings, root=root)


def services_down(
    settings: Settings,
    *,
    root: Path = DEFAULT_ROOT,
    log: Log = print,
    only: tuple[str, ...] = (POSTGRES, REDIS),
) -> list[ServiceStatus]:
    """Stop the servers the project started (per ``root/services.json``) and nothing else;
    ``only`` names which of the two (``postgresql``, ``redis``).

    Data stays on disk, so a later ``up`` brings back the same databases and stream.
    Entries whose process is already gone are forgotten without error.
    """
    root = Path(root).absolute()
    if (root / STATE_FILE).exists():
        with _locked(root):
            state = _read_state(root)
            for name, label in ((POSTGRES, "PostgreSQL"), (REDIS, "Redis")):
                if name not in only:
                    continue
                entry = state.get(name)
                if entry is None:
                    log(f"{label}: not started by the project; nothing to stop")
                    continue
                if name == POSTGRES:
                    _stop_postgres(entry, log)
                else:
                    _stop_redis(entry, log)
                del state[name]
                _write_state(root, state)
    else:
        for label in ("PostgreSQL", "Redis"):
            log(f"{label}: not started by the project; nothing to stop")
    return services_status(settings, root=root)


def services_status(settings: Settings, *, root: Path = DEFAULT_ROOT) -> list[ServiceStatus]:
    """Report, without changing anything, which servers are in use and who started them."""
    root = Path(root).absolute()
    state = _read_state(root)
    return [_status(endpoint, state.get(endpoint.name)) for endpoint in _endpoints(settings)]


def ensure_databases(settings: Settings) -> list[str]:
    """Create the warehouse and Dagster databases when missing; return the names created.

    Connects to the maintenance database ``postgres`` on each URL's server. Safe when several
    processes race to create the same database.
    """
    created: list[str] = []
    seen: set[tuple[str, int, str]] = set()
    for url, variable in (
        (settings.database_url, "ANALYTICS_DATABASE_URL"),
        (settings.dagster_database_url, "ANALYTICS_DAGSTER_DATABASE_URL"),
    ):
        target = parse_postgres_url(url, variable)
        key = (target.host, target.port, target.dbname)
        if key in seen:
            continue
        seen.add(key)
        if _create_database(url, target.dbname, variable):
            created.append(target.dbname)
    return created


def format_status(statuses: Sequence[ServiceStatus]) -> str:
    """An aligned plain-text table of ``statuses`` for the command line."""
    header = ("SERVICE", "URL", "REACHABLE", "MANAGED", "PID", "DETAIL")
    rows = [header] + [
        (
            status.name,
            status.url,
            "yes" if status.reachable else "no",
            "yes" if status.managed else "no",
            "-" if status.pid is None else str(status.pid),
            status.detail,
        )
        for status in statuses
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


# --------------------------------------------------------------------------- endpoints


def _endpoints(settings: Settings) -> tuple[_Endpoint, _Endpoint]:
    target = parse_postgres_url(settings.database_url, "ANALYTICS_DATABASE_URL")
    postgres = _Endpoint(
        name=POSTGRES,
        label="PostgreSQL",
        variable="ANALYTICS_DATABASE_URL",
        url=settings.database_url,
        scheme=urlsplit(settings.database_url).scheme,
        host=target.host,
        port=target.port,
    )
    parts = urlsplit(settings.redis_url)
    try:
        redis_port = parts.port or 6379
    except ValueError as exc:
        raise ServiceError(
            f"ANALYTICS_REDIS_URL={redact(settings.redis_url)!r} has an invalid port: {exc}"
        ) from exc
    redis_endpoint = _Endpoint(
        name=REDIS,
        label="Redis",
        variable="ANALYTICS_REDIS_URL",
        url=settings.redis_url,
        scheme=parts.scheme,
        host=parts.hostname or ("" if parts.scheme == "unix" else "127.0.0.1"),
        port=redis_port,
    )
    return postgres, redis_endpoint


def _probe(endpoint: _Endpoint) -> str | None:
    """None when the configured server answers, else why it does not."""
    if endpoint.name == POSTGRES:
        return _postgres_probe(endpoint.url)
    return _redis_probe(endpoint.url)


def _postgres_probe(url: str) -> str | None:
    try:
        with psycopg.connect(
            with_database(url, MAINTENANCE_DB),
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            autocommit=True,
        ):
            return None
    except psycopg.Error as exc:
        return _one_line(exc)


def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=CONNECT_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


def _redis_probe(url: str) -> str | None:
    client = _redis_client(url)
    try:
        client.ping()
        return None
    except (redis.RedisError, OSError) as exc:
        return _one_line(exc)
    finally:
        client.close()


def _redis_server_pid(url: str) -> int | None:
    """The process id the Redis at ``url`` reports, or None when it cannot be asked."""
    client = _redis_client(url)
    try:
        value = client.info("server").get("process_id")
        return int(value) if value is not None else None
    except (redis.RedisError, OSError, ValueError):
        return None
    finally:
        client.close()


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- status


def _status(endpoint: _Endpoint, entry: dict[str, Any] | None) -> ServiceStatus:
    reachable = _probe(endpoint) is None
    ours_pid = _running_pid(endpoint.name, entry) if entry else None
    same_port = entry is not None and entry["port"] == endpoint.port and endpoint.startable
    managed = reachable and ours_pid is not None and same_port
    if managed and endpoint.name == REDIS:
        # Only one process can listen on the port; make sure it is the one we started.
        managed = _redis_server_pid(endpoint.url) in (ours_pid, None)
    where = _home(endpoint.name, entry) if entry is not None else ""
    if managed:
        detail = f"started by the project under {where} (port {endpoint.port})"
    elif reachable:
        detail = "existing server, not managed"
        if ours_pid is not None and entry is not None:
            detail += (
                f" (the project's own {endpoint.label} runs on port {entry['port']}: "
                "`analytics services down` stops it)"
            )
    elif entry is not None and ours_pid is not None and not same_port:
        detail = (
            f"not running (the project's own {endpoint.label} runs on port {entry['port']}, "
            f"not {endpoint.port}: `analytics services down` stops it)"
        )
    elif entry is not None and ours_pid is not None:
        detail = (
            f"not answering (the project's {endpoint.label} under {where} runs as "
            f"pid {ours_pid}: see its log)"
        )
    elif entry is not None:
        detail = (
            f"not running (the project's {endpoint.label} under {where} has stopped: "
            "`analytics services up` starts it again)"
        )
    else:
        detail = "not running"
    return ServiceStatus(
        name=endpoint.name,
        url=endpoint.shown,
        reachable=reachable,
        managed=managed,
        pid=ours_pid if managed else None,
        detail=detail,
    )


def _running_pid(name: str, entry: dict[str, Any] | None) -> int | None:
    """The pid of the recorded server when its process is alive, else None."""
    if entry is None:
        return None
    if name == POSTGRES:
        return _postgres_running_pid(entry)
    return _redis_running_pid(entry)


def _postgres_running_pid(entry: dict[str, Any]) -> int | None:
    lines = _read_text(Path(entry["data_dir"]) / "postmaster.pid").splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
    except (IndexError, ValueError):
        return None
    if port != entry["port"] or not _process_alive(pid, "postgres"):
        return None
    return pid


def _redis_running_pid(entry: dict[str, Any]) -> int | None:
    try:
        pid = int(_read_text(Path(entry["data_dir"]) / "redis.pid").strip())
    except ValueError:
        return None
    return pid if _process_alive(pid, "redis") else None


# --------------------------------------------------------------------------- up


def _up_postgres(endpoint: _Endpoint, root: Path, state: dict[str, Any], log: Log) -> None:
    entry = _forget_if_stale(endpoint, root, state, log)
    problem = _await_recovery(endpoint, _probe(endpoint), log)
    if problem is None:
        _log_in_use(endpoint, entry, log)
        return
    _refuse_to_start(endpoint, entry, problem)
    data_dir = root / "postgres" / "data"
    pid, log_offset = _start_postgres(endpoint, data_dir, log)
    state[POSTGRES] = _entry(endpoint, pid, data_dir)
    _write_state(root, state)
    log_file = data_dir.parent / "postgres.log"
    # pg_ctl -w has seen the server accept connections (a short grace is left), or gave up
    # on a server still replaying its log after a crash (waited for as long as it does).
    problem = _wait_until_reachable(
        endpoint, lambda: _postgres_running_pid(state[POSTGRES]) is not None, timeout=5, log=log
    )
    if problem is not None:
        raise ServiceError(
            f"PostgreSQL started under {_shown_path(data_dir.parent)} (pid {pid}) but does not "
            f"accept connections at {endpoint.shown}: {problem}. If the cluster was initialised "
            f"for another user, run `analytics services down` and delete {data_dir}. "
            f"Log {log_file}:\n{_tail(log_file, log_offset)}"
        )
    log(
        f"PostgreSQL: started on {endpoint.bind_address}:{endpoint.port} under "
        f"{_shown_path(data_dir.parent)} (log {_shown_path(log_file)})"
    )


def _up_redis(endpoint: _Endpoint, root: Path, state: dict[str, Any], log: Log) -> None:
    entry = _forget_if_stale(endpoint, root, state, log)
    problem = _await_recovery(endpoint, _probe(endpoint), log)
    if problem is None:
        _log_in_use(endpoint, entry, log)
        return
    _refuse_to_start(endpoint, entry, problem)
    binary, installed = _redis_server_binary(log)
    if installed and _probe(endpoint) is None:
        # The distribution package may start its own service on the default port.
        log(f"Redis: the freshly installed system service answers at {endpoint.shown}; using it")
        return
    work_dir = root / "redis"
    pid, log_offset = _start_redis(endpoint, binary, work_dir)
    # Recorded before it answers: one still loading a large file is the project's to stop.
    state[REDIS] = _entry(endpoint, pid, work_dir)
    _write_state(root, state)
    problem = _wait_until_reachable(
        endpoint, lambda: _redis_running_pid(state[REDIS]) is not None, log=log
    )
    if problem is not None:
        log_file = work_dir / "redis.log"
        raise ServiceError(
            f"Redis started under {_shown_path(work_dir)} (pid {pid}) but does not answer at "
            f"{endpoint.shown}: {problem}. Log {log_file}, last lines:\n"
            f"{_tail(log_file, log_offset)}"
        )
    log(
        f"Redis: started on {endpoint.bind_address}:{endpoint.port} under "
        f"{_shown_path(work_dir)} (log {_shown_path(work_dir / 'redis.log')})"
    )


def _forget_if_stale(
    endpoint: _Endpoint, root: Path, state: dict[str, Any], log: Log
) -> dict[str, Any] | None:
    """The state entry for ``endpoint``'s service, dropped first when its process is gone."""
    entry = state.get(endpoint.name)
    if entry is not None and _running_pid(endpoint.name, entry) is None:
        log(
            f"{endpoint.label}: the server the project started earlier (pid {entry.get('pid')}) "
            "is no longer running; forgetting it"
        )
        del state[endpoint.name]
        _write_state(root, state)
        return None
    return entry


def _log_in_use(endpoint: _Endpoint, entry: dict[str, Any] | None, log: Log) -> None:
    if entry is not None and entry["port"] == endpoint.port and endpoint.startable:
        log(
            f"{endpoint.label}: already running, started by the project under "
            f"{_home(endpoint.name, entry)} (port {endpoint.port}, "
            f"pid {_running_pid(endpoint.name, entry)})"
        )
    else:
        log(f"{endpoint.label}: using the existing server at {endpoint.shown} (not managed)")


def _refuse_to_start(endpoint: _Endpoint, entry: dict[str, Any] | None, problem: str) -> None:
    """Raise when the project must not start a server for this unreachable endpoint."""
    if not endpoint.startable:
        raise ServiceError(
            f"{endpoint.label}: the configured server at {endpoint.shown} is unreachable "
            f"({problem}), and the project only starts servers on localhost "
            f"(127.0.0.1, localhost, ::1): start that server, or point {endpoint.variable} "
            "at a reachable one"
        )
    if entry is not None:
        where = _home(endpoint.name, entry)
        if entry["port"] != endpoint.port:
            raise ServiceError(
                f"{endpoint.label}: the project's own server under {where} runs on port "
                f"{entry['port']}, but {endpoint.variable} points at port {endpoint.port}: "
                "run `analytics services down` first, or set the URL back to that port"
            )
        raise ServiceError(
            f"{endpoint.label}: the project's own server under {where} is running "
            f"(pid {_running_pid(endpoint.name, entry)}) but does not accept connections at "
            f"{endpoint.shown} ({problem}): check its log under {where}, or run "
            "`analytics services down` and `up` again"
        )
    if _port_open(endpoint.host, endpoint.port):
        raise ServiceError(
            f"{endpoint.label}: port {endpoint.port} on {endpoint.host} is taken by something "
            f"that is not a usable {endpoint.label} server at {endpoint.shown} ({problem}): "
            f"stop whatever listens there, or point {endpoint.variable} at another port"
        )


def _entry(endpoint: _Endpoint, pid: int, data_dir: Path) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "host": endpoint.bind_address,
        "port": endpoint.port,
        "pid": pid,
        "data_dir": str(data_dir),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _wait_until_reachable(
    endpoint: _Endpoint,
    alive: Callable[[], bool],
    *,
    timeout: float | None = None,
    log: Log | None = None,
) -> str | None:
    """Poll the endpoint until it answers (None), its server dies or time runs out (why).

    ``timeout`` (default ``START_TIMEOUT_SECONDS``) for a server that does not answer; up to
    ``RECOVERY_TIMEOUT_SECONDS`` for one that answers that it is recovering or loading.
    """
    timeout = START_TIMEOUT_SECONDS if timeout is None else timeout
    started = time.monotonic()
    next_note = started + RECOVERY_NOTE_SECONDS
    while True:
        problem = _probe(endpoint)
        if problem is None:
            return None
        if not alive():
            return f"the server exited ({problem})"
        recovering = _RECOVERING.search(problem) is not None
        waited = time.monotonic() - started
        limit = RECOVERY_TIMEOUT_SECONDS if recovering else timeout
        if waited > limit:
            return f"no answer within {limit:g} s ({problem})"
        if recovering and log is not None and time.monotonic() >= next_note:
            log(f"{endpoint.label}: still recovering after {waited:.0f} s ({problem})")
            next_note += RECOVERY_NOTE_SECONDS
        time.sleep(0.2)


def _await_recovery(endpoint: _Endpoint, problem: str | None, log: Log) -> str | None:
    """``problem``, or for a server that says it is recovering (after a crash) or loading
    its data, what is left of it once the server is ready or the wait gave up."""
    if problem is None or _RECOVERING.search(problem) is None:
        return problem
    log(f"{endpoint.label}: the server at {endpoint.shown} is not ready ({problem}); waiting")
    # A server that stops recovering answers differently: the wait then ends at once.
    return _wait_until_reachable(endpoint, lambda: True, timeout=0, log=log)


# --------------------------------------------------------------------------- PostgreSQL


def _start_postgres(endpoint: _Endpoint, data_dir: Path, log: Log) -> tuple[int, int]:
    """initdb (first time only) and pg_ctl start the cluster in ``data_dir``.

    Returns the postmaster's pid and the size of the server log before this start.
    """
    user = parse_postgres_url(endpoint.url, endpoint.variable).user
    base = data_dir.parent
    run_dir = base / "run"
    log_file = base / "postgres.log"
    bindir = _postgres_bindir(data_dir)
    account = _postgres_account()
    run_dir.mkdir(parents=True, exist_ok=True)
    if account is not None:
        for path in (base, run_dir, data_dir, log_file):
            if path.exists():
                os.chown(path, account.pw_uid, account.pw_gid)
        _ensure_traversable(base, account, log)

    if not (data_dir / "PG_VERSION").exists():
        log(f"PostgreSQL: initialising a new cluster in {_shown_path(data_dir)} (superuser {user})")
        result = _run_as(
            account,
            [
                bindir / "initdb",
                "-D",
                data_dir,
                "-U",
                user,
                "--auth=trust",
                "-E",
                "UTF8",
                f"--locale={_initdb_locale()}",
            ],
            cwd=base,
            timeout=120,
        )
        if result.returncode != 0:
            raise ServiceError(
                f"PostgreSQL: initdb failed for {data_dir} (exit {result.returncode}); "
                f"if the folder holds something else, move it away and run `up` again:\n"
                f"{_last_lines(result.stdout + result.stderr)}"
            )

    _write_hba(data_dir, user, account)
    _write_server_settings(data_dir, bindir, account)
    socket_path = run_dir / f".s.PGSQL.{endpoint.port}"
    if len(str(socket_path)) <= UNIX_SOCKET_PATH_MAX:
        socket_option = f"-k {shlex.quote(str(run_dir))}"
    else:  # too deep for a Unix socket: TCP only
        socket_option = "-c unix_socket_directories=''"
    options = f"-p {endpoint.port} {socket_option} -c listen_addresses={endpoint.bind_address}"
    log_offset = _size(log_file)
    result = _run_as(
        account,
        [
            bindir / "pg_ctl",
            "-D",
            data_dir,
            "-o",
            options,
            "-l",
            log_file,
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        ],
        cwd=base,
        timeout=START_TIMEOUT_SECONDS + 15,
    )
    pid = _postgres_running_pid({"data_dir": str(data_dir), "port": endpoint.port})
    if result.returncode != 0 and pid is not None:
        # pg_ctl stopped waiting, the server did not stop: replaying its log after a crash
        log(f"PostgreSQL: pid {pid} is not ready yet ({_one_line(result.stdout + result.stderr)})")
    if pid is None:
        raise ServiceError(
            f"PostgreSQL did not start on {endpoint.bind_address}:{endpoint.port} "
            f"({_one_line(result.stdout + result.stderr)}). Log {log_file}, last lines:\n"
            f"{_tail(log_file, log_offset)}"
        )
    return pid, log_offset


def _write_hba(data_dir: Path, user: str, account: pwd.struct_passwd | None) -> None:
    """Client authentication of the local development server: the pipeline's own user
    (the URL's, a superuser) is trusted from this machine, as the contract's default URL
    has no password; every other role (analytics_loader, analytics_bi, analytics_pii)
    must give its password. The server listens on the configured address only."""
    hba = data_dir / "pg_hba.conf"
    hba.write_text(
        "# Written by `analytics services up` at every start (orchestration/lib/services.py).\n"
        f"local all {user} trust\n"
        f"host  all {user} 127.0.0.1/32 trust\n"
        f"host  all {user} ::1/128 trust\n"
        "local all all scram-sha-256\n"
        "host  all all 127.0.0.1/32 scram-sha-256\n"
        "host  all all ::1/128 scram-sha-256\n"
    )
    if account is not None:
        os.chown(hba, account.pw_uid, account.pw_gid)


SETTINGS_FILE = "analytics.conf"
_INCLUDE_SETTINGS = f"include_if_exists = '{SETTINGS_FILE}'"
MIB = 1024 * 1024


def server_settings(memory_bytes: int, wal_compression: str) -> dict[str, str]:
    """The settings of the local server, beyond PostgreSQL's defaults (sized for a 128 MB
    machine): an analytics warehouse rewrites rows spread over large indexes.

    The profile of an hourly refresh of 10 M events (docs/benchmarks.md) found almost all of
    its write-ahead log to be full-page images: with the default 1 GB of log between
    checkpoints, every checkpoint made the next change to each index page log the whole
    page again, and the log filled up again within minutes. The default 128 MB of shared
    buffers had the queries writing out dirty pages themselves.
    """
    shared_buffers = min(max(memory_bytes // 8, 128 * MIB), 4096 * MIB)
    return {
        "shared_buffers": f"{shared_buffers // MIB}MB",
        "effective_cache_size": f"{max(memory_bytes * 3 // 4, 512 * MIB) // MIB}MB",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "15min",
        "wal_compression": wal_compression,
    }


def _write_server_settings(data_dir: Path, bindir: Path, account: pwd.struct_passwd | None) -> None:
    """Write ``server_settings`` into the cluster's ``analytics.conf``, which its
    ``postgresql.conf`` includes; ``ALTER SYSTEM`` (postgresql.auto.conf, read after it)
    overrides any of them."""
    settings = server_settings(_memory_bytes(), _wal_compression(bindir))
    path = data_dir / SETTINGS_FILE
    path.write_text(
        "# Written by `analytics services up` at every start (orchestration/lib/services.py,\n"
        "# server_settings). To change one, use ALTER SYSTEM: it overrides this file.\n"
        + "".join(f"{name} = '{value}'\n" for name, value in settings.items())
    )
    conf = data_dir / "postgresql.conf"
    if _INCLUDE_SETTINGS not in _read_text(conf):
        with conf.open("a") as out:
            out.write(f"\n# settings of `analytics services up`\n{_INCLUDE_SETTINGS}\n")
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def _memory_bytes() -> int:
    """This machine's memory (0 when unknown: the settings' lower bounds apply)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _wal_compression(bindir: Path) -> str:
    """lz4 when the server was built with it (cheap on CPU), else PostgreSQL's own pglz."""
    try:
        configure = subprocess.run(
            [bindir / "pg_config", "--configure"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "pglz"
    return "lz4" if "--with-lz4" in configure else "pglz"


def _stop_postgres(entry: dict[str, Any], log: Log) -> None:
    data_dir = Path(entry["data_dir"])
    pid = _postgres_running_pid(entry)
    if pid is None:
        log(
            f"PostgreSQL: the server the project started (pid {entry.get('pid')}) is no longer "
            "running; forgetting it"
        )
        return
    account = _owner_account(data_dir)
    result = _run_as(
        account,
        [
            _postgres_bindir(data_dir) / "pg_ctl",
            "-D",
            data_dir,
            "-m",
            "fast",
            "-w",
            "-t",
            str(STOP_TIMEOUT_SECONDS),
            "stop",
        ],
        cwd=data_dir.parent,
        timeout=STOP_TIMEOUT_SECONDS + 15,
    )
    if result.returncode != 0 and _wait_for_exit(pid, 1):
        raise ServiceError(
            f"PostgreSQL: could not stop the project's server (pid {pid}, data {data_dir}): "
            f"{_one_line(result.stdout + result.stderr)}. See {data_dir.parent / 'postgres.log'}"
        )
    log(
        f"PostgreSQL: stopped the project's server on port {entry['port']} (pid {pid}; data kept "
        f"in {_shown_path(data_dir)})"
    )


def _create_database(url: str, dbname: str, variable: str) -> bool:
    """CREATE DATABASE ``dbname`` on ``url``'s server unless it exists; True when created."""
    maintenance = with_database(url, MAINTENANCE_DB)
    try:
        with psycopg.connect(
            maintenance, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True
        ) as conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (dbname,)
            ).fetchone()
            if exists:
                return False
            for attempt in range(10):
                try:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
                    return True
                except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    return False  # somebody else created it meanwhile
                except psycopg.errors.ObjectInUse:
                    # template1 is busy with another CREATE DATABASE: try again shortly
                    if attempt == 9:
                        raise
                    time.sleep(0.1 * (attempt + 1))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ServiceError(
            f"PostgreSQL: database {dbname!r} is missing on {redact(url)} and the user in "
            f"{variable} may not create it ({_one_line(exc)}): create it as an administrator "
            "or grant that user CREATEDB"
        ) from exc
    except psycopg.Error as exc:
        raise ServiceError(
            f"PostgreSQL: could not make sure database {dbname!r} exists via {redact(maintenance)}"
            f" ({_one_line(exc)}): run `analytics services up`, or point {variable} at a "
            "reachable server"
        ) from exc
    return False


def _postgres_bindir(data_dir: Path) -> Path:
    """The folder holding initdb and pg_ctl, preferring the version the cluster was made with."""
    candidates: list[Path] = []
    version = _read_text(data_dir / "PG_VERSION").strip()
    if version:
        candidates.append(Path("/usr/lib/postgresql") / version / "bin")
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            if out:
                candidates.append(Path(out))

    def version_key(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version_key, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise ServiceError(
        "PostgreSQL server programs (initdb, pg_ctl) were not found in `pg_config --bindir`, "
        "/usr/lib/postgresql/*/bin or PATH: install the PostgreSQL server "
        "(Debian/Ubuntu: sudo apt-get install postgresql) or point ANALYTICS_DATABASE_URL "
        "at a running PostgreSQL"
    )


def _postgres_account() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None for the current user, ``postgres`` for root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError as exc:
        raise ServiceError(
            "PostgreSQL refuses to run as root and there is no `postgres` system user: create "
            "one (sudo useradd --system --home /var/lib/postgresql postgres) or run as a "
            "regular user"
        ) from exc


def _owner_account(path: Path) -> pwd.struct_passwd | None:
    """The account owning ``path`` when we are root and it is someone else, else None."""
    if os.geteuid() != 0:
        return None
    uid = path.stat().st_uid
    if uid == 0:
        return None
    try:
        return pwd.getpwuid(uid)
    except KeyError as exc:
        raise ServiceError(f"{path} belongs to uid {uid}, which has no account") from exc


def _ensure_traversable(path: Path, account: pwd.struct_passwd, log: Log) -> None:
    """Give ``account`` search (x) permission on ``path`` and every folder above it."""
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for folder in (path, *path.parents):
        mode = folder.stat()
        if mode.st_uid == account.pw_uid:
            needed = stat.S_IXUSR
        elif mode.st_gid in groups:
            needed = stat.S_IXGRP
        else:
            needed = stat.S_IXOTH
        if not mode.st_mode & needed:
            os.chmod(folder, stat.S_IMODE(mode.st_mode) | needed)
            log(
                f"PostgreSQL: let the {account.pw_name} user traverse {folder} "
                "(added search permission) so it can reach its cluster"
            )


def _initdb_locale() -> str:
    """C.UTF-8 when the system has it (Unicode-aware, same everywhere), else C."""
    try:
        names = subprocess.run(
            ["locale", "-a"], capture_output=True, text=True, timeout=10
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "C"
    return "C.UTF-8" if {"c.utf8", "c.utf-8"} & {name.lower() for name in names} else "C"


# --------------------------------------------------------------------------- Redis


def _redis_server_binary(log: Log) -> tuple[str, bool]:
    """The redis-server program, installing it with apt-get when root; (path, installed)."""
    found = _find_redis_server()
    if found:
        return found, False
    apt_get = shutil.which("apt-get")
    if os.geteuid() != 0 or apt_get is None:
        raise ServiceError(REDIS_MISSING)
    log(
        "Redis: redis-server is not installed; installing the package redis-server "
        "(apt-get update && apt-get install -y redis-server)"
    )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt_get, "update"], [apt_get, "install", "-y", "redis-server"]):
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=environment,
                stdin=subprocess.DEVNULL,
                timeout=900,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ServiceError(f"`{' '.join(command)}` failed ({exc}). {REDIS_MISSING}") from exc
        if result.returncode != 0:
            raise ServiceError(
                f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
                f"{_last_lines(result.stdout + result.stderr)}\n{REDIS_MISSING}"
            )
    found = _find_redis_server()
    if not found:
        raise ServiceError(f"apt-get installed redis-server but it is not on PATH. {REDIS_MISSING}")
    log(f"Redis: installed {found}")
    return found, True


def _find_redis_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in (
        "/usr/bin/redis-server",
        "/usr/local/bin/redis-server",
        "/usr/sbin/redis-server",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _start_redis(endpoint: _Endpoint, binary: str, work_dir: Path) -> tuple[int, int]:
    """Start a daemonised redis-server with its AOF in ``work_dir``.

    Returns its pid, once its pid file names a live process (before it has read its data),
    and the size of its log before this start.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    pid_file = work_dir / "redis.pid"
    log_file = work_dir / "redis.log"
    pid_file.unlink(missing_ok=True)
    log_offset = _size(log_file)
    command = [
        binary,
        "--port",
        str(endpoint.port),
        "--bind",
        endpoint.bind_address,
        "--dir",
        str(work_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "yes",
        "--pidfile",
        str(pid_file),
        "--logfile",
        str(log_file),
    ]
    password = urlsplit(endpoint.url).password
    if password:
        command += ["--requirepass", unquote(password)]
    try:
        result = subprocess.run(
            command,
            cwd=work_dir,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=START_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServiceError(f"Redis: could not run {binary} ({exc}). {REDIS_MISSING}") from exc
    if result.returncode != 0:
        raise ServiceError(
            f"Redis: {binary} refused to start (exit {result.returncode}): "
            f"{_one_line(result.stdout + result.stderr)}. Log {log_file}"
        )

    started = time.monotonic()
    while True:
        pid = _redis_running_pid({"data_dir": str(work_dir)})
        if pid is not None:
            return pid, log_offset
        # Before the pid file exists, the daemon's pid is the one its log lines carry.
        logged = re.findall(r"^(\d+):[A-Z] ", _read_text(log_file)[log_offset:], re.MULTILINE)
        waited = time.monotonic() - started
        starting = any(_process_alive(int(pid), "redis") for pid in set(logged))
        if waited > START_TIMEOUT_SECONDS or (not starting and waited > 3):
            raise ServiceError(
                f"Redis did not start on {endpoint.bind_address}:{endpoint.port}: "
                f"{'no pid file' if starting else 'the server exited'}. Log {log_file}, "
                f"last lines:\n{_tail(log_file, log_offset)}"
            )
        time.sleep(0.1)


def _stop_redis(entry: dict[str, Any], log: Log) -> None:
    pid = _redis_running_pid(entry)
    if pid is None:
        log(
            f"Redis: the server the project started (pid {entry.get('pid')}) is no longer "
            "running; forgetting it"
        )
        return
    # SIGTERM is Redis's graceful shutdown: it fsyncs the append-only file and exits.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait_for_exit(pid, STOP_TIMEOUT_SECONDS):
        raise ServiceError(
            f"Redis: the project's server (pid {pid}) did not stop within "
            f"{STOP_TIMEOUT_SECONDS} s: see {Path(entry['data_dir']) / 'redis.log'}, "
            f"then `kill {pid}`"
        )
    log(
        f"Redis: stopped the project's server on port {entry['port']} (pid {pid}; data kept in "
        f"{_shown_path(Path(entry['data_dir']))})"
    )


# --------------------------------------------------------------------------- state file


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serialise up/down across processes (e.g. `make demo` and `make test` at once)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_state(root: Path) -> dict[str, Any]:
    """The valid entries of ``root/services.json`` (empty when there is none)."""
    path = root / STATE_FILE
    text = _read_text(path)
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServiceError(
            f"{path} is not valid JSON ({exc}): servers it recorded may still run "
            f"(look for postgres/redis-server processes using {root}); stop them, "
            "delete the file and run `analytics services up` again"
        ) from exc
    if not isinstance(data, dict):
        return {}
    state: dict[str, Any] = {}
    for name in (POSTGRES, REDIS):
        entry = data.get(name)
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("port"), int)
            and isinstance(entry.get("data_dir"), str)
        ):
            state[name] = entry
    return state


def _write_state(root: Path, state: dict[str, Any]) -> None:
    path = root / STATE_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


# --------------------------------------------------------------------------- helpers


def _run_as(
    account: pwd.struct_passwd | None,
    args: Sequence[str | Path],
    *,
    cwd: Path,
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """Run a command, as ``account`` (via runuser) when given; never raises on exit codes."""
    command = [str(arg) for arg in args]
    extra: dict[str, Any] = {}
    if account is not None:
        runuser = shutil.which("runuser")
        if runuser:
            command = [runuser, "-u", account.pw_name, "--", *command]
        else:
            extra = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            **extra,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(f"`{shlex.join(command)}` did not finish within {timeout} s") from exc
    except OSError as exc:
        raise ServiceError(f"could not run `{shlex.join(command)}`: {exc}") from exc


def _process_alive(pid: int, program: str) -> bool:
    """Whether ``pid`` is a live (non-zombie) process whose command line mentions ``program``."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    proc = Path("/proc") / str(pid)
    if not proc.is_dir():
        return True  # no /proc to ask: trust the signal
    status = _read_text(proc / "stat")
    if status and status.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
        return False
    cmdline = _read_text(proc / "cmdline").replace("\0", " ")
    return program in cmdline


def _wait_for_exit(pid: int, seconds: float) -> bool:
    """Wait for ``pid`` to exit; True when it is still alive afterwards."""
    deadline = time.monotonic() + seconds
    while _process_alive(pid, ""):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.1)
    return False


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tail(path: Path, offset: int = 0) -> str:
    """The last lines of a log file written after ``offset`` (all of it when it shrank)."""
    text = _read_text(path)
    if offset <= len(text):
        text = text[offset:]
    return _last_lines(text) or "(the log is empty)"


def _last_lines(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-LOG_TAIL_LINES:])


def _one_line(error: object) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _home(name: str, entry: dict[str, Any]) -> str:
    """The folder a recorded server lives in, as shown to people (``.local/postgres``)."""
    data_dir = Path(entry["data_dir"])
    return _shown_path(data_dir.parent if name == POSTGRES else data_dir)


def _shown_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (``.local/postgres``), else absolute."""
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
