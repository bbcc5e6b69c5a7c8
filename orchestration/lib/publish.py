"""Write-audit-publish: dbt builds the marts where BI tools cannot see them, the checks
audit them there, and ``publish`` swaps them in, all schemas in one transaction.

dbt writes every model of the published schemas (``marts``, ``marts_pii``) into
``<schema>_build`` (see ``dbt_project/macros/generate_schema_name.sql``). Publishing renames,
in one transaction, each published schema to ``<schema>_previous_<n>`` and each build
schema to the published name, then grants read access to the reader roles again. PostgreSQL
DDL is transactional, and the swap first takes every published table's lock (waiting for
queries already reading them, up to ``SWAP_WAIT_SECONDS``): a BI query sees either every
old mart or every new one, never a mix, and never a partly built table. The old schemas are
dropped afterwards, each with a short lock timeout: one still read by a long BI query is
left for the next publish to drop.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from extract.failpoints import failpoint
from orchestration.lib.roles import READERS, grant_read

PUBLISHED_SCHEMAS = ("marts", "marts_pii")
BUILD_SUFFIX = "_build"
PREVIOUS_INFIX = "_previous_"
SWAP_LOCK_ATTEMPT = "200ms"  # below PostgreSQL's default deadlock_timeout (1 s)
SWAP_WAIT_SECONDS = 60
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


def drop_build_schemas(database_url: str) -> None:
    """Remove what an earlier, failed run left in the build schemas, so that a build
    starts clean and nothing stale can be published."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for schema in PUBLISHED_SCHEMAS:
            conn.execute(
                sql.SQL("drop schema if exists {} cascade").format(
                    sql.Identifier(build_schema(schema))
                )
            )


def drop_previous(conn: psycopg.Connection, result: PublishResult) -> None:
    """Drop the schemas earlier publishes replaced, skipping any still being read."""
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


def _swap(
    conn: psycopg.Connection,
    published: list[sql.Composable],
    existing: set[str],
    suffix: str,
) -> None:
    """One attempt at the swap, inside the caller's transaction."""
    if published:
        # Take every published table first: queries reading them finish, new ones wait
        # until the swap commits, then look their tables up again and find the new ones,
        # so no query ever reads one old mart and one new mart. Each attempt waits only
        # briefly, less than PostgreSQL's deadlock_timeout: a reader that holds one mart
        # and waits for another makes this attempt give up (and release what it took)
        # before the deadlock detector would cancel the reader's query.
        conn.execute(f"set local lock_timeout = '{SWAP_LOCK_ATTEMPT}'")
        conn.execute(
            sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(published))
        )
    for schema in PUBLISHED_SCHEMAS:
        if schema in existing:
            conn.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(schema),
                    sql.Identifier(f"{schema}{PREVIOUS_INFIX}{suffix}"),
                )
            )
        conn.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(build_schema(schema)), sql.Identifier(schema)
            )
        )
        # grants belong to the schema: the swapped-in one has none yet
        grant_read(conn, schema, READERS[schema])


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
        for schema in PUBLISHED_SCHEMAS:
            for table, rows in row_counts(conn, build_schema(schema)).items():
                result.tables[f"{schema}.{table}"] = rows
        suffix = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S%f")
        published = [
            sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            for schema in PUBLISHED_SCHEMAS
            if schema in existing
            for table in _tables(conn, schema)
        ]
        deadline = time.monotonic() + SWAP_WAIT_SECONDS
        attempts = 0
        while True:
            attempts += 1
            try:
                with conn.transaction():
                    _swap(conn, published, existing, suffix)
                    failpoint("publish.before_commit")
                break
            except psycopg.errors.LockNotAvailable as error:
                if time.monotonic() >= deadline:
                    raise PublishError(
                        f"the published marts were being read without a pause for "
                        f"{SWAP_WAIT_SECONDS} s ({attempts} attempts; a BI tool holding a "
                        "transaction open?); nothing was published, the next refresh tries "
                        "again"
                    ) from error
                time.sleep(random.uniform(0.02, 0.2))
        if attempts > 1:
            log.info("published after %d attempts (readers held the old marts)", attempts)
        failpoint("publish.after_commit")
        drop_previous(conn, result)
    return result
