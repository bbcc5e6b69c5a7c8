"""``analytics summary``: what the warehouse holds now, and where to look next."""

from __future__ import annotations

import psycopg
from psycopg import sql

from extract.config import Settings, redact

LAYERS = ("raw", "staging", "intermediate", "marts", "marts_pii")


def warehouse_counts(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """Exact row counts of every table and view in the pipeline's schemas."""
    relations = conn.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_schema = any(%s)
        order by array_position(%s, table_schema::text), table_name
        """,
        (list(LAYERS), list(LAYERS)),
    ).fetchall()
    counts = []
    for schema, name in relations:
        query = sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(schema), sql.Identifier(name)
        )
        counts.append((schema, name, conn.execute(query).fetchone()[0]))
    return counts


def _headline(settings: Settings) -> list[str]:
    """A few figures from the marts, as the dashboards show them."""
    lines: list[str] = []
    with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
        overview = conn.execute(
            """
            select min(activity_date), max(activity_date), sum(sessions),
                   sum(converted_sessions)::numeric / nullif(sum(sessions), 0),
                   sum(bounced_sessions)::numeric / nullif(sum(sessions), 0)
            from marts.overview_daily
            """
        ).fetchone()
        if overview and overview[2]:
            first, last, sessions, completion, bounce = overview
            lines.append(
                f"web {first} to {last}: {sessions:,} sessions, completion rate "
                f"{completion:.1%}, bounce rate {bounce:.1%}"
            )
        funnels = conn.execute(
            "select journey, string_agg(sessions::text, ' > ' order by step_number)"
            " from marts.funnel_steps group by journey order by journey"
        ).fetchall()
        lines.extend(f"funnel {journey}: {steps}" for journey, steps in funnels)
    return lines


def print_summary(settings: Settings) -> None:
    with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
        counts = warehouse_counts(conn)
        rejected = (
            conn.execute(
                "select reason, count(*) from raw.rejected_events group by 1 order by 2 desc"
            ).fetchall()
            if any(s == "raw" and n == "rejected_events" for s, n, _ in counts)
            else []
        )
        last_load = (
            conn.execute("select max(committed_at) from raw.load_audit").fetchone()[0]
            if any(s == "raw" and n == "load_audit" for s, n, _ in counts)
            else None
        )
    headline = _headline(settings) if any(s == "marts" for s, _, _ in counts) else []
    print(f"warehouse {redact(settings.database_url)}")
    print(f"{'table':<45} {'rows':>12}")
    for schema, name, rows in counts:
        print(f"{schema + '.' + name:<45} {rows:>12,}")
    if rejected:
        print("rejected entries by reason: " + ", ".join(f"{r} {n:,}" for r, n in rejected))
    if last_load:
        print(f"last extract batch committed at {last_load:%Y-%m-%d %H:%M:%S %Z}")
    for line in headline:
        print(line)
    target = settings.postgres
    print()
    print("next:")
    print("  make dev    Dagster UI on http://127.0.0.1:3000 (runs, asset lineage, checks)")
    print("  make docs   dbt docs on http://127.0.0.1:8080")
    print(
        f"  psql 'postgresql://{target.user}@{target.host}:{target.port}/{target.dbname}'"
        "  then: select * from raw.load_audit order by load_id desc limit 5;"
    )
