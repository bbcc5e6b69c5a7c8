"""The in-memory event record shared by the simulators, and the per-event bookkeeping.

A simulator builds a whole unit (a web visit, a contact's conversation) as a list of
:class:`Ev`, decides what the unit contributes to the truth, then hands it to
:class:`Recorder`, which serialises each event once and queues it for delivery.
"""

from __future__ import annotations

import json
from typing import Any

from generator.clock import TimestampFormatter
from generator.delivery import Deliverer
from generator.truth import Truth

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(doc: Any) -> bytes:
    """Compact JSON as UTF-8 bytes (what producers put in the stream)."""
    return _encoder.encode(doc).encode("utf-8")


def normalise_phone(contact: str) -> str:
    """E.164 of a webhook contact: webhooks drop the leading '+', nothing else differs."""
    return contact if contact.startswith("+") else "+" + contact


class Ev:
    """One event of a unit: its time (ms), its delivery key (ms) and its JSON document."""

    __slots__ = ("ts", "key", "doc", "channel")

    def __init__(self, ts: int, doc: dict[str, Any], channel: str, key: int | None = None):
        self.ts = ts
        self.key = ts if key is None else key
        self.doc = doc
        self.channel = channel

    @property
    def name(self) -> str:
        return self.doc["name"]


class Recorder:
    """Counts the per-event truth and hands serialised events to the deliverer."""

    def __init__(self, deliverer: Deliverer, formatter: TimestampFormatter) -> None:
        self.deliverer = deliverer
        self.formatter = formatter
        self.truth = Truth()
        self.events_by_name: dict[str, int] = {}
        self.user_ids: set[str] = set()
        self.identify_phones: set[str] = set()
        self.contacts: set[str] = set()
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.whatsapp_last_ts: int | None = None

    def record(self, events: list[Ev]) -> None:
        """Accept a unit's events: count them and queue them for delivery."""
        by_name = self.events_by_name
        by_channel = self.truth.events_by_channel
        push = self.deliverer.push
        for ev in events:
            doc = ev.doc
            name = doc["name"]
            by_name[name] = by_name.get(name, 0) + 1
            channel = ev.channel
            by_channel[channel] += 1
            ts = ev.ts
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
            if channel == "web":
                user_id = doc.get("userId")
                if user_id:
                    self.user_ids.add(user_id)
                if name == "identify":
                    phone = doc["traits"].get("phone")
                    if phone:
                        self.identify_phones.add(phone)
            elif channel == "whatsapp":
                self.contacts.add(normalise_phone(doc["properties"]["contact"]))
                if self.whatsapp_last_ts is None or ts > self.whatsapp_last_ts:
                    self.whatsapp_last_ts = ts
            payload = dumps(doc)
            if len(payload) > 65_536:
                raise AssertionError(f"valid event {doc['eventId']} is too large")
            push(ev.key, ts, payload, doc["eventId"])
        self.truth.accepted_events += len(events)
