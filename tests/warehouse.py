"""Helpers shared by the tests that compare whole warehouses."""

from __future__ import annotations

import psycopg
import redis

from extract.config import Settings

PUBLISHED = ("marts", "marts_pii")


def fingerprints(database_url: str) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows) of every published table, without the stamps of
    the refresh that wrote each row (``refreshed_load_id``: a full rebuild writes every row
    at once, an incremental refresh only some)."""
    prints: dict[str, tuple[int, str]] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = conn.execute(
            "select schemaname, tablename from pg_tables where schemaname = any(%s)",
            (list(PUBLISHED),),
        ).fetchall()
        for schema, table in tables:
            prints[f"{schema}.{table}"] = conn.execute(
                f"""
                select count(*), coalesce(md5(string_agg(row_text, E'\\n' order by row_text)), '')
                from (
                    select (to_jsonb(t) - 'refreshed_load_id')::text as row_text
                    from "{schema}"."{table}" as t
                ) as rows
                """
            ).fetchone()
    return prints


def differing(left: dict[str, tuple[int, str]], right: dict[str, tuple[int, str]]) -> list[str]:
    """The tables whose fingerprints differ (or that only one side has)."""
    return sorted(name for name in set(left) | set(right) if left.get(name) != right.get(name))


def deliver(settings: Settings, payloads: list[str]) -> None:
    """XADD every payload to the settings' stream, as producers do."""
    client = redis.Redis.from_url(settings.redis_url)
    pipe = client.pipeline()
    for payload in payloads:
        pipe.xadd(settings.stream, {"event": payload})
    pipe.execute()
