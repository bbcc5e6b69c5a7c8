"""Configuration, determinism and the Truth's serialisation."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import Generation, GeneratorConfig, Truth, generate

sys.path.insert(0, str(Path(__file__).parent))
import generator_reference as reference  # noqa: E402

START = datetime.date(2026, 3, 2)  # a Monday


def _entries(config: GeneratorConfig) -> list[tuple[bytes, str, str | None, str | None]]:
    return [(e.payload, e.kind, e.reason, e.event_id) for e in generate(config)]


def test_same_seed_gives_byte_identical_entries_and_truth() -> None:
    config = GeneratorConfig(days=2, seed=7, scale=0.1, start=START)
    first = generate(config)
    second = generate(config)
    assert _entries_of(first) == _entries_of(second)
    assert first.truth.to_dict() == second.truth.to_dict()


def _entries_of(generation: Generation) -> list[tuple[bytes, str, str | None, str | None]]:
    return [(e.payload, e.kind, e.reason, e.event_id) for e in generation]


def test_iterating_a_generation_twice_regenerates_the_same_entries() -> None:
    generation = generate(GeneratorConfig(days=1, seed=3, scale=0.1, start=START))
    assert _entries_of(generation) == _entries_of(generation)


def test_different_seeds_give_different_entries() -> None:
    a = _entries(GeneratorConfig(days=1, seed=1, scale=0.1, start=START))
    b = _entries(GeneratorConfig(days=1, seed=2, scale=0.1, start=START))
    assert a != b
    ids_a = {entry[3] for entry in a if entry[3]}
    ids_b = {entry[3] for entry in b if entry[3]}
    assert not ids_a & ids_b, "event ids must come from the seed"


def test_start_date_and_days_are_respected() -> None:
    config = GeneratorConfig(days=2, seed=5, scale=0.1, start=START)
    generation = generate(config)
    low = datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
    high = datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)
    count = 0
    for entry in generation:
        if entry.kind != "event":
            continue
        moment = datetime.datetime.fromisoformat(json.loads(entry.payload)["timestamp"])
        assert low <= moment < high
        count += 1
    truth = generation.truth
    assert count == truth.accepted_events > 0
    assert truth.period_start == "2026-03-02T00:00:00.000Z"
    assert truth.period_end == "2026-03-04T00:00:00.000Z"
    assert truth.config["start"] == "2026-03-02"


def test_default_start_is_today_minus_days_so_every_event_is_in_the_past() -> None:
    config = GeneratorConfig(days=1, seed=5, scale=0.05)
    generation = generate(config)
    today = datetime.datetime.now(datetime.UTC).date()
    assert generation.first_day == today - datetime.timedelta(days=1)
    now = datetime.datetime.now(datetime.UTC)
    for entry in generation:
        if entry.kind == "event":
            moment = datetime.datetime.fromisoformat(json.loads(entry.payload)["timestamp"])
            assert moment < now


def test_truth_is_only_available_after_full_iteration() -> None:
    generation = generate(GeneratorConfig(days=1, scale=0.05, start=START))
    with pytest.raises(RuntimeError, match="iterated to the end"):
        _ = generation.truth
    iterator = iter(generation)
    next(iterator)
    with pytest.raises(RuntimeError):
        _ = generation.truth
    for _entry in iterator:
        pass
    assert generation.truth.entries_pushed > 0


def test_truth_round_trips_through_json_with_a_stable_key_order() -> None:
    generation = generate(GeneratorConfig(days=1, seed=9, scale=0.1, start=START))
    for _entry in generation:
        pass
    truth = generation.truth
    text = json.dumps(truth.to_dict())
    again = Truth.from_dict(json.loads(text))
    assert again == truth
    assert json.dumps(again.to_dict()) == text
    assert list(truth.to_dict())[:4] == ["config", "period_start", "period_end", "entries_pushed"]
    assert tuple(truth.rejected_by_reason) == reference.REASONS
    assert list(truth.events_by_channel) == ["web", "whatsapp", "ai"]
    assert list(truth.events_by_name) == sorted(truth.events_by_name)


def test_config_is_frozen_and_defaults_match_the_documented_values() -> None:
    config = GeneratorConfig()
    assert (config.days, config.seed, config.start, config.scale) == (7, 42, None, 1.0)
    assert (config.duplicate_share, config.late_share, config.malformed_share) == (
        0.02,
        0.01,
        0.005,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.days = 3  # type: ignore[misc]


_FUTURE = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=3)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": -3}, "days"),
        ({"days": 1.5}, "days"),
        ({"days": True}, "days"),
        ({"days": 10_000}, "days"),
        ({"seed": "42"}, "seed"),
        ({"seed": 4.2}, "seed"),
        ({"start": "2026-01-05"}, "start"),
        ({"start": datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)}, "start"),
        ({"start": datetime.date(1999, 12, 31)}, "start"),
        ({"start": _FUTURE}, "start"),
        ({"scale": 0}, "scale"),
        ({"scale": -1.0}, "scale"),
        ({"scale": math.nan}, "scale"),
        ({"scale": math.inf}, "scale"),
        ({"scale": "1"}, "scale"),
        ({"scale": 10_000.0}, "scale"),
        ({"duplicate_share": -0.01}, "duplicate_share"),
        ({"duplicate_share": 0.9}, "duplicate_share"),
        ({"late_share": math.nan}, "late_share"),
        ({"late_share": 1}, "late_share"),
        ({"malformed_share": True}, "malformed_share"),
        ({"malformed_share": -1e-9}, "malformed_share"),
    ],
)
def test_invalid_values_raise_value_error_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field) as raised:
        GeneratorConfig(**changes)  # type: ignore[arg-type]
    message = str(raised.value)
    assert any(word in message for word in ("use", "must")), message


def test_boundary_values_are_accepted() -> None:
    GeneratorConfig(days=1, scale=0.001, duplicate_share=0, late_share=0, malformed_share=0)
    GeneratorConfig(days=366, scale=200, duplicate_share=0.5, late_share=0.5, malformed_share=0.5)
    tomorrow = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
    GeneratorConfig(days=1, start=tomorrow - datetime.timedelta(days=1))
    GeneratorConfig(days=2, seed=-5, start=tomorrow - datetime.timedelta(days=2))


def test_zero_shares_give_a_clean_stream() -> None:
    config = GeneratorConfig(
        days=1, scale=0.2, start=START, duplicate_share=0, late_share=0, malformed_share=0
    )
    generation = generate(config)
    kinds = {entry.kind for entry in generation}
    assert kinds == {"event"}
    truth = generation.truth
    assert truth.entries_pushed == truth.accepted_events
    assert truth.late_events == truth.duplicate_deliveries == truth.rejected_entries == 0


_DIGEST_SCRIPT = """
import datetime, hashlib
from generator import GeneratorConfig, generate
config = GeneratorConfig(days=1, seed=13, scale=0.2, start=datetime.date(2026, 3, 2))
digest = hashlib.sha256()
for entry in generate(config):
    digest.update(entry.kind.encode() + b"\\0" + entry.payload + b"\\0")
print(digest.hexdigest())
"""


def test_output_does_not_depend_on_the_process_hash_seed() -> None:
    digests = set()
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1
