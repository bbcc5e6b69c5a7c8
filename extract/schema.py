"""DDL of the ``raw`` schema, applied idempotently before every load."""

from __future__ import annotations

import psycopg

# One statement per item so each can be reported if it fails.
RAW_DDL: tuple[str, ...] = (
    "create schema if not exists raw",
    "create sequence if not exists raw.load_id_seq",
    """
    create table if not exists raw.events (
        event_id      text        not null primary key,
        event_name    text        not null,
        channel       text        not null,
        occurred_at   timestamptz not null,
        user_id       text,
        anonymous_id  text,
        session_id    text,
        payload       jsonb       not null,
        stream_id     text        not null,
        received_at   timestamptz not null generated always as
            (to_timestamp(split_part(stream_id, '-', 1)::bigint / 1000.0)) stored,
        -- set by the extract for each batch: select set_config('analytics.load_id', ...)
        load_id       bigint      not null
            default current_setting('analytics.load_id')::bigint,
        loaded_at     timestamptz not null default now()
    )
    """,
    "create index if not exists events_load_id_idx on raw.events (load_id)",
    # Identity stitching (int_events__identified) reads every identify call in a full
    # build, and in an incremental one looks up the first identify of each anonymousId it
    # models, and the events of the anonymousIds a new identify links to a person. Both
    # index the key as the staging layer normalises it (an index on the bare column is not
    # used for a filter on the expression: a 10 M-event refresh scanned the table).
    "drop index if exists raw.events_identify_idx",
    "drop index if exists raw.events_anonymous_id_idx",
    "create index if not exists events_identify_key_idx"
    " on raw.events ((nullif(trim(anonymous_id), '')), occurred_at, event_id)"
    " where event_name = 'identify'",
    "create index if not exists events_anonymous_key_idx"
    " on raw.events ((nullif(trim(anonymous_id), '')))",
    # dim_user_traits: the latest identify call with traits of every user, in user order
    # (122 k of 9.7 M events at 10 M: a scan of the whole table was 10.7 s of every refresh)
    "create index if not exists events_identify_user_idx"
    " on raw.events (user_id, occurred_at desc, event_id desc)"
    " where event_name = 'identify' and user_id is not null",
    # the freshness check's max(received_at): an index probe, not a scan of every event
    # (7.8 s of a 10 M-event refresh); stream order, so inserts append at the right edge
    "create index if not exists events_received_at_idx on raw.events (received_at)",
    """
    create table if not exists raw.rejected_events (
        stream_id    text        not null primary key,
        payload      text        not null,
        reason       text        not null,
        detail       text        not null,
        load_id      bigint      not null,
        rejected_at  timestamptz not null default now()
    )
    """,
    """
    create table if not exists raw.load_audit (
        load_id             bigint      not null primary key,
        stream              text        not null,
        consumer            text        not null,
        first_stream_id     text        not null,
        last_stream_id      text        not null,
        entries             integer     not null,
        loaded              integer     not null,
        duplicates          integer     not null,
        replayed            integer     not null,
        rejected            integer     not null,
        rejected_by_reason  jsonb       not null,
        started_at          timestamptz not null,
        committed_at        timestamptz not null default clock_timestamp()
    )
    """,
    "comment on table raw.events is "
    "'One row per accepted event: the first loaded copy of each eventId (CONTRACT.md section 3).'",
    "comment on table raw.rejected_events is "
    "'One row per stream entry that broke a rule of CONTRACT.md section 3, with its reason.'",
    "comment on table raw.load_audit is "
    "'One row per committed extract batch: what it read, loaded, skipped and rejected.'",
)

# Serialises the assignment of load_id with the commit of its batch, so load_ids become
# visible in increasing order even when several extracts run at once.
LOAD_ORDER_LOCK_KEY = 0x616E616C79746963  # "analytic"


# Every relation RAW_DDL creates: when all exist, there is nothing to do (and the extract
# may run as analytics_loader, which may write rows but not change the schema).
RAW_RELATIONS = (
    "events",
    "events_pkey",
    "events_load_id_idx",
    "events_identify_key_idx",
    "events_anonymous_key_idx",
    "events_identify_user_idx",
    "events_received_at_idx",
    "rejected_events",
    "load_audit",
)


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    """Create the raw schema and its tables when missing (safe to run concurrently)."""
    with conn.transaction():
        present = conn.execute(
            "select count(*) from pg_class where relnamespace = to_regnamespace('raw')"
            " and relname = any(%s)",
            (list(RAW_RELATIONS),),
        ).fetchone()[0]
    if present == len(RAW_RELATIONS):
        return
    with conn.transaction(), conn.cursor() as cursor:
        # DDL "if not exists" is not race-free in PostgreSQL; serialise it.
        cursor.execute("select pg_advisory_xact_lock(%s)", (LOAD_ORDER_LOCK_KEY + 1,))
        for statement in RAW_DDL:
            cursor.execute(statement)
