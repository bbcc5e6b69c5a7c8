"""Validation of stream entries against CONTRACT.md section 3.

Each entry is judged on its own and gets exactly one verdict: a :class:`ValidEvent` ready for
``COPY``, or a :class:`Rejection` with one machine-readable reason. Checks run in a fixed
order (documented in docs/extract.md), so an entry breaking several rules always gets the
same reason. Nothing here touches Redis or PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import orjson

MAX_ENTRY_BYTES = 65_536
MAX_EVENT_ID_CHARS = 128
MAX_NAME_CHARS = 100
MAX_FUTURE = timedelta(days=1)

REASONS: tuple[str, ...] = (
    "not_json",
    "not_object",
    "missing_field",
    "wrong_type",
    "bad_timestamp",
    "future_timestamp",
    "nul_character",
    "too_large",
    "unknown_channel",
)
CHANNELS = frozenset({"web", "whatsapp", "ai"})
_WHATSAPP_PREFIXES = ("message.", "chat.", "agent.", "csat.")
_OPTIONAL_STRINGS = ("userId", "anonymousId", "sessionId")
_OBJECT_FIELDS = ("properties", "context", "traits")
_STRING_SUBFIELDS = {
    "context": frozenset(("userAgent", "country", "city", "deviceType", "browser", "os", "locale")),
    "traits": frozenset(("email", "phone", "name")),
}


class ValidEvent(NamedTuple):
    """An accepted event: the columns the extract copies into ``raw.events``, in order."""

    event_id: str
    event_name: str
    channel: str
    occurred_at: datetime
    user_id: str | None
    anonymous_id: str | None
    session_id: str | None
    payload: bytes  # the JSON text as received (valid UTF-8); PostgreSQL stores it as jsonb
    stream_id: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """An entry that broke a rule; it lands in ``raw.rejected_events``."""

    stream_id: str
    reason: str
    detail: str
    payload: str  # as received; bytes PostgreSQL cannot store as text are escaped


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def default_channel(name: str) -> str:
    """The channel an event belongs to when it names none (CONTRACT.md section 3)."""
    if name.startswith(_WHATSAPP_PREFIXES):
        return "whatsapp"
    if name.startswith("ai."):
        return "ai"
    return "web"


def escape_payload(raw: bytes) -> str:
    """Text PostgreSQL can store for any bytes: invalid UTF-8 and NUL become backslash escapes."""
    text = raw.decode("utf-8", errors="backslashreplace")
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    return text


def _json_error(raw: bytes, exc: Exception) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 at byte {bad.start}"
    return str(exc)[:200]


def _check_strings(value: object) -> None:
    """Find what PostgreSQL's jsonb cannot hold: NUL characters, in keys or strings."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _Reject("nul_character", "a string contains the NUL character \\u0000")


def _bounded_string(value: object, field: str, max_chars: int) -> None:
    if not isinstance(value, str):
        raise _Reject("wrong_type", f"{field} must be a string, got {type(value).__name__}")
    if not 1 <= len(value) <= max_chars:
        raise _Reject("wrong_type", f"{field} must be 1-{max_chars} characters, got {len(value)}")


def _optional_string(value: object, field: str) -> None:
    if value is not None and not isinstance(value, str):
        raise _Reject("wrong_type", f"{field} must be a string or null, got {type(value).__name__}")


def _check_objects(event: dict) -> None:
    for field in _OBJECT_FIELDS:
        value = event.get(field)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _Reject(
                "wrong_type", f"{field} must be a JSON object, got {type(value).__name__}"
            )
        known = _STRING_SUBFIELDS.get(field)
        if not known:
            continue
        for subfield, item in value.items():
            if item is not None and not isinstance(item, str) and subfield in known:
                raise _Reject(
                    "wrong_type",
                    f"{field}.{subfield} must be a string or null, got {type(item).__name__}",
                )


def _parse_timestamp(value: object, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise _Reject("wrong_type", f"timestamp must be a string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Reject("bad_timestamp", f"timestamp {value[:64]!r} is not ISO-8601") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Reject(
            "bad_timestamp", f"timestamp {value[:64]!r} has no UTC offset (add Z or +HH:MM)"
        )
    try:
        occurred_at = parsed.astimezone(UTC)
    except OverflowError:
        raise _Reject("bad_timestamp", f"timestamp {value[:64]!r} is out of range") from None
    if occurred_at > now + MAX_FUTURE:
        raise _Reject(
            "future_timestamp",
            f"timestamp {value[:64]!r} is more than 1 day after the load time {now.isoformat()}",
        )
    return occurred_at


def _judge(stream_id: str, raw: bytes, now: datetime) -> ValidEvent:
    if len(raw) > MAX_ENTRY_BYTES:
        raise _Reject("too_large", f"entry is {len(raw)} bytes, over the {MAX_ENTRY_BYTES} limit")
    if b"\x00" in raw:
        raise _Reject("nul_character", "entry contains a NUL byte")
    try:
        # orjson is strict where PostgreSQL's jsonb is: UTF-8 only, no NaN/Infinity, no
        # lone surrogates.
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Reject("not_json", _json_error(raw, exc)) from None
    if b"\\u" in raw:  # an escape is the only way to put NUL into a string
        _check_strings(event)
    if not isinstance(event, dict):
        raise _Reject("not_object", f"entry is a JSON {type(event).__name__}, not an object")
    get = event.get
    event_id, name, timestamp = get("eventId"), get("name"), get("timestamp")
    if event_id is None or name is None or timestamp is None:
        for field in ("eventId", "name", "timestamp"):
            if get(field) is None:
                raise _Reject("missing_field", f"required field {field} is missing or null")
    _bounded_string(event_id, "eventId", MAX_EVENT_ID_CHARS)
    _bounded_string(name, "name", MAX_NAME_CHARS)
    user_id, anonymous_id, session_id = get("userId"), get("anonymousId"), get("sessionId")
    channel = get("channel")
    for field, value in (
        ("userId", user_id),
        ("anonymousId", anonymous_id),
        ("sessionId", session_id),
        ("channel", channel),
    ):
        if value is not None and value.__class__ is not str:
            _optional_string(value, field)
    _check_objects(event)
    occurred_at = _parse_timestamp(timestamp, now)
    if channel is None:
        channel = default_channel(name)
    elif channel not in CHANNELS:
        raise _Reject(
            "unknown_channel", f"channel {channel[:40]!r} is not one of web, whatsapp, ai"
        )
    return ValidEvent(
        event_id, name, channel, occurred_at, user_id, anonymous_id, session_id, raw, stream_id
    )


def validate_entry(
    stream_id: str, fields: list[bytes] | dict[bytes, bytes] | None, now: datetime
) -> ValidEvent | Rejection:
    """Judge one stream entry, given its fields as Redis returns them (flat list or map)."""
    if isinstance(fields, list):
        if len(fields) == 2 and fields[0] == b"event":  # the common case, without a dict
            raw = fields[1]
        else:
            fields = dict(zip(fields[::2], fields[1::2], strict=False))
    if not isinstance(fields, list):
        if not fields or b"event" not in fields:
            shown = {k.decode("utf-8", "backslashreplace"): v for k, v in (fields or {}).items()}
            return Rejection(
                stream_id,
                "missing_field",
                "stream entry has no 'event' field",
                escape_payload(repr(shown).encode("utf-8", "backslashreplace")),
            )
        raw = fields[b"event"]
    try:
        return _judge(stream_id, raw, now)
    except _Reject as rejected:
        return Rejection(stream_id, rejected.reason, rejected.detail, escape_payload(raw))
