"""Late events (METRICS.md, Events): within `late_arrival_days` of the watermark they land
in the right session, conversation and day at the next refresh; older ones are kept,
counted as too late, left out of the marts, and modelled by the next full refresh.

Events are written by hand so that each case is exact: a web visitor with two sessions an
hour apart, a WhatsApp contact with a conversation, then a late page view that bridges the
two sessions, a late message that joins the conversation, an identify that links the
visitor to a user, and a page view five days older than the watermark. A visitor active on
the first and third day (one session each) gets a late page view on the second, in a
session of its own: the third day's row in `user_activity_daily`, a day the incremental
refresh does not recount, learns its new previous day, and `active_people_daily` recounts
that day.
"""

from __future__ import annotations

import datetime
import json
import uuid

import psycopg

from extract.config import Settings
from orchestration.defs.transform import checks
from tests.conftest import run_cli
from tests.warehouse import deliver as send

UTC = datetime.UTC
# Old enough to be complete days, and three days back so that the watermark event at
# T0 + 3 days (08:00 today) is never more than a day ahead of the clock, which the extract
# rejects as a future timestamp (with T0 two days back it was, before 08:00 UTC).
T0 = (datetime.datetime.now(UTC) - datetime.timedelta(days=3)).replace(
    hour=8, minute=0, second=0, microsecond=0
)
PHONE = "+254700000123"


def _at(minutes: float) -> str:
    return (T0 + datetime.timedelta(minutes=minutes)).isoformat()


def page_view(
    minutes: float,
    path: str = "/nil/start",
    anonymous_id: str = "anon-late",
    session_id: str | None = None,
) -> dict:
    return {
        "eventId": f"pv-{uuid.uuid4()}",
        "name": "page_view",
        "timestamp": _at(minutes),
        "anonymousId": anonymous_id,
        "sessionId": session_id,
        "properties": {"path": path, "title": path},
        "context": {"country": "KE", "deviceType": "desktop", "browser": "Firefox", "os": "Linux"},
    }


def message(minutes: float, direction: str) -> dict:
    name = "message.received" if direction == "inbound" else "message.sent"
    properties = {"messageId": f"wamid-{uuid.uuid4()}", "contact": PHONE}
    if direction == "outbound":
        properties["senderType"] = "bot"
    return {
        "eventId": f"msg-{uuid.uuid4()}",
        "name": name,
        "timestamp": _at(minutes),
        "properties": properties,
    }


def deliver(settings: Settings, events: list[dict]) -> None:
    send(settings, [json.dumps(event) for event in events])


def refresh(settings: Settings, *args: str) -> str:
    result = run_cli(settings, "refresh", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


# anon-days' days in user_activity_daily and their previous active days, counted from the first
ACTIVE_DAYS = """
    select
        activity_date - first_day,
        previous_active_date - first_day,
        previous_active_date_any_channel - first_day
    from marts.user_activity_daily
    cross join (
        select min(activity_date) as first_day
        from marts.user_activity_daily where user_key = 'anon-days'
    ) as first
    where user_key = 'anon-days'
    order by activity_date
"""

# active_people_daily's web row of anon-days' third day (no one else is active that day):
# previous active day counted from the first, people
THIRD_DAY_PEOPLE = """
    select previous_active_date - first_day, people
    from marts.active_people_daily
    cross join (
        select min(activity_date) as first_day
        from marts.user_activity_daily where user_key = 'anon-days'
    ) as first
    where activity_date = first_day + 2 and channel = 'web'
"""


def rows(conn: psycopg.Connection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


TOO_LATE_INDEXES = """
    select indexname from pg_indexes
    where
        schemaname = 'intermediate' and tablename = 'int_events__identified'
        and indexdef like '% WHERE is_too_late'
"""


def assert_too_late_rows_are_counted_by_their_index(conn: psycopg.Connection) -> None:
    """int_events__identified has one partial index on its too-late rows (a post-hook,
    macro partial_index), and the warning check's count can read it alone."""
    indexes = [name for (name,) in rows(conn, TOO_LATE_INDEXES)]
    assert len(indexes) == 1, indexes
    with conn.transaction():
        conn.execute("set local enable_seqscan = off")
        plan = "\n".join(line for (line,) in rows(conn, "explain " + checks.TOO_LATE_SQL))
    assert indexes[0] in plan, plan


def test_late_events_join_their_session_and_conversation_and_too_late_ones_wait(
    settings: Settings, db: psycopg.Connection
) -> None:
    # First delivery: sessions at 0-10 and 70-80 minutes (a 60-minute gap), a conversation
    # at 0-5 minutes, and a web event 3 days later that moves the web watermark.
    deliver(
        settings,
        [
            page_view(0),
            page_view(10),
            page_view(70),
            page_view(80),
            message(0, "inbound"),
            message(1, "outbound"),
            message(5, "inbound"),
            page_view(0, anonymous_id="anon-days", session_id="s-days-1"),
            page_view(2 * 24 * 60, anonymous_id="anon-days", session_id="s-days-3"),
            page_view(3 * 24 * 60, anonymous_id="anon-watermark"),
        ],
    )
    refresh(settings)
    assert rows(db, ACTIVE_DAYS) == [(0, None, None), (2, 0, 0)]
    assert rows(db, THIRD_DAY_PEOPLE) == [(0, 1)]
    # nothing new: builds the second copy of the marts (write-audit-publish keeps two), so
    # that the next refresh is an incremental build of the first
    refresh(settings)
    assert rows(
        db,
        "select event_count from marts.fct_sessions where user_key = 'anon-late' "
        "order by started_at",
    ) == [(2,), (2,)]
    assert rows(db, "select message_count from marts.fct_conversations") == [(3,)]

    # Second delivery: late by up to 3 days (the web watermark is T0 + 3 days): page views
    # at 35 and 55 minutes bridge the sessions (gaps of 25, 20 and 15 minutes), a message
    # at 20 minutes joins the conversation (15 minutes after its last one), an identify at
    # 90 minutes links the visitor to user U-late (and is the session's seventh event);
    # one page view 5 days before the watermark is too late.
    too_late = page_view(-2 * 24 * 60, path="/too/late", anonymous_id="anon-too-late")
    identify = {
        "eventId": f"id-{uuid.uuid4()}",
        "name": "identify",
        "timestamp": _at(90),
        "anonymousId": "anon-late",
        "userId": "U-late",
    }
    late_day = page_view(24 * 60, anonymous_id="anon-days", session_id="s-days-2")
    deliver(
        settings,
        [page_view(35), page_view(55), message(20, "inbound"), identify, too_late, late_day],
    )
    report = refresh(settings)
    # the late second day is between the other two: the third day's previous day is mended
    assert rows(db, ACTIVE_DAYS) == [(0, None, None), (1, 0, 0), (2, 1, 1)]
    # and the third day, not a changed day, is recounted in active_people_daily
    assert rows(db, THIRD_DAY_PEOPLE) == [(1, 1)]

    # one session now: the bridged one, attributed to the identified user
    assert rows(
        db,
        "select user_key, event_count, page_view_count from marts.fct_sessions "
        "where user_key in ('anon-late', 'U-late') order by started_at",
    ) == [("U-late", 7, 6)]
    assert rows(db, "select message_count, inbound_count from marts.fct_conversations") == [(4, 3)]
    # the too-late event is kept in raw, counted, and in no mart
    assert rows(
        db, f"select count(*) from raw.events where event_id = '{too_late['eventId']}'"
    ) == [(1,)]
    assert rows(
        db, "select count(*) from intermediate.int_events__identified where is_too_late"
    ) == [(1,)]
    assert rows(
        db, f"select count(*) from marts.fct_events where event_id = '{too_late['eventId']}'"
    ) == [(0,)]
    assert "1 events arrived too late for an incremental refresh" in report
    assert "analytics refresh --full-refresh" in report
    assert_too_late_rows_are_counted_by_their_index(db)

    # A full refresh models it, and says nothing waits any more.
    report = refresh(settings, "--full-refresh")
    assert rows(
        db, f"select count(*) from marts.fct_events where event_id = '{too_late['eventId']}'"
    ) == [(1,)]
    assert rows(db, "select count(*) from marts.fct_sessions where user_key = 'anon-too-late'") == [
        (1,)
    ]
    assert "too late" not in report
    # the full build's new table has the index too (its old one was renamed, then dropped)
    assert_too_late_rows_are_counted_by_their_index(db)
    # and the incremental result equalled the full rebuild for everything else
    assert rows(
        db,
        "select user_key, event_count, page_view_count from marts.fct_sessions "
        "where user_key in ('anon-late', 'U-late') order by started_at",
    ) == [("U-late", 7, 6)]
    assert rows(db, ACTIVE_DAYS) == [(0, None, None), (1, 0, 0), (2, 1, 1)]
