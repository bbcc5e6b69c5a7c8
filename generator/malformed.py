"""Malformed stream entries: each breaks exactly one rule of CONTRACT.md section 3.

Every entry starts from a valid event (fresh eventId, timestamp at most the period end)
and changes one thing, so its rejection reason is unambiguous whatever order the
validator checks its rules in.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from generator.clock import TimestampFormatter
from generator.truth import REJECTION_REASONS

_ROUND_TRIP_LIMIT = 65_536


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class MalformedFactory:
    """Builds one malformed payload for a given rejection reason."""

    def __init__(
        self, rng: random.Random, event_id: Callable[[], str], formatter: TimestampFormatter
    ) -> None:
        self._rng = rng
        self._event_id = event_id  # returns a fresh eventId
        self._formatter = formatter

    def _base(self, ts: int) -> dict[str, Any]:
        rng = self._rng
        if rng.random() < 0.6:
            return {
                "eventId": self._event_id(),
                "name": "page_view",
                "timestamp": self._formatter.format(ts, 180),
                "userId": None,
                "anonymousId": f"a-{rng.getrandbits(64):016x}",
                "sessionId": f"s-{rng.getrandbits(64):016x}",
                "properties": {"path": "/nil/start", "title": "Wasilisha ritani ya NIL"},
                "context": {"userAgent": "Mozilla/5.0 (Linux; Android 13)", "country": "KE"},
            }
        return {
            "eventId": self._event_id(),
            "name": "message.received",
            "timestamp": self._formatter.format(ts, None),
            "properties": {
                "messageId": f"wamid.{rng.getrandbits(64):016x}",
                "contact": f"2547{rng.randrange(10**8):08d}",
            },
        }

    def make(self, reason: str, ts: int) -> bytes:
        """A payload that breaks exactly the rule named by ``reason`` (``ts`` <= period end)."""
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        return getattr(self, f"_{reason}")(ts)

    def _not_json(self, ts: int) -> bytes:
        rng = self._rng
        text = _dumps(self._base(ts))
        variant = rng.randrange(4)
        if variant == 0:  # truncated mid-object (any proper prefix of compact JSON is invalid)
            return text[: rng.randrange(1, len(text) - 1)]
        if variant == 1:  # invalid UTF-8 inside a string value
            return text.replace(b'"KE"', b'"K\xff\xfeE"').replace(b'"2547', b'"\xc3\x28547')
        if variant == 2:  # JavaScript object literal, not JSON
            return text.replace(b'"', b"'")
        return text[:-1] + b",}"  # trailing comma

    def _not_object(self, ts: int) -> bytes:
        variant = self._rng.randrange(3)
        if variant == 0:
            return _dumps([self._base(ts)])
        if variant == 1:
            return _dumps("page_view")
        return _dumps(self._rng.randrange(1, 10**6))

    def _missing_field(self, ts: int) -> bytes:
        doc = self._base(ts)
        field = self._rng.choice(("eventId", "name", "timestamp"))
        if self._rng.random() < 0.7:
            del doc[field]
        else:
            doc[field] = None
        return _dumps(doc)

    def _wrong_type(self, ts: int) -> bytes:
        rng = self._rng
        doc = self._base(ts)
        variant = rng.randrange(7)
        if variant == 0:
            doc["eventId"] = rng.randrange(10**9)
        elif variant == 1:
            doc["name"] = rng.randrange(100)
        elif variant == 2:
            doc["userId"] = rng.randrange(10**6)
        elif variant == 3:
            doc["properties"] = [doc.get("properties")]
        elif variant == 4:
            doc["context"] = "Mozilla/5.0 (Linux; Android 13)"
        elif variant == 5:  # traits on an identify event, but a number
            doc["name"] = "identify"
            doc.pop("properties", None)
            doc["userId"] = f"u-{rng.getrandbits(64):016x}"
            doc["traits"] = rng.randrange(10**6)
        else:
            doc["sessionId"] = rng.randrange(10**6)
        return _dumps(doc)

    def _bad_timestamp(self, ts: int) -> bytes:
        doc = self._base(ts)
        stamp = doc["timestamp"]
        variant = self._rng.randrange(4)
        if variant == 0:
            doc["timestamp"] = "yesterday"
        elif variant == 1:  # local time without an offset
            doc["timestamp"] = stamp[:19]
        elif variant == 2:
            doc["timestamp"] = stamp[:10]  # a date, no time and no offset
        else:
            day, month, year = stamp[8:10], stamp[5:7], stamp[:4]
            doc["timestamp"] = f"{day}/{month}/{year} {stamp[11:19]}"
        return _dumps(doc)

    def _future_timestamp(self, ts: int) -> bytes:
        doc = self._base(ts)
        doc["timestamp"] = "2099" + doc["timestamp"][4:]
        return _dumps(doc)

    def _nul_character(self, ts: int) -> bytes:
        doc = self._base(ts)
        properties = doc["properties"]
        if "title" in properties:
            properties["title"] = "Wasilisha\u0000 ritani"
        else:
            properties["messageId"] = properties["messageId"] + "\u0000"
        return _dumps(doc)  # json escapes the character as \u0000: the JSON stays valid

    def _too_large(self, ts: int) -> bytes:
        doc = self._base(ts)
        size = self._rng.randrange(_ROUND_TRIP_LIMIT + 500, 3 * _ROUND_TRIP_LIMIT)
        doc["properties"]["debugDump"] = "x" * size
        return _dumps(doc)

    def _unknown_channel(self, ts: int) -> bytes:
        doc = self._base(ts)
        items = list(doc.items())
        items.insert(3, ("channel", self._rng.choice(("sms", "email", "telegram", "ussd"))))
        return _dumps(dict(items))
