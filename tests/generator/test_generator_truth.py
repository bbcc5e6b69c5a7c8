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
