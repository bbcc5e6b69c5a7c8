"""What the generator knows it produced: figures for tests to compare the marts against.

Every figure counts accepted events only (first copies): duplicates and rejected entries
never change them, and each one is what METRICS.md's definition gives on those events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from extract.validate import REASONS

# The rejection reasons of CONTRACT.md section 3, in the contract's order: names only, no
# validation logic is shared with the pipeline.
REJECTION_REASONS = REASONS
CHANNELS = ("web", "whatsapp", "ai")
DEVICE_TYPES = ("mobile", "desktop", "tablet", "unknown")
JOURNEY_NAMES = ("MRI", "TOT", "NIL")
SENDER_TYPES = ("bot", "agent", "campaign")
CONVERSATION_STATUSES = ("resolved", "dropped", "open")


def _zeros(keys: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


@dataclass
class WebTruth:
    sessions: int = 0
    sessionless_sessions: int = 0  # sessions made of events without a sessionId
    converted_sessions: int = 0
    converted_by_journey: dict[str, int] = field(default_factory=lambda: _zeros(JOURNEY_NAMES))
    bounces: int = 0
    identified_users: int = 0  # distinct userIds on any accepted event
    sessions_identified: int = 0  # sessions whose user_key is a userId (after stitching)
    sessions_by_device_type: dict[str, int] = field(default_factory=lambda: _zeros(DEVICE_TYPES))
    page_views: int = 0
    app_errors: int = 0
    # journey -> sessions reaching step 1, 2, ... of generator.journeys.JOURNEYS
    funnel_sessions: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class WhatsAppTruth:
    messages_received: int = 0
    messages_sent: int = 0
    messages_sent_by_sender: dict[str, int] = field(default_factory=lambda: _zeros(SENDER_TYPES))
    messages_delivered: int = 0  # sent messages with a delivered or read status
    messages_read: int = 0
    messages_failed: int = 0  # failed and never delivered/read
    messages_replied: int = 0  # the contact wrote within 24 h after the sent message
    contacts: int = 0  # distinct E.164 numbers in whatsapp-channel events
    conversations: int = 0
    conversations_by_status: dict[str, int] = field(
        default_factory=lambda: _zeros(CONVERSATION_STATUSES)
    )
    conversations_escalated: int = 0
    csat_count: int = 0
    csat_sum: int = 0
    cross_channel_users: int = 0  # contacts whose number is an identified user's traits.phone
    watermark: str | None = None  # latest whatsapp-channel timestamp (UTC ISO-8601)


@dataclass
class AiTruth:
    classifications: int = 0
    feedback: int = 0  # classifications that received an ai.feedback
    correct_classifications: int = 0  # feedback.correctIntent == classification intent
    generations: int = 0
    errors: int = 0


@dataclass
class Truth:
    """Figures of one generation run; ``to_dict()``/``from_dict()`` round-trip through JSON."""

    config: dict[str, Any] = field(default_factory=dict)
    period_start: str = ""  # first event time allowed (UTC ISO-8601)
    period_end: str = ""  # end of the period (exclusive, UTC ISO-8601)
    entries_pushed: int = 0
    accepted_events: int = 0
    duplicate_deliveries: int = 0
    late_events: int = 0
    rejected_entries: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=lambda: _zeros(REJECTION_REASONS))
    events_by_name: dict[str, int] = field(default_factory=dict)
    events_by_channel: dict[str, int] = field(default_factory=lambda: _zeros(CHANNELS))
    first_event_at: str | None = None
    last_event_at: str | None = None
    web: WebTruth = field(default_factory=WebTruth)
    whatsapp: WhatsAppTruth = field(default_factory=WhatsAppTruth)
    ai: AiTruth = field(default_factory=AiTruth)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with a stable key order."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        """The inverse of :meth:`to_dict`."""
        values = dict(data)
        values["web"] = WebTruth(**values.get("web", {}))
        values["whatsapp"] = WhatsAppTruth(**values.get("whatsapp", {}))
        values["ai"] = AiTruth(**values.get("ai", {}))
        return cls(**values)
