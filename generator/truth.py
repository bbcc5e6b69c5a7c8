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
RESPONDERS = (*SENDER_TYPES, "unanswered")
# Response-wait histogram (METRICS.md): name -> lower bound in ms (upper bound: the next one).
WAIT_BUCKETS = (
    ("<1m", 0),
    ("1-5m", 60_000),
    ("5-15m", 300_000),
    ("15-30m", 900_000),
    ("30-60m", 1_800_000),
    ("1-4h", 3_600_000),
    (">=4h", 14_400_000),
)
# AI latency histogram (METRICS.md), the same way.
LATENCY_BUCKETS = (
    ("<250ms", 0),
    ("250-500ms", 250),
    ("500-1000ms", 500),
    ("1-2s", 1000),
    ("2-5s", 2000),
    (">=5s", 5000),
)
WAIT_BUCKET_NAMES = tuple(name for name, _low in WAIT_BUCKETS)
LATENCY_BUCKET_NAMES = tuple(name for name, _low in LATENCY_BUCKETS)
# Fields of each value of WhatsAppTruth.kra, .agents and AiTruth.intents, in this order.
KRA_FIELDS = (
    "started",
    "resolved",
    "dropped",
    "open",
    "escalated",
    "first_responses",
    "first_response_ms_sum",
    "resolution_ms_sum",
    "csat_count",
    "csat_sum",
)
AGENT_FIELDS = (
    "chats_resolved",
    "messages_sent",
    "agent_first_responses",
    "agent_first_response_ms_sum",
    "resolution_ms_sum",
    "csat_count",
    "csat_sum",
)
INTENT_FIELDS = ("classifications", "conversations", "resolved", "dropped", "open", "escalated")


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
    # session duration (last event - first event) in whole seconds -> sessions; exact sum
    session_duration_counts: dict[str, int] = field(default_factory=dict)
    session_duration_ms_sum: int = 0


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
    # ISO 3166 alpha-2 country of the calling code -> distinct contacts / messages (both ways)
    contacts_by_country: dict[str, int] = field(default_factory=dict)
    messages_by_country: dict[str, int] = field(default_factory=dict)
    # Response waits (METRICS.md "Response time"), answered ones by responder and bucket
    waits: int = 0
    waits_by_responder: dict[str, int] = field(default_factory=lambda: _zeros(RESPONDERS))
    wait_buckets: dict[str, int] = field(default_factory=lambda: _zeros(WAIT_BUCKET_NAMES))
    wait_ms_sum: int = 0  # answered waits only
    # responder -> answered wait in whole seconds -> waits
    wait_second_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # "JOURNEY|support_type" -> KRA_FIELDS (conversations by their start, whole period)
    kra: dict[str, dict[str, int]] = field(default_factory=dict)
    # agentId -> AGENT_FIELDS
    agents: dict[str, dict[str, int]] = field(default_factory=dict)
    resolved_by_service: dict[str, int] = field(default_factory=dict)  # chat.resolved serviceName
    watermark: str | None = None  # latest whatsapp-channel timestamp (UTC ISO-8601)


@dataclass
class AiTruth:
    classifications: int = 0
    feedback: int = 0  # classifications that received an ai.feedback
    correct_classifications: int = 0  # feedback.correctIntent == classification intent
    generations: int = 0
    errors: int = 0
    classifications_by_model: dict[str, int] = field(default_factory=dict)
    generations_by_model: dict[str, int] = field(default_factory=dict)
    errors_by_model: dict[str, int] = field(default_factory=dict)
    errors_by_type: dict[str, int] = field(default_factory=dict)
    # "classification|<model>" / "generation|<model>" -> LATENCY_BUCKET_NAMES counts; ms sum
    latency_buckets: dict[str, dict[str, int]] = field(default_factory=dict)
    latency_ms_sum: dict[str, int] = field(default_factory=dict)
    # the same keys -> latency to three significant digits -> requests
    latency_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # classified intent -> INTENT_FIELDS
    intents: dict[str, dict[str, int]] = field(default_factory=dict)


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


def bucket_name(buckets: tuple[tuple[str, int], ...], value: int) -> str:
    """The bucket of ``value``: the last one whose lower bound (inclusive) is <= value."""
    name = buckets[0][0]
    for candidate, low in buckets:
        if value < low:
            break
        name = candidate
    return name


def whole_seconds(ms: int) -> int:
    """A non-negative duration in ms rounded to the second, halves up."""
    return (ms + 500) // 1000


def three_significant_digits(value: int) -> int:
    """A non-negative integer rounded to three significant digits, halves up: unchanged
    below 1,000, to tens below 10,000, and so on."""
    if value < 1000:
        return value
    step = 10 ** (len(str(value)) - 3)
    return (value + step // 2) // step * step


def count_value(counts: dict[str, int], value: int) -> None:
    """One more at ``value`` in a JSON-ready frequency table (keys are strings)."""
    key = str(value)
    counts[key] = counts.get(key, 0) + 1
