"""Write-audit-publish: dbt builds the marts where BI tools cannot see them, the checks
audit them there, and ``publish`` swaps them in, all schemas in one transaction.

dbt writes every model of the published schemas (``marts``, ``marts_pii``) into
``<schema>_build`` (see ``dbt_project/macros/generate_schema_name.sql``). Publishing swaps
the names, in one transaction: each build schema becomes the published one, and the
published one becomes the next build schema (blue/green), its reader grants revoked. The
incremental marts of that schema are one publish behind; the next build brings them up to
date from their own ``refreshed_load_id`` stamps (``dbt_project/macros/incremental.sql``),
so a refresh recomputes only what changed, never copies whole marts. PostgreSQL DDL is
transactional, and the swap first takes every published table's lock (waiting for queries
already reading them, up to ``SWAP_WAIT_SECONDS``): a BI query sees either every old mart or
every new one, never a mix, and never a partly built table.

Each build schema carries, as its comment, the fingerprint of the dbt project that built it
(``orchestration.lib.dbt_project.project_fingerprint``). A build schema from another version
of the project (or whose build did not finish) is dropped before dbt runs, so its marts are
rebuilt in full; ``intermediate`` carries the same mark, and a changed project makes the
refresh a full refresh (``plan_build``).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from extract.failpoints import failpoint
from orchestration.lib.roles import READERS, grant_read, revoke_read

PUBLISHED_SCHEMAS = ("marts", "marts_pii")
BUILD_SUFFIX = "_build"
PREVIOUS_INFIX = "_previous_"  # replaced schemas of earlier versions; dropped when found
PARKED_SUFFIX = "_parked"  # the published schema's name for a moment inside the swap
BUILD_MARK = "analytics dbt project "
INTERMEDIATE_SCHEMA = "intermediate"
SWAP_LOCK_ATTEMPT = "200ms"  # below PostgreSQL's default deadlock_timeout (1 s)
SWAP_WAIT_SECONDS = 60
AUTOVACUUM_LOCK_ATTEMPT = "3s"  # above PostgreSQL's default deadlock_timeout (1 s)
DROP_LOCK_TIMEOUT = "2s"
log = logging.getLogger("orchestration")


def build_schema(schema: str) -> str:
    return schema + BUILD_SUFFIX


class PublishError(RuntimeError):
    """The marts could not be published; the previously published marts are unchanged."""


@dataclass
class PublishResult:
    tables: dict[str, int] = field(default_factory=dict)  # "<schema>.<table>" -> rows
    dropped: list[str] = field(default_factory=list)
    left_for_later: list[str] = field(default_factory=list)


def _schemas(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("select nspname from pg_namespace")}


def _tables(conn: psycopg.Connection, schema: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "select tablename from pg_tables where schemaname = %s order by tablename", (schema,)
        )
    ]


def row_counts(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    """Exact row count of every table of ``schema`` (none when it does not exist)."""
    return {
        table: conn.execute(
            sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchone()[0]
        for table in _tables(conn, schema)
    }


def forget_builds(database_url: str) -> None:
    """Drop the build schemas and unmark ``intermediate``: the next refresh is a full one.
    For when something outside a refresh wrote to the warehouse's models."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for schema in PUBLISHED_SCHEMAS:
            conn.execute(
                sql.SQL("drop schema if exists {} cascade").format(
                    sql.Identifier(build_schema(schema))
                )
            )
        if INTERMEDIATE_SCHEMA in _schemas(conn):
            conn.execute(f"comment on schema {INTERMEDIATE_SCHEMA} is null")


def _mark(conn: psycopg.Connection, schema: str) -> str | None:
    """The fingerprint ``schema`` was built with; None when unmarked or absent."""
    row = conn.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = %s",
        (schema,),
    ).fetchone()
    if row is None or not row[0] or not row[0].startswith(BUILD_MARK):
        return None
    return row[0].removeprefix(BUILD_MARK)


@dataclass
class BuildPlan:
    full_refresh: bool
    reason: str  # why the build is full or incremental, for the run's log


def plan_build(database_url: str, fingerprint: str, full_refresh: bool) -> BuildPlan:
    """Prepare the build schemas for a refresh and say whether it must be a full one.

    A full refresh (asked for, or because ``intermediate`` was built by another version of
    the project) starts from empty build schemas. Otherwise a build schema built by another
    version, or whose build never finished, is dropped (its marts are built in full) and one
    that matches is kept: its incremental marts catch up from their stamps.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        existing = _schemas(conn)
        intermediate = _mark(conn, INTERMEDIATE_SCHEMA)
        if not full_refresh and INTERMEDIATE_SCHEMA in existing and intermediate != fingerprint:
            full_refresh = True
            built_by = intermediate or "unmarked"
            reason = (
                f"the dbt project changed since the warehouse was built ({built_by} -> "
                f"{fingerprint}), or the last full refresh did not finish: this refresh "
                "rebuilds every model in full"
            )
        elif full_refresh:
            reason = "full refresh: every model is rebuilt from raw"
        else:
            reason = ""
        kept = []
        for schema in PUBLISHED_SCHEMAS:
            build = build_schema(schema)
            if build not in existing:
                continue
            if full_refresh or _mark(conn, build) != fingerprint:
                conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(build)))
            else:
                kept.append(build)
        if full_refresh:
            # until the full build completes, nothing may be taken as up to date
            if INTERMEDIATE_SCHEMA in existing:
                conn.execute(f"comment on schema {INTERMEDIATE_SCHEMA} is null")
        elif not reason:
            reason = (
                "incremental: "
                + (f"{', '.join(kept)} catch up from their stamps" if kept else "")
                + ("; " if kept and len(kept) < len(PUBLISHED_SCHEMAS) else "")
                + (
                    "the marts of a schema without a current build are built in full"
                    if len(kept) < len(PUBLISHED_SCHEMAS)
                    else ""
                )
            )
    return BuildPlan(full_refresh, reason)


def mark_built(database_url: str, fingerprint: str) -> None:
    """Record that ``intermediate`` and the build schemas are complete builds of this
    version of the project (after dbt build succeeded)."""
    mark = sql.Literal(BUILD_MARK + fingerprint)
    with psycopg.connect(database_url, autocommit=True) as conn:
        existing = _schemas(conn)
        for schema in (INTERMEDIATE_SCHEMA, *map(build_schema, PUBLISHED_SCHEMAS)):
            if schema in existing:
                conn.execute(
                    sql.SQL("comment on schema {} is {}").format(sql.Identifier(schema), mark)
                )


def drop_previous(conn: psycopg.Connection, result: PublishResult) -> None:
    """Drop schemas that publishes of earlier versions replaced (they kept them under
    ``<schema>_previous_<n>``), skipping any still being read."""
    previous = sorted(
        name
        for name in _schemas(conn)
        if any(name.startswith(schema + PREVIOUS_INFIX) for schema in PUBLISHED_SCHEMAS)
    )
    for name in previous:
        try:
            with conn.transaction():
                conn.execute(f"set local lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))
            result.dropped.append(name)
        except psycopg.errors.LockNotAvailable:
            log.warning("%s is still being read; the next publish drops it", name)
            result.left_for_later.append(name)


def _only_autovacuum_holds(conn: psycopg.Connection) -> bool:
    """Whether the locks held on the published tables are all autovacuum's."""
    holders = conn.execute(
        """
        select activity.backend_type
        from pg_locks as locks
        inner join pg_class as tables on locks.relation = tables.oid
        inner join pg_namespace as schemas on tables.relnamespace = schemas.oid
        inner join pg_stat_activity as activity on locks.pid = activity.pid
        where
            locks.granted
            and schemas.nspname = any(%s)
            and locks.pid <> pg_backend_pid()
        """,
        (list(PUBLISHED_SCHEMAS),),
    ).fetchall()
    return bool(holders) and all(row[0] == "autovacuum worker" for row in holders)


def _swap(
    conn: psycopg.Connection,
    published: list[sql.Composable],
    existing: set[str],
    lock_timeout: str = SWAP_LOCK_ATTEMPT,
) -> None:
    """One attempt at the swap, inside the caller's transaction."""
    if published:
        # Take every published table first: queries reading them finish, new ones wait
        # until the swap commits, then look their tables up again and find the new ones,
        # so no query ever reads one old mart and one new mart. Each attempt waits only
        # briefly, less than PostgreSQL's deadlock_timeout: a reader that holds one mart
        # and waits for another makes this attempt give up (and release what it took)
        # before the deadlock detector would cancel the reader's query.
        conn.execute(f"set local lock_timeout = '{lock_timeout}'")
        conn.execute(
            sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(published))
        )
    for schema in PUBLISHED_SCHEMAS:
        parked = schema + PARKED_SUFFIX
        if schema in existing:
            _rename(conn, schema, parked)
            revoke_read(conn, parked, READERS[schema])
        _rename(conn, build_schema(schema), schema)
        # grants belong to the schema: the swapped-in one has none yet
        grant_read(conn, schema, READERS[schema])
        if schema in existing:
            # the replaced marts are the next build's starting point
            _rename(conn, parked, build_schema(schema))


def _rename(conn: psycopg.Connection, schema: str, name: str) -> None:
    conn.execute(
        sql.SQL("alter schema {} rename to {}").format(sql.Identifier(schema), sql.Identifier(name))
    )


def _vacuum(conn: psycopg.Connection, marts: list[str]) -> None:
    """VACUUM each built mart before BI tools see it: it sets the visibility map, without
    which an index-only scan fetches every row from the table anyway. A dashboard's range
    query on a fresh mart (one page's views over a week, 10 M events) read 39 k table
    pages in 3.1 s; after VACUUM, the index alone in 29 ms (docs/benchmarks.md). Pages
    already all-visible are skipped, so after an incremental build it costs little."""
    started = time.monotonic()
    for name in marts:
        schema, table = name.split(".", 1)
        conn.execute(
            sql.SQL("vacuum {}.{}").format(
                sql.Identifier(build_schema(schema)), sql.Identifier(table)
            )
        )
    log.info("vacuumed %d marts in %.1f s", len(marts), time.monotonic() - started)


def publish(database_url: str, expected: set[str]) -> PublishResult:
    """Swap every build schema in, all at once. ``expected`` names every mart
    ("<schema>.<table>"); when one is missing from the build, raise PublishError and
    change nothing."""
    result = PublishResult()
    with psycopg.connect(database_url, autocommit=True) as conn:
        existing = _schemas(conn)
        built = {
            f"{schema}.{table}"
            for schema in PUBLISHED_SCHEMAS
            if build_schema(schema) in existing
            for table in _tables(conn, build_schema(schema))
        }
        missing = sorted(expected - built)
        if missing:
            shown = ", ".join(missing[:5])
            if len(missing) > 5:
                shown += f" and {len(missing) - 5} more"
            raise PublishError(
                f"nothing published: {shown} not built (the dbt build did not complete); "
                "the published marts are unchanged"
            )
        for name in sorted(built - expected):
            # a model the project no longer has: not published, not kept for the next build
            schema, table = name.split(".", 1)
            log.info("dropping %s.%s: no model of the project builds it", schema, table)
            conn.execute(
                sql.SQL("drop table {}.{}").format(
                    sql.Identifier(build_schema(schema)), sql.Identifier(table)
                )
            )
        _vacuum(conn, sorted(built & expected))
        for schema in PUBLISHED_SCHEMAS:
            for table, rows in row_counts(conn, build_schema(schema)).items():
                result.tables[f"{schema}.{table}"] = rows
        published = [
            sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            for schema in PUBLISHED_SCHEMAS
            if schema in existing
            for table in _tables(conn, schema)
        ]
        deadline = time.monotonic() + SWAP_WAIT_SECONDS
        attempts = 0
        lock_timeout = SWAP_LOCK_ATTEMPT
        while True:
            attempts += 1
            try:
                with conn.transaction():
                    _swap(conn, published, existing, lock_timeout)
                    failpoint("publish.before_commit")
                break
            except psycopg.errors.LockNotAvailable as error:
                # Autovacuum (busy with the marts the last refresh published) gives way to
                # a lock request only after it waited deadlock_timeout; the short attempts
                # never wait that long, so they queued behind it for seconds (12.8 s of a
                # 55 s refresh in bench/refresh.py). When autovacuum is the only holder,
                # the next attempt waits long enough for PostgreSQL to cancel it.
                lock_timeout = (
                    AUTOVACUUM_LOCK_ATTEMPT if _only_autovacuum_holds(conn) else SWAP_LOCK_ATTEMPT
                )
                if time.monotonic() >= deadline:
                    raise PublishError(
                        f"the published marts were being read without a pause for "
                        f"{SWAP_WAIT_SECONDS} s ({attempts} attempts; a BI tool holding a "
                        "transaction open?); nothing was published, the next refresh tries "
                        "again"
                    ) from error
                time.sleep(random.uniform(0.02, 0.2))
        if attempts > 1:
            log.info(
                "published after %d attempts (readers or autovacuum held the old marts)", attempts
            )
        failpoint("publish.after_commit")
        drop_previous(conn, result)
    return result
