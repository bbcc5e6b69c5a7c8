"""WhatsApp marts against what the generator knows it produced (the demo week)."""

from __future__ import annotations

import pytest

from tests.conftest import DemoWarehouse


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
