"""The core proof: the truth equals METRICS.md's definitions applied to the accepted events.

``generator_reference`` validates every entry and recomputes every figure from the whole
stream at once, independently of the generator's unit-by-unit bookkeeping.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import GeneratorConfig, Truth, generate
from generator.journeys import JOURNEYS

sys.path.insert(0, str(Path(__file__).parent))
import generator_reference as reference  # noqa: E402

NOW = datetime.datetime.now(datetime.UTC)


def _recompute(config: GeneratorConfig) -> tuple[Truth, dict[str, Any], reference.StreamSummary]:
    generation = generate(config)
    payloads = [entry.payload for entry in generation]
    summary = reference.read_stream(payloads, NOW)
    expected = reference.recompute(summary.events, JOURNEYS)
    expected["entries_pushed"] = len(payloads)
    expected["duplicate_deliveries"] = summary.duplicates
    expected["rejected_by_reason"] = summary.rejected_by_reason
    return generation.truth, expected, summary


def _assert_matches(truth: Truth, expected: dict[str, Any]) -> None:
    actual = truth.to_dict()
    mismatches = []
    for key in (
        "entries_pushed",
        "accepted_events",
        "duplicate_deliveries",
        "events_by_name",
        "events_by_channel",
    ):
        if actual[key] != expected[key]:
            mismatches.append((key, actual[key], expected[key]))
    rejected = {reason: count for reason, count in actual["rejected_by_reason"].items() if count}
    if rejected != expected["rejected_by_reason"]:
        mismatches.append(("rejected_by_reason", rejected, expected["rejected_by_reason"]))
    for section in ("web", "whatsapp", "ai"):
        for key, value in expected[section].items():
            if key == "watermark_ms":
                moment = datetime.datetime.fromisoformat(actual[section]["watermark"])
                value, got = value, reference.to_ms(moment)
            else:
                got = actual[section][key]
            if got != value:
                mismatches.append((f"{section}.{key}", got, value))
    assert not mismatches, "truth (generator) vs reference (METRICS.md):\n" + "\n".join(
        f"  {name}: truth={got!r} reference={value!r}" for name, got, value in mismatches
    )
    _assert_consistent(truth)


def _assert_consistent(truth: Truth) -> None:
    """The breakdowns add up to the totals (and every CSAT finds its conversation)."""
    wa, ai = truth.whatsapp, truth.ai
    assert sum(wa.contacts_by_country.values()) == wa.contacts
    assert sum(wa.messages_by_country.values()) == wa.messages_received + wa.messages_sent
    assert all(wa.contacts_by_country.values())
    assert sum(wa.waits_by_responder.values()) == wa.waits
    assert sum(wa.wait_buckets.values()) == wa.waits - wa.waits_by_responder["unanswered"]
    assert list(wa.wait_buckets) == ["<1m", "1-5m", "5-15m", "15-30m", "30-60m", "1-4h", ">=4h"]
    kra = list(wa.kra.values())
    assert sum(row["started"] for row in kra) == wa.conversations
    for status, count in wa.conversations_by_status.items():
        assert sum(row[status] for row in kra) == count
    assert sum(row["escalated"] for row in kra) == wa.conversations_escalated
    assert sum(row["csat_count"] for row in kra) == wa.csat_count
    assert sum(row["csat_sum"] for row in kra) == wa.csat_sum
    assert all(row["started"] > 0 for row in kra)
    assert all(
        row["escalated"] == (row["started"] if key.endswith("|assisted") else 0)
        for key, row in wa.kra.items()
    )
    assert sum(wa.resolved_by_service.values()) == wa.conversations_by_status["resolved"]
    agents = list(wa.agents.values())
    assert sum(row["messages_sent"] for row in agents) == wa.messages_sent_by_sender["agent"]
    assert sum(row["chats_resolved"] for row in agents) <= wa.conversations_by_status["resolved"]
    assert sum(ai.classifications_by_model.values()) == ai.classifications
    assert sum(ai.generations_by_model.values()) == ai.generations
    assert sum(ai.errors_by_model.values()) == sum(ai.errors_by_type.values()) == ai.errors
    assert list(ai.latency_buckets) == list(ai.latency_ms_sum)
    for key, buckets in ai.latency_buckets.items():
        kind, model = key.split("|")
        by_model = {
            "classification": ai.classifications_by_model,
            "generation": ai.generations_by_model,
        }[kind]
        assert list(buckets) == ["<250ms", "250-500ms", "500-1000ms", "1-2s", "2-5s", ">=5s"]
        assert sum(buckets.values()) == by_model[model]
    assert sum(row["classifications"] for row in ai.intents.values()) == ai.classifications
    for row in ai.intents.values():
        assert row["resolved"] + row["dropped"] + row["open"] == row["conversations"] > 0


def test_truth_equals_the_metrics_definitions_on_a_small_run() -> None:
    config = GeneratorConfig(days=2, seed=3, scale=0.1, start=datetime.date(2026, 3, 16))
    truth, expected, _summary = _recompute(config)
    _assert_matches(truth, expected)
    # The run is big enough for every figure to mean something.
    assert truth.web.sessions > 100 and truth.web.sessionless_sessions > 0
    assert truth.web.converted_sessions > 0 and truth.web.bounces > 0
    assert 0 < truth.web.sessions_identified < truth.web.sessions
    assert truth.whatsapp.conversations_by_status["open"] >= 1
    assert truth.whatsapp.conversations_by_status["dropped"] >= 1
    assert truth.whatsapp.conversations_by_status["resolved"] >= 1


def test_truth_equals_the_metrics_definitions_with_heavy_noise() -> None:
    config = GeneratorConfig(
        days=3,
        seed=21,
        scale=0.3,
        start=datetime.date(2026, 4, 6),
        duplicate_share=0.3,
        late_share=0.3,
        malformed_share=0.1,
    )
    truth, expected, _summary = _recompute(config)
    _assert_matches(truth, expected)
    assert truth.late_events > 0.25 * truth.accepted_events
    assert truth.duplicate_deliveries > 0.25 * truth.accepted_events


def test_truth_equals_the_metrics_definitions_over_a_week() -> None:
    config = GeneratorConfig(days=7, seed=5, scale=0.6, start=datetime.date(2026, 1, 12))
    truth, expected, _summary = _recompute(config)
    _assert_matches(truth, expected)
    web, whatsapp, ai = truth.web, truth.whatsapp, truth.ai
    # Every part of the simulation shows up in a week of traffic.
    assert whatsapp.cross_channel_users > 0
    assert whatsapp.messages_sent_by_sender["campaign"] > 0
    assert whatsapp.messages_failed > 0 and whatsapp.conversations_escalated > 0
    assert whatsapp.csat_count > 0 and 1 <= whatsapp.csat_sum / whatsapp.csat_count <= 5
    assert all(count > 0 for count in web.sessions_by_device_type.values())
    assert 0 < ai.correct_classifications < ai.feedback < ai.classifications
    assert ai.errors > 0 and ai.generations > 0
    # The new breakdowns see every case: countries, responders, waits answered only in a
    # later episode (hours later), a burst, a new conversation after an unanswered message.
    assert len(whatsapp.contacts_by_country) >= 6
    assert all(whatsapp.waits_by_responder[key] > 0 for key in ("bot", "agent", "unanswered"))
    assert whatsapp.wait_buckets[">=4h"] > 0
    assert {key.split("|")[1] for key in whatsapp.kra} == {"assisted", "self_serve"}
    assert {key.split("|")[0] for key in whatsapp.kra} == {"MRI", "TOT", "NIL", "unknown"}
    assert len(whatsapp.agents) == 8 and all(
        row["agent_first_responses"] > 0 and row["csat_count"] > 0
        for row in whatsapp.agents.values()
    )
    assert len(ai.latency_buckets) == 4 and len(ai.errors_by_type) == 4
    assert all(row["escalated"] > 0 for row in ai.intents.values())
    for journey, counts in web.funnel_sessions.items():
        assert len(counts) == len(JOURNEYS[journey])
        assert counts == sorted(counts, reverse=True) and counts[-1] > 0


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(
    seed=st.integers(min_value=0, max_value=2**40),
    days=st.integers(min_value=1, max_value=3),
    scale=st.floats(min_value=0.02, max_value=0.3),
    start_offset=st.integers(min_value=0, max_value=365),
)
def test_truth_equals_the_metrics_definitions_for_any_seed(
    seed: int, days: int, scale: float, start_offset: int
) -> None:
    start = datetime.date(2025, 1, 1) + datetime.timedelta(days=start_offset)
    config = GeneratorConfig(days=days, seed=seed, scale=scale, start=start)
    truth, expected, _summary = _recompute(config)
    _assert_matches(truth, expected)


def test_generator_counts_add_up() -> None:
    generation = generate(
        GeneratorConfig(days=2, seed=8, scale=0.2, start=datetime.date(2026, 2, 2))
    )
    kinds: dict[str, int] = {}
    for entry in generation:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    truth = generation.truth
    assert kinds["event"] == truth.accepted_events == sum(truth.events_by_name.values())
    assert kinds["duplicate"] == truth.duplicate_deliveries
    assert kinds["rejected"] == truth.rejected_entries == sum(truth.rejected_by_reason.values())
    assert truth.entries_pushed == sum(kinds.values())
    assert sum(truth.events_by_channel.values()) == truth.accepted_events
    whatsapp = truth.whatsapp
    assert sum(whatsapp.messages_sent_by_sender.values()) == whatsapp.messages_sent
    assert whatsapp.messages_sent == truth.events_by_name["message.sent"]
    assert sum(whatsapp.conversations_by_status.values()) == whatsapp.conversations
    assert whatsapp.watermark == "2026-02-03T23:59:00.000Z"
    assert truth.last_event_at == whatsapp.watermark
    assert truth.web.page_views == truth.events_by_name["page_view"]


@pytest.mark.parametrize("scale", [0.001, 0.005])
def test_tiny_runs_still_have_a_consistent_truth(scale: float) -> None:
    config = GeneratorConfig(days=1, seed=1, scale=scale, start=datetime.date(2026, 2, 2))
    truth, expected, _summary = _recompute(config)
    _assert_matches(truth, expected)
    assert truth.whatsapp.conversations_by_status["open"] >= 1
