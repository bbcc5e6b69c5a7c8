"""One refresh at a time: a PostgreSQL session advisory lock held for the whole run.

The lock lives on the warehouse, so it holds across processes and machines (the CLI, the
daemon's run workers, a second developer's laptop pointed at the same warehouse) and it is
released by PostgreSQL itself when the holder's connection ends, including after SIGKILL:
a crashed refresh never leaves a stale lock behind.
"""

from __future__ import annotations

import logging
import time

import psycopg

# Distinct from the extract's load-order lock (extract.schema.LOAD_ORDER_LOCK_KEY).
REFRESH_LOCK_KEY = 0x616E616C_72667368  # "analrfsh"
APPLICATION_NAME = "analytics-refresh"
log = logging.getLogger("orchestration")


class RefreshAlreadyRunning(RuntimeError):
    """Another refresh holds the lock."""


def holder(conn: psycopg.Connection) -> str:
    """Who holds the refresh lock, for messages: backend pid, client and since when."""
    row = conn.execute(
        """
        select activity.pid, activity.application_name, activity.client_addr,
            activity.backend_start
        from pg_locks as locks
        join pg_stat_activity as activity on locks.pid = activity.pid
        where locks.locktype = 'advisory' and locks.granted
            and ((locks.classid::bigint << 32) | locks.objid::bigint) = %s
        """,
        (REFRESH_LOCK_KEY,),
    ).fetchone()
    if row is None:
        return "another session"
    pid, application, client, since = row
    where = f" from {client}" if client else ""
    since_text = f"{since:%Y-%m-%d %H:%M:%S %Z}"
    return f"PostgreSQL backend {pid} ({application or 'unnamed'}{where}, connected {since_text})"


class RefreshLock:
    """Hold the refresh lock: ``acquire()`` once, ``release()`` (or close) at the end."""

    def __init__(self, database_url: str, run_id: str | None = None) -> None:
        self.database_url = database_url
        self.run_id = run_id
        self._conn: psycopg.Connection | None = None

    def acquire(self, wait_seconds: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait_seconds``; raise RefreshAlreadyRunning."""
        name = f"{APPLICATION_NAME} {self.run_id}" if self.run_id else APPLICATION_NAME
        conn = psycopg.connect(self.database_url, autocommit=True, application_name=name[:63])
        deadline = time.monotonic() + wait_seconds
        while True:
            if conn.execute("select pg_try_advisory_lock(%s)", (REFRESH_LOCK_KEY,)).fetchone()[0]:
                self._conn = conn
                log.info("refresh lock taken (%s)", name)
                return
            if time.monotonic() >= deadline:
                who = holder(conn)
                conn.close()
                raise RefreshAlreadyRunning(
                    f"another refresh is running (it holds the refresh lock: {who}); this one "
                    "stopped before touching anything. Wait for it to finish (see the Dagster "
                    "UI), or run again with --wait."
                )
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ending the session releases the lock
            self._conn = None
            log.info("refresh lock released")

    def __enter__(self) -> RefreshLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
