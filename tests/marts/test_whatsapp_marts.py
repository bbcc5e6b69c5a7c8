"""WhatsApp marts against what the generator knows it produced (the demo week)."""

from __future__ import annotations

import pytest

from generator.truth import AGENT_FIELDS, KRA_FIELDS
from tests.conftest import DemoWarehouse
from tests.marts.documented import percentile_cont, query


@pytest.fixture(scope="module")
def whatsapp(demo_warehouse: DemoWarehouse) -> dict:
    return demo_warehouse.truth["whatsapp"]


def test_messages_by_direction_and_sender(marts, whatsapp) -> None:
    by_sender = dict(
        marts.execute(
            "select sender_type, count(*) from marts.fct_whatsapp_messages"
            " where direction = 'outbound' group by 1"
        )
    )
    assert by_sender == whatsapp["messages_sent_by_sender"]
    received = marts.execute(
        "select count(*) from marts.fct_whatsapp_messages where direction = 'inbound'"
    ).fetchone()[0]
    assert received == whatsapp["messages_received"]


def test_statuses_and_replies_survive_out_of_order_and_repeated_statuses(marts, whatsapp) -> None:
    row = marts.execute(
        """
        select
            count(*) filter (where is_delivered),
            count(*) filter (where is_read),
            count(*) filter (where is_failed),
            count(*) filter (where is_replied),
            count(*) filter (where read_at < delivered_at)
        from marts.fct_whatsapp_messages
        where direction = 'outbound'
        """
    ).fetchone()
    assert row == (
        whatsapp["messages_delivered"],
        whatsapp["messages_read"],
        whatsapp["messages_failed"],
        whatsapp["messages_replied"],
        0,
    )


def test_conversations_by_outcome_escalations_and_csat(marts, whatsapp) -> None:
    by_status = dict(
        marts.execute("select status, count(*) from marts.fct_conversations group by 1")
    )
    assert by_status == whatsapp["conversations_by_status"]
    row = marts.execute(
        "select count(*) filter (where is_escalated), count(csat_score), sum(csat_score)"
        " from marts.fct_conversations"
    ).fetchone()
    assert row == (
        whatsapp["conversations_escalated"],
        whatsapp["csat_count"],
        whatsapp["csat_sum"],
    )


def test_every_conversation_message_is_counted_once(marts) -> None:
    row = marts.execute(
        """
        select
            (select sum(message_count) from marts.fct_conversations),
            (select count(*) from marts.fct_whatsapp_messages where conversation_id is not null)
        """
    ).fetchone()
    assert row[0] == row[1]


def _by_key(marts, sql: str) -> dict:
    """{first column: the rest of the row} of ``sql``."""
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in marts.execute(sql)}


def test_contacts_and_messages_by_country(marts, whatsapp) -> None:
    contacts = _by_key(
        marts, "select country_code, count(*) from marts.dim_whatsapp_contacts group by 1"
    )
    assert contacts == whatsapp["contacts_by_country"]
    messages = _by_key(
        marts,
        "select country_code, sum(messages_received + messages_sent)"
        " from marts.whatsapp_countries_daily group by 1",
    )
    assert messages == whatsapp["messages_by_country"]


def test_daily_stats_add_up_to_the_week(marts, whatsapp) -> None:
    row = marts.execute(
        """
        select sum(messages_received), sum(messages_sent), sum(messages_delivered),
            sum(messages_read), sum(messages_failed), sum(messages_replied), sum(new_contacts),
            sum(conversations_started)
        from marts.whatsapp_stats_daily
        """
    ).fetchone()
    assert row == (
        whatsapp["messages_received"],
        whatsapp["messages_sent"],
        whatsapp["messages_delivered"],
        whatsapp["messages_read"],
        whatsapp["messages_failed"],
        whatsapp["messages_replied"],
        whatsapp["contacts"],
        whatsapp["conversations"],
    )
    funnel = _by_key(
        marts,
        "select stage, sum(messages) from marts.whatsapp_message_funnel_daily group by 1",
    )
    assert funnel == {
        "sent": whatsapp["messages_sent"],
        "delivered": whatsapp["messages_delivered"],
        "read": whatsapp["messages_read"],
        "replied": whatsapp["messages_replied"],
    }


def test_response_waits_by_responder_and_bucket(marts, whatsapp) -> None:
    by_responder = _by_key(
        marts,
        "select coalesce(responder, 'unanswered'), count(*)"
        " from marts.fct_whatsapp_response_times group by 1",
    )
    expected = {key: count for key, count in whatsapp["waits_by_responder"].items() if count}
    assert by_responder == expected
    assert sum(by_responder.values()) == whatsapp["waits"]
    buckets = _by_key(
        marts,
        "select bucket, sum(waits) from marts.whatsapp_response_time_histogram_daily group by 1",
    )
    assert buckets == whatsapp["wait_buckets"]
    total_ms = marts.execute(
        "select round(sum(response_seconds) * 1000) from marts.fct_whatsapp_response_times"
    ).fetchone()[0]
    assert total_ms == whatsapp["wait_ms_sum"]


def test_kra_report_by_journey_and_support_type(marts, whatsapp) -> None:
    rows = marts.execute(
        """
        select journey || '|' || support_type,
            sum(chats_started), sum(chats_resolved), sum(chats_dropped), sum(chats_open),
            sum(chats_escalated), sum(first_responses),
            round(sum(total_first_response_seconds) * 1000),
            round(coalesce(sum(total_resolution_seconds), 0) * 1000),
            sum(csat_responses), coalesce(sum(csat_score_sum), 0)
        from marts.kra_daily
        group by 1
        """
    ).fetchall()
    actual = {key: dict(zip(KRA_FIELDS, values, strict=True)) for key, *values in rows}
    assert actual == whatsapp["kra"]


def test_agent_performance_over_the_week(marts, whatsapp) -> None:
    rows = marts.execute(
        """
        select agent_id, sum(chats_resolved), sum(messages_sent), sum(first_responses),
            round(coalesce(sum(avg_first_response_seconds * first_responses), 0) * 1000),
            round(coalesce(sum(avg_resolution_seconds * chats_resolved), 0) * 1000),
            sum(csat_responses), round(coalesce(sum(csat_avg * csat_responses), 0))
        from marts.agent_performance
        group by agent_id
        """
    ).fetchall()
    actual = {agent: dict(zip(AGENT_FIELDS, values, strict=True)) for agent, *values in rows}
    assert actual == whatsapp["agents"]


def test_resolved_chats_by_service(marts, whatsapp) -> None:
    by_service = _by_key(
        marts,
        "select service_name, sum(chats_resolved) from marts.service_performance_daily group by 1",
    )
    assert by_service == whatsapp["resolved_by_service"]


def test_reported_durations_agree_with_measured_resolutions(marts) -> None:
    row = marts.execute(
        """
        select count(*), count(*) filter (where abs(reported_duration_difference_seconds) >= 60)
        from marts.fct_conversations
        where status = 'resolved'
        """
    ).fetchone()
    assert row[0] > 0
    assert row[1] == 0


def test_response_time_median_and_p90_from_the_distribution(marts, whatsapp) -> None:
    """docs/marts.md's query on whatsapp_response_time_distribution_daily: the median and p90
    of the answered waits generated, rounded to the second, overall and by responder."""
    first, last = marts.execute(
        "select min(activity_date), max(activity_date)"
        " from marts.whatsapp_response_time_distribution_daily"
    ).fetchone()
    documented = query("from marts.whatsapp_response_time_distribution_daily", first, last)
    actual = {row[0]: row[1:] for row in marts.execute(documented)}
    by_responder = {
        responder: {int(seconds): n for seconds, n in counts.items()}
        for responder, counts in whatsapp["wait_second_counts"].items()
    }
    overall: dict[int, int] = {}
    for counts in by_responder.values():
        for seconds, n in counts.items():
            overall[seconds] = overall.get(seconds, 0) + n
    expected = {**by_responder, "all": overall}
    assert set(actual) == set(expected)
    assert len(expected) >= 3  # bot, agent and overall at least
    for responder, counts in expected.items():
        assert actual[responder] == (
            pytest.approx(percentile_cont(counts, 0.5)),
            pytest.approx(percentile_cont(counts, 0.9)),
        ), responder
