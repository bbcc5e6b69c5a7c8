"""Independent reference implementations for the generator tests.

Written from CONTRACT.md section 3 and METRICS.md only, without the generator's own
bookkeeping: a straightforward validator, and the metric definitions applied to the whole
set of accepted events at once (not unit by unit, as the generator does). If the
generator's truth equals what this computes, the truth is what the definitions give.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

# The layout of the truth's per-key records (names only; every figure is recomputed here).
from generator.truth import AGENT_FIELDS, KRA_FIELDS

# CONTRACT.md section 3's rejection reasons, in the contract's order, written out here on
# purpose: the tests check the pipeline's and the generator's lists against this one.
REASONS = (
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

MAX_PAYLOAD_BYTES = 65_536
CHANNELS = ("web", "whatsapp", "ai")
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# ----------------------------------------------------------------- validation
def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def parse_timestamp(value: str) -> datetime.datetime | None:
    """The instant, or None when unparseable or without an offset."""
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed


def to_ms(moment: datetime.datetime) -> int:
    return (moment - EPOCH) // datetime.timedelta(milliseconds=1)


def violations(payload: bytes, now: datetime.datetime) -> set[str]:
    """Every CONTRACT.md section 3 rule the payload breaks (empty when valid)."""
    broken: set[str] = set()
    if len(payload) > MAX_PAYLOAD_BYTES:
        broken.add("too_large")
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return broken | {"not_json"}
    if not isinstance(document, dict):
        return broken | {"not_object"}
    if _has_nul(document):
        broken.add("nul_character")
    for name in ("eventId", "name", "timestamp"):
        if document.get(name) is None:
            broken.add("missing_field")
    event_id = document.get("eventId")
    if event_id is not None and not (isinstance(event_id, str) and 1 <= len(event_id) <= 128):
        broken.add("wrong_type")
    name = document.get("name")
    if name is not None and not (isinstance(name, str) and 1 <= len(name) <= 100):
        broken.add("wrong_type")
    timestamp = document.get("timestamp")
    if timestamp is not None:
        if not isinstance(timestamp, str):
            broken.add("wrong_type")
        else:
            parsed = parse_timestamp(timestamp)
            if parsed is None:
                broken.add("bad_timestamp")
            elif parsed > now + datetime.timedelta(days=1):
                broken.add("future_timestamp")
    for key in ("userId", "anonymousId", "sessionId"):
        if document.get(key) is not None and not isinstance(document[key], str):
            broken.add("wrong_type")
    if "channel" in document:
        channel = document["channel"]
        if not isinstance(channel, str):
            broken.add("wrong_type")
        elif channel not in CHANNELS:
            broken.add("unknown_channel")
    for key in ("properties", "context", "traits"):
        if key in document and not isinstance(document[key], dict):
            broken.add("wrong_type")
    return broken


def default_channel(name: str) -> str:
    if name.startswith(("message.", "chat.", "agent.", "csat.")):
        return "whatsapp"
    if name.startswith("ai."):
        return "ai"
    return "web"


@dataclass
class Event:
    event_id: str
    name: str
    ts: int
    channel: str
    user_id: str | None
    anonymous_id: str | None
    session_id: str | None
    properties: dict[str, Any]
    context: dict[str, Any]
    traits: dict[str, Any]
    position: int  # index of the entry in the stream


@dataclass
class StreamSummary:
    events: list[Event] = field(default_factory=list)  # accepted first copies, stream order
    duplicates: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    labels: list[tuple[str, str | None]] = field(default_factory=list)  # independent (kind, reason)


def read_stream(payloads: Iterable[bytes], now: datetime.datetime) -> StreamSummary:
    """Validate every entry, keep the first copy of each eventId (CONTRACT.md section 3)."""
    summary = StreamSummary()
    seen: set[str] = set()
    for position, payload in enumerate(payloads):
        broken = violations(payload, now)
        if broken:
            reason = next(iter(broken)) if len(broken) == 1 else "+".join(sorted(broken))
            summary.rejected_by_reason[reason] = summary.rejected_by_reason.get(reason, 0) + 1
            summary.labels.append(("rejected", reason))
            continue
        document = json.loads(payload)
        event_id = document["eventId"]
        if event_id in seen:
            summary.duplicates += 1
            summary.labels.append(("duplicate", None))
            continue
        seen.add(event_id)
        summary.labels.append(("event", None))
        moment = parse_timestamp(document["timestamp"])
        assert moment is not None
        summary.events.append(
            Event(
                event_id=event_id,
                name=document["name"],
                ts=to_ms(moment),
                channel=document.get("channel") or default_channel(document["name"]),
                user_id=document.get("userId"),
                anonymous_id=document.get("anonymousId"),
                session_id=document.get("sessionId"),
                properties=document.get("properties") or {},
                context=document.get("context") or {},
                traits=document.get("traits") or {},
                position=position,
            )
        )
    return summary


# -------------------------------------------------------------------- metrics
def like_to_regex(pattern: str) -> re.Pattern[str]:
    """SQL LIKE (no escapes used in the presets) as a regex."""
    return re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    )


def device_type_from_user_agent(user_agent: str) -> str:
    if "iPad" in user_agent:
        return "tablet"
    if "Android" in user_agent and "Mobile" not in user_agent and "Opera Mini" not in user_agent:
        return "tablet"
    if any(marker in user_agent for marker in ("Mobile", "iPhone", "Opera Mini", "Android")):
        return "mobile"
    return "desktop"


@functools.cache
def e164(contact: str) -> str:
    number = phonenumbers.parse(contact if contact.startswith("+") else "+" + contact)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def web_sessions(events: Sequence[Event]) -> tuple[list[list[Event]], dict[str, str]]:
    """METRICS.md sessions (sessionId, else per user_key with the 30 min / 24 h rules)."""
    web = [event for event in events if event.channel == "web"]
    links: dict[str, str] = {}
    for event in web:
        if event.name == "identify" and event.user_id and event.anonymous_id:
            assert links.setdefault(event.anonymous_id, event.user_id) == event.user_id

    def user_key(event: Event) -> str:
        return event.user_id or links.get(event.anonymous_id or "") or event.anonymous_id or ""

    by_session: dict[str, list[Event]] = defaultdict(list)
    by_person: dict[str, list[Event]] = defaultdict(list)
    for event in web:
        if event.session_id:
            by_session[event.session_id].append(event)
        else:
            by_person[user_key(event)].append(event)
    sessions = [sorted(group, key=lambda e: e.ts) for group in by_session.values()]
    for group in by_person.values():
        group.sort(key=lambda e: e.ts)
        current: list[Event] = []
        for event in group:
            if current and (
                event.ts - current[-1].ts >= 30 * MINUTE_MS
                or event.ts - current[0].ts > 24 * HOUR_MS
            ):
                sessions.append(current)
                current = []
            current.append(event)
        if current:
            sessions.append(current)
    return sessions, links


def funnel_steps_reached(session: Sequence[Event], steps: Sequence[tuple[str, str, str]]) -> int:
    reached_at: int | None = None
    reached = 0
    for _step_name, event_name, pattern in steps:
        regex = like_to_regex(pattern) if pattern else None
        times = [
            event.ts
            for event in session
            if event.name == event_name
            and (regex is None or regex.fullmatch(str(event.properties.get("path", ""))))
            and (reached_at is None or event.ts >= reached_at)
        ]
        if not times:
            break
        reached_at = min(times)
        reached += 1
    return reached


def recompute(
    events: Sequence[Event], journeys: dict[str, list[tuple[str, str, str]]]
) -> dict[str, Any]:
    """The truth figures, from the accepted events and METRICS.md alone."""
    out: dict[str, Any] = {}
    out["accepted_events"] = len(events)
    names: dict[str, int] = defaultdict(int)
    channels: dict[str, int] = dict.fromkeys(CHANNELS, 0)
    for event in events:
        names[event.name] += 1
        channels[event.channel] += 1
    out["events_by_name"] = dict(sorted(names.items()))
    out["events_by_channel"] = channels

    # ---- web
    sessions, links = web_sessions(events)
    user_ids = {event.user_id for event in events if event.user_id}
    web: dict[str, Any] = {
        "sessions": len(sessions),
        "converted_sessions": 0,
        "converted_by_journey": {"MRI": 0, "TOT": 0, "NIL": 0},
        "bounces": 0,
        "identified_users": len(user_ids),
        "sessions_identified": 0,
        "sessions_by_device_type": {"mobile": 0, "desktop": 0, "tablet": 0, "unknown": 0},
        "page_views": names.get("page_view", 0),
        "app_errors": names.get("app_error", 0),
        "funnel_sessions": {journey: [0] * len(steps) for journey, steps in journeys.items()},
        "sessionless_sessions": sum(1 for session in sessions if not session[0].session_id),
        "session_duration_counts": {},
        "session_duration_ms_sum": 0,
    }
    for session in sessions:
        duration = session[-1].ts - session[0].ts
        _count_at(web["session_duration_counts"], rounded_seconds(duration))
        web["session_duration_ms_sum"] += duration
    for session in sessions:
        kinds = [event.name for event in session]
        journeys_converted = {
            event.properties.get("journey")
            for event in session
            if event.name == "session.converted"
        }
        if journeys_converted:
            web["converted_sessions"] += 1
            for journey in journeys_converted:
                web["converted_by_journey"][journey] += 1
        elif kinds.count("page_view") == 1 and set(kinds) <= {"page_view", "session.start"}:
            web["bounces"] += 1
        identified = {bool(e.user_id) or (e.anonymous_id in links) for e in session}
        assert len(identified) == 1, "a session mixes identified and anonymous user_keys"
        if identified.pop():
            web["sessions_identified"] += 1
        device = "unknown"
        for event in session:
            if event.context.get("deviceType"):
                device = event.context["deviceType"]
                break
            if event.context.get("userAgent"):
                device = device_type_from_user_agent(event.context["userAgent"])
                break
        web["sessions_by_device_type"][device] += 1
        for journey, steps in journeys.items():
            for index in range(funnel_steps_reached(session, steps)):
                web["funnel_sessions"][journey][index] += 1
    out["web"] = web

    # ---- whatsapp
    whatsapp = [event for event in events if event.channel == "whatsapp"]
    watermark = max(event.ts for event in whatsapp)
    received = [e for e in whatsapp if e.name == "message.received"]
    sent = [e for e in whatsapp if e.name == "message.sent"]
    statuses: dict[str, set[str]] = defaultdict(set)
    for event in whatsapp:
        if event.name in ("message.delivered", "message.read", "message.failed"):
            statuses[event.properties["messageId"]].add(event.name)
    delivered = read = failed = 0
    for message in sent:
        kinds = statuses.get(message.properties["messageId"], set())
        if kinds & {"message.delivered", "message.read"}:
            delivered += 1
        elif "message.failed" in kinds:
            failed += 1
        if "message.read" in kinds:
            read += 1
    inbound_times: dict[str, list[int]] = defaultdict(list)
    for message in received:
        inbound_times[e164(message.properties["contact"])].append(message.ts)
    for times in inbound_times.values():
        times.sort()
    replied = 0
    for message in sent:
        times = inbound_times.get(e164(message.properties["contact"]), [])
        index = bisect.bisect_right(times, message.ts)
        if index < len(times) and times[index] - message.ts <= 24 * HOUR_MS:
            replied += 1
    by_sender = {"bot": 0, "agent": 0, "campaign": 0}
    for message in sent:
        by_sender[message.properties["senderType"]] += 1

    per_contact: dict[str, list[Event]] = defaultdict(list)
    for event in whatsapp:
        per_contact[e164(event.properties["contact"])].append(event)
    conversations: dict[str, list[Conversation]] = {}
    for contact, contact_events in per_contact.items():
        contact_events.sort(key=lambda e: e.ts)
        conversations[contact] = contact_conversations(contact_events, watermark)
    figures = conversation_figures(per_contact, conversations, events)
    contacts = set(per_contact)
    identify_phones = {
        e164(event.traits["phone"])
        for event in events
        if event.name == "identify" and event.user_id and event.traits.get("phone")
    }
    csat = [event.properties["score"] for event in whatsapp if event.name == "csat.submitted"]
    contacts_by_country: dict[str, int] = defaultdict(int)
    for contact in contacts:
        contacts_by_country[country(contact)] += 1
    messages_by_country: dict[str, int] = defaultdict(int)
    for message in [*received, *sent]:
        messages_by_country[country(e164(message.properties["contact"]))] += 1
    out["whatsapp"] = {
        "messages_received": len(received),
        "messages_sent": len(sent),
        "messages_sent_by_sender": by_sender,
        "messages_delivered": delivered,
        "messages_read": read,
        "messages_failed": failed,
        "messages_replied": replied,
        "contacts": len(contacts),
        "conversations": sum(figures["statuses"].values()),
        "conversations_by_status": figures["statuses"],
        "conversations_escalated": figures["escalated"],
        "csat_count": len(csat),
        "csat_sum": sum(csat),
        "cross_channel_users": len(contacts & identify_phones),
        "watermark_ms": watermark,
        "contacts_by_country": dict(contacts_by_country),
        "messages_by_country": dict(messages_by_country),
        **response_waits(per_contact, conversations),
        "kra": figures["kra"],
        "agents": figures["agents"],
        "resolved_by_service": figures["resolved_by_service"],
    }

    # ---- ai
    ai_events = [event for event in events if event.channel == "ai"]
    intents = {
        e.event_id: e.properties["intent"] for e in ai_events if e.name == "ai.classification"
    }
    feedback: dict[str, str] = {}
    for event in ai_events:
        if event.name == "ai.feedback" and event.properties["classificationId"] in intents:
            feedback.setdefault(
                event.properties["classificationId"], event.properties["correctIntent"]
            )
    by_model: dict[str, dict[str, int]] = {
        name: defaultdict(int) for name in ("ai.classification", "ai.generation", "ai.error")
    }
    errors_by_type: dict[str, int] = defaultdict(int)
    latency_buckets: dict[str, dict[str, int]] = {}
    latency_ms_sum: dict[str, int] = defaultdict(int)
    latency_counts: dict[str, dict[str, int]] = {}
    for event in ai_events:
        if event.name not in by_model:
            continue
        by_model[event.name][event.properties["model"]] += 1
        if event.name == "ai.error":
            errors_by_type[event.properties["errorType"]] += 1
            continue
        key = f"{event.name.removeprefix('ai.')}|{event.properties['model']}"
        latency = event.properties["latencyMs"]
        buckets = latency_buckets.setdefault(key, {name: 0 for name, _low in LATENCY_BUCKETS})
        buckets[bucket(LATENCY_BUCKETS, latency)] += 1
        latency_ms_sum[key] += latency
        _count_at(latency_counts.setdefault(key, {}), significant_3(latency))
    out["ai"] = {
        "classifications": len(intents),
        "feedback": len(feedback),
        "correct_classifications": sum(
            1 for cid, intent in feedback.items() if intents[cid] == intent
        ),
        "generations": names.get("ai.generation", 0),
        "errors": names.get("ai.error", 0),
        "classifications_by_model": dict(by_model["ai.classification"]),
        "generations_by_model": dict(by_model["ai.generation"]),
        "errors_by_model": dict(by_model["ai.error"]),
        "errors_by_type": dict(errors_by_type),
        "latency_buckets": latency_buckets,
        "latency_ms_sum": dict(latency_ms_sum),
        "latency_counts": latency_counts,
        "intents": figures["intents"],
    }
    return out


# ------------------------------------------------------- WhatsApp conversations
MESSAGE_NAMES = ("message.received", "message.sent")
# METRICS.md histograms: (name, lower bound in ms, inclusive); each ends at the next bound.
WAIT_BUCKETS = (
    ("<1m", 0),
    ("1-5m", MINUTE_MS),
    ("5-15m", 5 * MINUTE_MS),
    ("15-30m", 15 * MINUTE_MS),
    ("30-60m", 30 * MINUTE_MS),
    ("1-4h", HOUR_MS),
    (">=4h", 4 * HOUR_MS),
)
LATENCY_BUCKETS = (
    ("<250ms", 0),
    ("250-500ms", 250),
    ("500-1000ms", 500),
    ("1-2s", 1000),
    ("2-5s", 2000),
    (">=5s", 5000),
)
CSAT_WINDOW_MS = 24 * HOUR_MS


def bucket(buckets: Sequence[tuple[str, int]], value: int) -> str:
    return [name for name, low in buckets if value >= low][-1]


@functools.cache
def country(phone: str) -> str:
    """ISO 3166 alpha-2 country of an E.164 number's calling code."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    assert region, phone
    return region


@dataclass
class Conversation:
    start: int
    last: int  # latest message
    opener: str  # eventId of the inbound message that opened it
    status: str = ""
    end: int | None = None  # None while open
    resolution: Event | None = None

    def holds(self, ts: int) -> bool:
        """An event of the contact at ``ts`` lies between the open and the close."""
        return self.start <= ts and (self.end is None or ts <= self.end)


def contact_conversations(contact_events: Sequence[Event], watermark: int) -> list[Conversation]:
    """METRICS.md conversations of one contact, from its events in time order."""
    conversations: list[Conversation] = []
    current: Conversation | None = None
    for event in contact_events:
        if event.name in MESSAGE_NAMES:
            if current is not None and event.ts - current.last >= 30 * MINUTE_MS:
                current.status, current.end = "dropped", current.last
                current = None
            if current is None:
                if event.name == "message.received":
                    current = Conversation(event.ts, event.ts, event.event_id)
                    conversations.append(current)
            else:
                current.last = event.ts
        elif event.name == "chat.resolved" and current is not None:
            if event.ts - current.last >= 30 * MINUTE_MS:
                current.status, current.end = "dropped", current.last
            else:
                current.status, current.end, current.resolution = "resolved", event.ts, event
            current = None
    if current is not None:
        if current.last >= watermark - 30 * MINUTE_MS:
            current.status = "open"
        else:
            current.status, current.end = "dropped", current.last
    return conversations


def response_waits(
    per_contact: dict[str, list[Event]], conversations: dict[str, list[Conversation]]
) -> dict[str, Any]:
    """METRICS.md response time: a wait starts at an inbound message that follows an outbound
    one (or the contact's first message) or that opens a conversation; it ends at the
    contact's next outbound message, whoever sends it and however late."""
    by_responder = {"bot": 0, "agent": 0, "campaign": 0, "unanswered": 0}
    buckets = {name: 0 for name, _low in WAIT_BUCKETS}
    seconds: dict[str, dict[str, int]] = {}
    total = 0
    count = 0
    for contact, contact_events in per_contact.items():
        messages = sorted(
            (event for event in contact_events if event.name in MESSAGE_NAMES),
            key=lambda e: (e.ts, e.name != "message.received", e.properties["messageId"]),
        )
        openers = {conversation.opener for conversation in conversations[contact]}
        for index, message in enumerate(messages):
            if message.name != "message.received":
                continue
            follows_inbound = index > 0 and messages[index - 1].name == "message.received"
            if follows_inbound and message.event_id not in openers:
                continue  # a burst: the wait started earlier
            count += 1
            response = next((m for m in messages[index + 1 :] if m.name == "message.sent"), None)
            if response is None:
                by_responder["unanswered"] += 1
                continue
            by_responder[response.properties["senderType"]] += 1
            buckets[bucket(WAIT_BUCKETS, response.ts - message.ts)] += 1
            total += response.ts - message.ts
            responder = seconds.setdefault(response.properties["senderType"], {})
            _count_at(responder, rounded_seconds(response.ts - message.ts))
    return {
        "waits": count,
        "waits_by_responder": by_responder,
        "wait_buckets": buckets,
        "wait_ms_sum": total,
        "wait_second_counts": seconds,
    }


def conversation_figures(
    per_contact: dict[str, list[Event]],
    conversations: dict[str, list[Conversation]],
    events: Sequence[Event],
) -> dict[str, Any]:
    """Statuses, escalation, KRA journey x support type, agents, services and intents."""
    statuses = {"resolved": 0, "dropped": 0, "open": 0}
    escalated_count = 0
    kra: dict[str, dict[str, int]] = {}
    agents: dict[str, dict[str, int]] = {}
    services: dict[str, int] = defaultdict(int)
    intents: dict[str, dict[str, int]] = {}

    def agent_row(agent_id: str) -> dict[str, int]:
        return agents.setdefault(agent_id, dict.fromkeys(AGENT_FIELDS, 0))

    # Each CSAT to the latest conversation of its contact started at or before it and ended
    # at most 24 h before it (or still open); each conversation keeps its earliest CSAT.
    csat_of: dict[tuple[str, int], Event] = {}
    for contact, contact_events in per_contact.items():
        for event in contact_events:
            if event.name != "csat.submitted":
                continue
            candidates = [
                c
                for c in conversations[contact]
                if c.start <= event.ts and (c.end is None or event.ts <= c.end + CSAT_WINDOW_MS)
            ]
            if not candidates:
                continue
            owner = max(candidates, key=lambda c: c.start)
            known = csat_of.get((contact, owner.start))
            if known is None or event.ts < known.ts:
                csat_of[(contact, owner.start)] = event

    # Classifications to the conversation of the same contact going on at the time.
    classified: dict[tuple[str, int], set[str]] = defaultdict(set)
    for event in events:
        if event.channel != "ai" or event.name != "ai.classification":
            continue
        intent = event.properties["intent"]
        row = intents.setdefault(
            intent,
            dict.fromkeys(
                ("classifications", "conversations", "resolved", "dropped", "open", "escalated"),
                0,
            ),
        )
        row["classifications"] += 1
        contact = e164(event.properties["contact"])
        for conversation in conversations.get(contact, []):
            if conversation.holds(event.ts):
                classified[(contact, conversation.start)].add(intent)

    for contact, contact_events in per_contact.items():
        for conversation in conversations[contact]:
            key = (contact, conversation.start)
            inside = [e for e in contact_events if conversation.holds(e.ts)]
            handoffs = [e for e in inside if e.name == "agent.handoff"]
            outbound = [e for e in inside if e.name == "message.sent"]
            escalated = bool(handoffs)
            statuses[conversation.status] += 1
            escalated_count += escalated
            resolution = conversation.resolution
            journey = (resolution.properties.get("journey") if resolution else None) or "unknown"
            row = kra.setdefault(
                f"{journey}|{'assisted' if escalated else 'self_serve'}",
                dict.fromkeys(KRA_FIELDS, 0),
            )
            row["started"] += 1
            row[conversation.status] += 1
            row["escalated"] += escalated
            responses = [e.ts for e in outbound if e.ts > conversation.start]
            if responses:
                row["first_responses"] += 1
                row["first_response_ms_sum"] += min(responses) - conversation.start
            csat = csat_of.get(key)
            if csat is not None:
                row["csat_count"] += 1
                row["csat_sum"] += csat.properties["score"]
            resolution_ms = None
            if resolution is not None:
                assert conversation.end is not None
                resolution_ms = conversation.end - conversation.start
                row["resolution_ms_sum"] += resolution_ms
                services[resolution.properties["serviceName"]] += 1
            for intent in classified.get(key, set()):
                intents[intent]["conversations"] += 1
                intents[intent][conversation.status] += 1
                intents[intent]["escalated"] += escalated

            agent_id = resolution.properties.get("agentId") if resolution else None
            if not agent_id and handoffs:
                agent_id = max(handoffs, key=lambda e: e.ts).properties["agentId"]
            if not agent_id:
                continue
            agent = agent_row(agent_id)
            if resolution_ms is not None:
                agent["chats_resolved"] += 1
                agent["resolution_ms_sum"] += resolution_ms
            if csat is not None:
                agent["csat_count"] += 1
                agent["csat_sum"] += csat.properties["score"]
            if handoffs:
                handed = min(e.ts for e in handoffs)
                replies = [
                    e.ts
                    for e in outbound
                    if e.properties["senderType"] == "agent" and e.ts > handed
                ]
                if replies:
                    agent["agent_first_responses"] += 1
                    agent["agent_first_response_ms_sum"] += min(replies) - handed
    for event in events:
        if event.name == "message.sent" and event.properties["senderType"] == "agent":
            agent_row(event.properties["agentId"])["messages_sent"] += 1
    return {
        "statuses": statuses,
        "escalated": escalated_count,
        "kra": kra,
        "agents": agents,
        "resolved_by_service": dict(services),
        "intents": intents,
    }


def rounded_seconds(ms: int) -> int:
    """docs/marts.md distributions: a duration rounded to the whole second, halves up."""
    return int(round(ms / 1000 + 1e-9))  # ms / 1000 is exact to 1e-9; halves go up


def significant_3(value: int) -> int:
    """docs/marts.md, ai_latency_distribution_daily: three significant digits, halves up
    (whole values below 1,000)."""
    if value < 1000:
        return value
    step = 10 ** (len(str(value)) - 3)
    return (2 * value + step) // (2 * step) * step


def _count_at(counts: dict[str, int], value: int) -> None:
    counts[str(value)] = counts.get(str(value), 0) + 1
