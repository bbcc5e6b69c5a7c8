"""Active people over a range from previous active days, against distinct people counted
from `fct_events`: docs/marts.md's queries on `active_people_daily`, and the same count
over `user_activity_daily`."""

from __future__ import annotations

import datetime

import psycopg

from tests.marts.documented import query

FROM_PREVIOUS_DAYS = """
    select channel, count(*)
    from marts.user_activity_daily
    where
        activity_date between %(first)s and %(last)s
        and (previous_active_date is null or previous_active_date < %(first)s)
    group by channel
    union all
    select 'all', count(*)
    from marts.user_activity_daily
    where
        activity_date between %(first)s and %(last)s
        and (
            previous_active_date_any_channel is null
            or previous_active_date_any_channel < %(first)s
        )
"""

FROM_EVENTS = """
    select coalesce(channel, 'all'), count(distinct user_key)
    from marts.fct_events
    where occurred_date between %(first)s and %(last)s and user_key is not null
    group by grouping sets ((channel), ())
"""


# identified web people over a range, counted on their first active day of it, against a
# distinct count
IDENTIFIED_WEB_FROM_PREVIOUS_DAYS = """
    select count(*)
    from marts.user_activity_daily
    where
        channel = 'web'
        and is_identified
        and activity_date between %(first)s and %(last)s
        and (previous_active_date is null or previous_active_date < %(first)s)
"""

IDENTIFIED_WEB_DISTINCT = """
    select count(distinct user_key)
    from marts.fct_events
    where
        channel = 'web'
        and occurred_date between %(first)s and %(last)s
        and user_key in (select user_key from marts.dim_users where user_id is not null)
"""


def test_active_people_of_every_range_of_up_to_a_week(marts: psycopg.Connection) -> None:
    first_day, last_day = marts.execute(
        "select min(occurred_date), max(occurred_date) from marts.fct_events"
    ).fetchone()
    days = [first_day + datetime.timedelta(n) for n in range((last_day - first_day).days + 1)]
    ranges = [(first, last) for first in days for last in days if 0 <= (last - first).days < 7]
    assert len(ranges) >= 20
    cross_channel_ranges = identified_ranges = 0
    for first, last in ranges:
        bounds = {"first": first, "last": last}
        expected = dict(marts.execute(FROM_EVENTS, bounds).fetchall())
        assert dict(marts.execute(FROM_PREVIOUS_DAYS, bounds).fetchall()) == expected, bounds
        # docs/marts.md, active_people_daily: weekly active people
        active_people = query("sum(people) as active_people", first, last)
        assert dict(marts.execute(active_people).fetchall()) == expected, bounds
        (identified_web,) = marts.execute(IDENTIFIED_WEB_DISTINCT, bounds).fetchone()
        assert marts.execute(IDENTIFIED_WEB_FROM_PREVIOUS_DAYS, bounds).fetchone() == (
            identified_web,
        ), bounds
        # docs/marts.md, overview_daily: Total users
        total_users = query("sum(people) as total_users", first, last)
        assert marts.execute(total_users).fetchone() == (identified_web,), bounds
        identified_ranges += identified_web > 0
        by_channel = sum(count for channel, count in expected.items() if channel != "all")
        cross_channel_ranges += by_channel > expected["all"]
    # people on two channels in one range: the any-channel days are exercised
    assert cross_channel_ranges == len(ranges)
    assert identified_ranges == len(ranges)
