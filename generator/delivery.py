"""Delivery order: events leave in timestamp order, except the ones the config makes
late, the duplicates re-sent later, and the malformed entries slipped in between.

Two heaps keep memory bounded: ``main`` holds the events of units already simulated,
keyed by delivery time (normally the event time); ``deferred`` holds late events and
duplicates until the stream reaches their delivery time. The generator flushes ``main``
up to the start of the next hour it simulates, since no later unit can produce an
earlier key.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from generator.clock import HOUR
from generator.malformed import MalformedFactory
from generator.truth import REJECTION_REASONS

SECOND = 1000
LATE_MIN = HOUR
LATE_MAX = 66 * HOUR  # under late_arrival_days (3 days) with a margin
DUPLICATE_MAX = 12 * HOUR
IMMEDIATE_DUPLICATE_SHARE = 0.35
FORCED_MALFORMED_EVERY = 5  # the first reasons come after entries 5, 10, ... 45


@dataclass(frozen=True, slots=True)
class GeneratedEntry:
    """One stream entry: ``payload`` is exactly the ``event`` field's bytes."""

    payload: bytes
    kind: str  # "event" (first copy of an accepted event), "duplicate" or "rejected"
    reason: str | None  # rejection reason when kind == "rejected"
    event_id: str | None  # eventId when kind is "event" or "duplicate"


_LATE = 0
_DUPLICATE = 1


class Deliverer:
    """Orders serialised events into stream entries and counts what it delivered."""

    def __init__(
        self,
        rng: random.Random,
        malformed: MalformedFactory,
        *,
        duplicate_share: float,
        late_share: float,
        malformed_share: float,
    ) -> None:
        self._rng = rng
        self._malformed = malformed
        self._duplicate_share = duplicate_share
        self._late_share = late_share
        self._malformed_share = malformed_share
        self._main: list[tuple[int, int, int, bytes, str]] = []
        self._deferred: list[tuple[int, int, int, int, bytes, str]] = []
        self._seq = 0
        self._first_copies = 0
        unused = list(REJECTION_REASONS)
        rng.shuffle(unused)
        self._unused_reasons = unused
        self.entries = 0
        self.duplicates = 0
        self.late = 0
        self.rejected_by_reason = dict.fromkeys(REJECTION_REASONS, 0)

    def push(self, key: int, ts: int, payload: bytes, event_id: str) -> None:
        """Queue an accepted event for delivery at ``key`` (ms)."""
        self._seq += 1
        heapq.heappush(self._main, (key, self._seq, ts, payload, event_id))

    def flush(self, until: int) -> list[GeneratedEntry]:
        """Entries due before ``until``: every queued event with a key < until."""
        out: list[GeneratedEntry] = []
        main = self._main
        while main and main[0][0] < until:
            key, _seq, ts, payload, event_id = heapq.heappop(main)
            self._release_deferred(key, out)
            if self._late_share and self._rng.random() < self._late_share:
                delay = self._log_uniform(LATE_MIN, LATE_MAX)
                self._defer(key + delay, _LATE, ts, payload, event_id)
                continue
            self._first_copy(key, ts, payload, event_id, out)
        return out

    def drain(self) -> list[GeneratedEntry]:
        """Everything still queued, late events and duplicates included."""
        out = self.flush(1 << 62)
        self._release_deferred(1 << 62, out)
        return out

    def _release_deferred(self, key: int, out: list[GeneratedEntry]) -> None:
        deferred = self._deferred
        while deferred and deferred[0][0] <= key:
            dkey, _seq, kind, ts, payload, event_id = heapq.heappop(deferred)
            if kind == _LATE:
                self.late += 1
                self._first_copy(dkey, ts, payload, event_id, out)
            else:
                self.duplicates += 1
                self.entries += 1
                out.append(GeneratedEntry(payload, "duplicate", None, event_id))

    def _defer(self, key: int, kind: int, ts: int, payload: bytes, event_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._deferred, (key, self._seq, kind, ts, payload, event_id))

    def _first_copy(
        self, key: int, ts: int, payload: bytes, event_id: str, out: list[GeneratedEntry]
    ) -> None:
        rng = self._rng
        out.append(GeneratedEntry(payload, "event", None, event_id))
        self.entries += 1
        self._first_copies += 1
        if self._duplicate_share and rng.random() < self._duplicate_share:
            if rng.random() < IMMEDIATE_DUPLICATE_SHARE:
                self.duplicates += 1
                self.entries += 1
                out.append(GeneratedEntry(payload, "duplicate", None, event_id))
            else:
                delay = self._log_uniform(SECOND, DUPLICATE_MAX)
                self._defer(key + delay, _DUPLICATE, ts, payload, event_id)
        if self._malformed_share:
            forced = (
                self._unused_reasons
                and self._first_copies % FORCED_MALFORMED_EVERY == 0
                and self._first_copies // FORCED_MALFORMED_EVERY
                > len(REJECTION_REASONS) - len(self._unused_reasons)
            )
            if forced or rng.random() < self._malformed_share:
                if self._unused_reasons:
                    reason = self._unused_reasons.pop()
                else:
                    reason = rng.choice(REJECTION_REASONS)
                self.rejected_by_reason[reason] += 1
                self.entries += 1
                out.append(
                    GeneratedEntry(self._malformed.make(reason, ts), "rejected", reason, None)
                )

    def _log_uniform(self, low: int, high: int) -> int:
        return int(math.exp(self._rng.uniform(math.log(low), math.log(high))))
