"""A description of the machine a benchmark ran on, for docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import uuid

import psycopg

from extract.config import Settings, with_database


def _first(path: str, prefix: str) -> str:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


# The server settings a refresh's time depends on most (docs/benchmarks.md).
PG_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "max_wal_size",
    "checkpoint_timeout",
    "wal_compression",
    "work_mem",
)


def postgres_settings(conn: psycopg.Connection) -> str:
    """The server's ``PG_SETTINGS`` as one line, e.g. ``shared_buffers=3GB, ...``."""
    return ", ".join(f"{name}={conn.execute(f'show {name}').fetchone()[0]}" for name in PG_SETTINGS)


def describe(
    pg_version: str | None = None,
    redis_version: str | None = None,
    pg_settings: str | None = None,
) -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    info = {
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "memory_gib": f"{int(mem_kb) / 1024 / 1024:.1f}" if mem_kb.isdigit() else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    if pg_version:
        info["postgresql"] = pg_version
    if pg_settings:
        info["postgresql_settings"] = pg_settings
    if redis_version:
        info["redis"] = redis_version
    info["kernel"] = platform.release()
    return info


def bench_database(base: Settings, name: str) -> tuple[Settings, str]:
    """A new database and stream of their own on the configured servers, for one run:
    the settings pointing at them, and the URL of the server's admin database (to drop it).
    """
    run = uuid.uuid4().hex[:8]
    dbname = f"bench_{name}_{run}"
    settings = base.with_overrides(
        database_url=with_database(base.database_url, dbname), stream=f"bench:{name}:{run}"
    )
    admin_url = with_database(base.database_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'create database "{dbname}"')
    return settings, admin_url


def drop_bench_database(settings: Settings, admin_url: str) -> None:
    dbname = settings.database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{dbname}" with (force)')
