"""A full build writes each large fact in the order of its day (macro `in_day_order`).

An incremental refresh recomputes the changed days of the daily marts, and a dashboard
reads a 7-day range: with a day's rows on consecutive pages, each reads those pages. In
the order of the sessions, as a full build wrote them before, one day's rows were spread
over nearly every page of the table (docs/benchmarks.md, "A day's rows together"). The
demo warehouse's marts come from a full build, so their rows, read in physical order
(`ctid`), go back a day only where a row was rewritten after it.
"""

from __future__ import annotations

import psycopg
import pytest

# fact -> the day its rows are written in order of
DAY_ORDERED = {
    "fct_events": "occurred_date",
    "fct_page_views": "viewed_date",
    "fct_sessions": "started_date",
    "fct_funnel_sessions": "started_date",
    "user_activity_daily": "activity_date",
    "fct_whatsapp_messages": "sent_date",
    "fct_whatsapp_response_times": "wait_date",
    "fct_conversations": "started_date",
    "fct_ai_classifications": "classified_date",
    "fct_ai_generations": "generated_date",
}


@pytest.mark.parametrize(("fact", "day"), sorted(DAY_ORDERED.items()))
def test_a_full_build_writes_the_fact_in_the_order_of_its_day(
    marts: psycopg.Connection, fact: str, day: str
) -> None:
    rows, days, steps_back = marts.execute(
        f"""
        select count(*), count(distinct {day}), count(*) filter (where {day} < previous_day)
        from (
            select {day}, lag({day}) over (order by ctid) as previous_day
            from marts.{fact}
        ) as in_physical_order
        """
    ).fetchone()
    # the check means something only over several days of rows
    assert rows > 100 and days >= 5, (rows, days)
    # A few rows rewritten after the build (post-hooks and late rows of the demo's refresh)
    # move to free space elsewhere; written in any other order, about half the rows would
    # follow a later day's.
    assert steps_back <= rows / 100, (
        f"{fact}: {steps_back} of {rows} rows follow a row of a later day"
    )
