"""Dagster's PostgreSQL storage, holding a few connections open.

``dagster-postgres`` opens a new PostgreSQL connection for every event it stores (its
engines use no pool, so that idle processes hold none). A refresh stores about two
thousand events (one per dbt model and test, and their logs): some five thousand
connections, 15 of a refresh's 36 seconds on the demo week. These subclasses keep a
small pool per process instead; ``dagster.yaml`` names them. Connections are checked
before use and recycled every five minutes, so a restarted PostgreSQL costs one retry.
"""

from __future__ import annotations

from typing import Any

from dagster_postgres.event_log.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage.run_storage import PostgresRunStorage
from dagster_postgres.utils import create_pg_engine, pg_url_from_config

POOL = {
    "isolation_level": "AUTOCOMMIT",
    "pool_size": 2,
    "max_overflow": 4,
    "pool_recycle": 300,
    "pool_pre_ping": True,
}


class _PooledEngine:
    """Replaces the storage's unpooled engine with a pooled one, once it is set up."""

    postgres_url: str
    _engine: Any
    _token_provider: Any

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(postgres_url, *args, **kwargs)  # type: ignore[call-arg]
        self._engine.dispose()
        self._engine = create_pg_engine(self.postgres_url, self._token_provider, **POOL)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(
            pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
        )


class PooledPostgresEventLogStorage(_PooledEngine, PostgresEventLogStorage):
    """:class:`PostgresEventLogStorage` with a small connection pool."""


class PooledPostgresRunStorage(_PooledEngine, PostgresRunStorage):
    """:class:`PostgresRunStorage` with a small connection pool."""
