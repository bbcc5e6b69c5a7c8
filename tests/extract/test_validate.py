"""Every rule of CONTRACT.md section 3, table-driven, on the validator alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from extract.validate import REASONS, Rejection, ValidEvent, default_channel, validate_entry

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def event(**changes: object) -> dict:
    base = {
        "eventId": "e-1",
        "name": "page_view",
        "timestamp": "2026-01-05T09:14:03.120+03:00",
        "anonymousId": "a-81f2",
        "sessionId": "s-77d1",
        "properties": {"path": "/nil/start"},
        "context": {"userAgent": "Mozilla/5.0", "country": "KE"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()


def entry(payload: bytes | dict | list | str) -> dict[bytes, bytes]:
    if isinstance(payload, bytes):
        return {b"event": payload}
    return {b"event": json.dumps(payload).encode()}


def judge(payload: bytes | dict | list | str) -> ValidEvent | Rejection:
    return validate_entry("1-0", entry(payload), NOW)


REJECTIONS = [
    ("not_json", b'{"eventId": "e-1", "name": '),
    ("not_json", b"\xff\xfe{}"),
    ("not_json", b'{"eventId": "e", "name": "x", "timestamp": "2026-01-05T00:00:00Z", "v": NaN}'),
    ("not_json", b'{"eventId": "e", "name": "x", "timestamp": "2026-01-05T00:00:00Z", "v": 1e999}'),
    (
        "not_json",
        b'{"eventId": "e", "name": "x", "timestamp": "2026-01-05T00:00:00Z", "s": "\\ud800"}',
    ),
    ("not_json", b""),
    ("not_object", [1, 2]),
    ("not_object", "page_view"),
    ("not_object", b"42"),
    ("not_object", b"null"),
    ("missing_field", event(eventId=DROP)),
    ("missing_field", event(name=DROP)),
    ("missing_field", event(timestamp=DROP)),
    ("missing_field", event(eventId=None)),
    ("wrong_type", event(eventId=42)),
    ("wrong_type", event(eventId="")),
    ("wrong_type", event(eventId="x" * 129)),
    ("wrong_type", event(name=["page_view"])),
    ("wrong_type", event(name="n" * 101)),
    ("wrong_type", event(timestamp=1736060043)),
    ("wrong_type", event(userId=7)),
    ("wrong_type", event(anonymousId=True)),
    ("wrong_type", event(sessionId={"id": 1})),
    ("wrong_type", event(properties=[1, 2])),
    ("wrong_type", event(context="KE")),
    ("wrong_type", event(traits=5)),
    ("wrong_type", event(context={"country": 254})),
    ("wrong_type", event(channel=3)),
    ("bad_timestamp", event(timestamp="yesterday")),
    ("bad_timestamp", event(timestamp="2026-01-05T09:14:03")),
    ("bad_timestamp", event(timestamp="2026-01-05")),
    ("bad_timestamp", event(timestamp="2026-13-05T09:14:03Z")),
    ("future_timestamp", event(timestamp="2099-01-01T00:00:00Z")),
    ("future_timestamp", event(timestamp="2026-01-11T12:00:01Z")),
    ("nul_character", event(properties={"path": "/a\u0000b"})),
    ("nul_character", event(name="page\u0000view")),
    ("nul_character", b'{"eventId": "e\x00", "name": "x"}'),
    ("too_large", event(properties={"blob": "x" * 70_000})),
    ("unknown_channel", event(channel="sms")),
    ("unknown_channel", event(channel="")),
]


@pytest.mark.parametrize(("reason", "payload"), REJECTIONS)
def test_each_rule_rejects_with_its_reason(reason: str, payload: object) -> None:
    verdict = judge(payload)
    assert isinstance(verdict, Rejection), verdict
    assert verdict.reason == reason, verdict.detail
    assert verdict.detail
    assert "\x00" not in verdict.payload


def test_the_table_covers_every_reason() -> None:
    assert {reason for reason, _ in REJECTIONS} == set(REASONS)
    assert REASONS == (
        "not_json", "not_object", "missing_field", "wrong_type", "bad_timestamp",
        "future_timestamp", "nul_character", "too_large", "unknown_channel",
    )  # fmt: skip  # the contract's list, written out


def test_entry_without_event_field_is_kept_as_missing_field() -> None:
    verdict = validate_entry("1-0", {b"other": b"x"}, NOW)
    assert isinstance(verdict, Rejection)
    assert verdict.reason == "missing_field"
    assert "other" in verdict.payload


def test_invalid_utf8_payload_is_escaped_not_lost() -> None:
    verdict = judge(b"\xff\xfe\x00abc")
    assert isinstance(verdict, Rejection)
    assert verdict.payload == "\\xff\\xfe\\x00abc"


VALID = [
    event(),
    event(timestamp="2026-01-05T06:14:03Z"),
    event(timestamp="2026-01-05T12:00:00+05:45"),
    event(timestamp="2026-01-05T02:30:00-03:30"),
    event(timestamp="2026-01-11T11:59:59Z"),  # less than a day ahead of the load
    event(properties={"title": "Faili ritani ya NIL 🇰🇪 — ushuru", "path": "/nil/ñ"}),
    event(properties={"blob": "x" * 60_000}),
    event(userId=None, anonymousId=None, sessionId=None, properties=None, context=None),
    event(channel="whatsapp", name="custom.thing"),
    event(name="identify", traits={"email": "a@example.com", "phone": "+254712345678"}),
    event(properties={"escaped": 'quote " backslash \\ tab \t newline \n'}),
    event(eventId="x" * 128, name="n" * 100),
]


@pytest.mark.parametrize("payload", VALID)
def test_valid_edge_cases_are_accepted(payload: dict) -> None:
    verdict = judge(payload)
    assert isinstance(verdict, ValidEvent), getattr(verdict, "detail", verdict)
    assert verdict.occurred_at.tzinfo is not None
    assert json.loads(verdict.payload) == payload


def test_timestamp_is_normalised_to_utc() -> None:
    verdict = judge(event(timestamp="2026-01-05T09:14:03.120+03:00"))
    assert isinstance(verdict, ValidEvent)
    assert verdict.occurred_at == datetime(2026, 1, 5, 6, 14, 3, 120_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "channel"),
    [
        ("message.received", "whatsapp"),
        ("chat.resolved", "whatsapp"),
        ("agent.handoff", "whatsapp"),
        ("csat.submitted", "whatsapp"),
        ("ai.classification", "ai"),
        ("page_view", "web"),
        ("identify", "web"),
        ("signup_clicked", "web"),
    ],
)
def test_default_channel_from_name(name: str, channel: str) -> None:
    assert default_channel(name) == channel
    verdict = judge(event(name=name))
    assert isinstance(verdict, ValidEvent)
    assert verdict.channel == channel


def test_explicit_channel_wins() -> None:
    verdict = judge(event(name="message.received", channel="web"))
    assert isinstance(verdict, ValidEvent)
    assert verdict.channel == "web"
