"""WhatsApp contacts talking to the bot, being handed to agents, receiving campaigns,
and the AI agent that classifies their messages.

The unit of simulation is one contact's episode: a conversation, or a campaign message
(possibly answered by a conversation). Margins keep METRICS.md's conversation rules
unambiguous: messages of one conversation are at most 17 minutes apart, a contact's
episodes are at least 50 minutes apart (after the last message, resolution or CSAT), a
``chat.resolved`` comes at most 8 minutes after the conversation's last message, and no
unresolved conversation ends 20-40 minutes before the watermark (such an episode is not
emitted). A unit that would break a margin is dropped before it touches any state.
"""

from __future__ import annotations

import random
from itertools import accumulate
from typing import Any

from generator import catalog
from generator.clock import (
    HOUR,
    MINUTE,
    NAIROBI_OFFSET_MINUTES,
    TimestampFormatter,
    lognormal_ms,
)
from generator.ids import IdFactory
from generator.records import Ev, Recorder
from generator.truth import (
    AGENT_FIELDS,
    INTENT_FIELDS,
    KRA_FIELDS,
    LATENCY_BUCKET_NAMES,
    LATENCY_BUCKETS,
    WAIT_BUCKETS,
    bucket_name,
    count_value,
    three_significant_digits,
    whole_seconds,
)
from generator.web import Person, WebSimulator

CONTACT_POOL_MAX = 40_000
EPISODE_GAP = 50 * MINUTE  # minimum time between two episodes of one contact
MAX_MESSAGE_GAP = 17 * MINUTE  # within a conversation
CONVERSATION_TIMEOUT = 30 * MINUTE  # METRICS.md
REPLY_WINDOW = 24 * HOUR  # METRICS.md "Replied"
CSAT_WINDOW = 24 * HOUR  # METRICS.md: a CSAT up to 24 h after a conversation ended is its own
SECOND = 1000

_INBOUND = "message.received"
_OUTBOUND = "message.sent"


class Contact:
    __slots__ = (
        "phone",
        "busy_until",
        "last_message",
        "pending",
        "plain_share",
        "last_inbound",
        "waits",
    )

    def __init__(self, phone: str, plain_share: float) -> None:
        self.phone = phone  # E.164
        self.busy_until = 0
        self.last_message: int | None = None
        self.pending: list[int] = []  # outbound times after the contact's last inbound
        self.plain_share = plain_share  # share of events whose contact lacks the '+'
        self.last_inbound = False  # the contact's latest message is inbound
        self.waits: list[int] = []  # start times of response waits not answered yet


class _Conversation:
    """One conversation of a unit, as METRICS.md delimits it."""

    __slots__ = ("start", "last", "status", "end", "opener", "resolution")

    def __init__(self, opener: Ev) -> None:
        self.start = opener.ts
        self.last = opener.ts  # its latest message
        self.status: str | None = None
        self.end: int | None = None  # resolution, or last message when dropped; None open
        self.opener = opener  # the inbound message that opened it
        self.resolution: Ev | None = None  # the chat.resolved that closed it

    def holds(self, ts: int) -> bool:
        """Whether an event of the contact at ``ts`` falls between its open and close."""
        return self.start <= ts and (self.end is None or ts <= self.end)


def _message_order(ev: Ev) -> tuple[int, bool, str]:
    """METRICS.md message order: time, inbound first at equal times, then messageId."""
    return (ev.ts, ev.doc["name"] != _INBOUND, ev.doc["properties"]["messageId"])


def _count(counts: dict[str, int], key: str, amount: int = 1) -> None:
    counts[key] = counts.get(key, 0) + amount


class WhatsAppSimulator:
    """Simulates and records WhatsApp and AI traffic."""

    def __init__(
        self,
        rng: random.Random,
        ids: IdFactory,
        recorder: Recorder,
        formatter: TimestampFormatter,
        cutoff: int,
        web: WebSimulator,
    ) -> None:
        self.rng = rng
        self.ids = ids
        self.recorder = recorder
        self.fmt = formatter.format
        self.cutoff = cutoff
        self.watermark = cutoff  # final_units() puts an inbound message exactly here
        self.web = web
        self.contacts: list[Contact] = []
        self.dropped_units = 0
        self._spaces = [(prefix, digits) for prefix, digits, _w in catalog.PHONE_SPACES]
        self._spaces_cum = list(accumulate(w for _p, _d, w in catalog.PHONE_SPACES))
        self._intents_cum = list(accumulate(intent[4] for intent in catalog.INTENTS))

    # --------------------------------------------------------------- contacts
    def _new_contact(self) -> Contact:
        rng = self.rng
        prefix, digits = rng.choices(self._spaces, cum_weights=self._spaces_cum)[0]
        contact = Contact(self.ids.phone(prefix, digits), rng.choice((0.0, 0.0, 0.3, 0.9)))
        self._pool(contact)
        return contact

    def _pool(self, contact: Contact) -> None:
        if len(self.contacts) < CONTACT_POOL_MAX:
            self.contacts.append(contact)
        else:
            self.contacts[self.rng.randrange(CONTACT_POOL_MAX)] = contact

    def _free(self, contact: Contact, start: int) -> bool:
        return contact.busy_until + EPISODE_GAP <= start

    def _pick_contact(self, start: int, returning: float) -> Contact:
        rng = self.rng
        roll = rng.random()
        if self.contacts and roll < returning:
            contact = self.contacts[rng.randrange(len(self.contacts))]
            if self._free(contact, start):
                return contact
        elif roll < returning + 0.07 and self.web.phone_people:
            person: Person = self.web.phone_people[rng.randrange(len(self.web.phone_people))]
            contact = person.contact
            if contact is None:
                contact = person.contact = Contact(person.phone or "", 0.3)
                self._pool(contact)
            if self._free(contact, start):
                return contact
        return self._new_contact()

    # ------------------------------------------------------------------ units
    def conversation(self, start: int) -> None:
        """A contact writes in at ``start``."""
        contact = self._pick_contact(start, 0.3)
        unit = _Unit(self, contact)
        unit.conversation(start)
        self._commit(contact, unit)

    def campaign(self, start: int, campaign_id: str, recipients: int) -> None:
        """A campaign sent to ``recipients`` contacts from ``start`` on."""
        rng = self.rng
        t = start
        for _ in range(recipients):
            t += rng.randrange(100, 600)
            contact = self._pick_contact(t, 0.75)
            unit = _Unit(self, contact)
            unit.outbound(t, "campaign", campaign_id=campaign_id)
            if rng.random() < 0.12:
                unit.conversation(t + lognormal_ms(rng, 20 * MINUTE, 1.0, MINUTE, 6 * HOUR))
            self._commit(contact, unit)

    def final_units(self, count: int) -> None:
        """Conversations still open at the end, and the inbound message that sets the
        watermark: the last accepted whatsapp event is exactly at ``cutoff``."""
        rng = self.rng
        starts = sorted(self.cutoff - rng.randrange(2 * MINUTE, 17 * MINUTE) for _ in range(count))
        for start in [*starts, self.cutoff]:
            contact = self._new_contact()
            unit = _Unit(self, contact)
            unit.conversation(start)
            if not self._commit(contact, unit):
                raise AssertionError("a final open conversation broke a margin")

    # ----------------------------------------------------------------- commit
    def _commit(self, contact: Contact, unit: _Unit) -> bool:
        """Work out the unit's truth; record it unless it breaks a margin."""
        cutoff = self.cutoff
        events = sorted(unit.events, key=lambda ev: ev.ts)
        if events and events[-1].ts > cutoff:
            events = [ev for ev in events if ev.ts <= cutoff]
        messages = [ev for ev in events if ev.doc["name"] in (_INBOUND, _OUTBOUND)]
        if not messages:
            return True  # everything fell after the end of the period
        last_message = messages[-1].ts
        # A handoff whose following message fell after the end would sit after the
        # conversation's last message, where membership is ambiguous: drop it.
        events = [
            ev for ev in events if not (ev.doc["name"] == "agent.handoff" and ev.ts > last_message)
        ]
        if contact.last_message is not None and (
            messages[0].ts - contact.last_message < EPISODE_GAP
        ):
            raise AssertionError("contact episodes overlap")

        # Conversations (METRICS.md), with the margins checked on the way.
        conversations: list[_Conversation] = []
        current: _Conversation | None = None
        for ev in events:
            name = ev.doc["name"]
            ts = ev.ts
            if name in (_INBOUND, _OUTBOUND):
                if current is not None:
                    gap = ts - current.last
                    if 20 * MINUTE <= gap <= 45 * MINUTE or gap <= 0:
                        return self._drop()
                if current is not None and ts - current.last >= CONVERSATION_TIMEOUT:
                    current.status = "dropped"
                    current.end = current.last
                    current = None
                if current is None:
                    if name == _INBOUND:
                        current = _Conversation(ev)
                        conversations.append(current)
                else:
                    current.last = ts
            elif name == "chat.resolved" and current is not None:
                if ts - current.last > 20 * MINUTE or ts <= current.last:
                    return self._drop()
                current.status = "resolved"
                current.end = ts
                current.resolution = ev
                current = None
        if current is not None:
            if self.watermark - 40 * MINUTE < current.last < self.watermark - 20 * MINUTE:
                return self._drop()
            if current.last >= self.watermark - CONVERSATION_TIMEOUT:
                current.status = "open"
            else:
                current.status = "dropped"
                current.end = current.last

        # Replies (METRICS.md: the contact wrote within 24 h after the sent message).
        pending = [s for s in contact.pending if s + REPLY_WINDOW + 10 * MINUTE >= messages[0].ts]
        replied = 0
        for ev in messages:
            if ev.doc["name"] == _OUTBOUND:
                pending.append(ev.ts)
                continue
            for sent in pending:
                distance = ev.ts - sent - REPLY_WINDOW
                if -5 * MINUTE < distance < 5 * MINUTE:
                    return self._drop()
                if distance <= 0:
                    replied += 1
            pending = []

        # Everything checked: apply.
        wa = self.recorder.truth.whatsapp
        ai = self.recorder.truth.ai
        wa.messages_replied += replied
        contact.pending = pending
        contact.last_message = last_message
        busy = last_message
        self._conversation_truth(conversations, events)
        self._wait_truth(contact, messages, {id(c.opener) for c in conversations})
        _count(wa.messages_by_country, catalog.country_of_phone(contact.phone), len(messages))
        sent: dict[str, int] = {}  # messageId -> bit set: 1 delivered, 2 read, 4 failed
        classifications: dict[str, str] = {}
        for ev in events:
            name = ev.doc["name"]
            properties = ev.doc["properties"]
            if name == _OUTBOUND:
                wa.messages_sent += 1
                wa.messages_sent_by_sender[properties["senderType"]] += 1
                sent[properties["messageId"]] = 0
            elif name == _INBOUND:
                wa.messages_received += 1
            elif name == "message.delivered":
                sent[properties["messageId"]] |= 1
            elif name == "message.read":
                sent[properties["messageId"]] |= 3
            elif name == "message.failed":
                sent[properties["messageId"]] |= 4
            elif name == "csat.submitted":
                wa.csat_count += 1
                wa.csat_sum += properties["score"]
                busy = max(busy, ev.ts)
            elif name == "chat.resolved":
                busy = max(busy, ev.ts)
            elif name == "ai.classification":
                ai.classifications += 1
                classifications[ev.doc["eventId"]] = properties["intent"]
                _count(ai.classifications_by_model, properties["model"])
                self._latency("classification", properties)
            elif name == "ai.generation":
                ai.generations += 1
                _count(ai.generations_by_model, properties["model"])
                self._latency("generation", properties)
            elif name == "ai.error":
                ai.errors += 1
                _count(ai.errors_by_model, properties["model"])
                _count(ai.errors_by_type, properties["errorType"])
            elif name == "ai.feedback":
                ai.feedback += 1
                if classifications[properties["classificationId"]] == properties["correctIntent"]:
                    ai.correct_classifications += 1
        for status in sent.values():
            if status & 1:
                wa.messages_delivered += 1
            if status & 2:
                wa.messages_read += 1
            if status == 4:
                wa.messages_failed += 1
        contact.busy_until = max(contact.busy_until, busy)
        self.recorder.record(events)
        return True

    def _drop(self) -> bool:
        self.dropped_units += 1
        return False

    def _latency(self, kind: str, properties: dict[str, Any]) -> None:
        ai = self.recorder.truth.ai
        key = f"{kind}|{properties['model']}"
        latency = properties["latencyMs"]
        buckets = ai.latency_buckets.get(key)
        if buckets is None:
            buckets = ai.latency_buckets[key] = dict.fromkeys(LATENCY_BUCKET_NAMES, 0)
        buckets[bucket_name(LATENCY_BUCKETS, latency)] += 1
        _count(ai.latency_ms_sum, key, latency)
        count_value(ai.latency_counts.setdefault(key, {}), three_significant_digits(latency))

    def _wait_truth(self, contact: Contact, messages: list[Ev], openers: set[int]) -> None:
        """Response waits (METRICS.md): a wait starts at an inbound message after an
        outbound one (or the contact's first message) or opening a conversation, and ends
        at the contact's next outbound message, in this unit or a later one. A wait counts
        as unanswered until then."""
        wa = self.recorder.truth.whatsapp
        by_responder = wa.waits_by_responder
        waits = contact.waits
        last_inbound = contact.last_inbound
        for ev in sorted(messages, key=_message_order):
            if ev.doc["name"] == _INBOUND:
                if not last_inbound or id(ev) in openers:
                    waits.append(ev.ts)
                    wa.waits += 1
                    by_responder["unanswered"] += 1
                last_inbound = True
                continue
            responder = ev.doc["properties"]["senderType"]
            for started in waits:
                wait = ev.ts - started
                by_responder["unanswered"] -= 1
                by_responder[responder] += 1
                wa.wait_buckets[bucket_name(WAIT_BUCKETS, wait)] += 1
                wa.wait_ms_sum += wait
                count_value(wa.wait_second_counts.setdefault(responder, {}), whole_seconds(wait))
            waits = []
            last_inbound = False
        contact.waits = waits
        contact.last_inbound = last_inbound

    def _conversation_truth(self, conversations: list[_Conversation], events: list[Ev]) -> None:
        """Per-conversation figures: status, KRA journey and support type, first responses,
        agent, resolution, CSAT, and the intents classified in it (METRICS.md). Margins keep
        every event that belongs to a conversation in the unit of that conversation."""
        wa = self.recorder.truth.whatsapp
        ai = self.recorder.truth.ai
        handoffs: list[Ev] = []
        outbound: list[Ev] = []
        csats: list[Ev] = []
        classifications: list[Ev] = []
        for ev in events:
            name = ev.doc["name"]
            if name == "agent.handoff":
                handoffs.append(ev)
            elif name == _OUTBOUND:
                outbound.append(ev)
            elif name == "csat.submitted":
                csats.append(ev)
            elif name == "ai.classification":
                classifications.append(ev)
        # A CSAT belongs to the latest conversation that started at or before it and ended
        # no more than 24 h before it (or is open); a conversation keeps its earliest CSAT.
        csat_of: dict[int, Ev] = {}
        for ev in csats:
            owner = None
            for conversation in conversations:
                if conversation.start <= ev.ts and (
                    conversation.end is None or ev.ts <= conversation.end + CSAT_WINDOW
                ):
                    owner = conversation
            if owner is not None and id(owner) not in csat_of:
                csat_of[id(owner)] = ev
        intents_of: dict[int, set[str]] = {}
        for ev in classifications:
            intent = ev.doc["properties"]["intent"]
            entry = ai.intents.get(intent)
            if entry is None:
                entry = ai.intents[intent] = dict.fromkeys(INTENT_FIELDS, 0)
            entry["classifications"] += 1
            for conversation in conversations:
                if conversation.holds(ev.ts):
                    intents_of.setdefault(id(conversation), set()).add(intent)
                    break

        for conversation in conversations:
            status = conversation.status
            assert status is not None
            start = conversation.start
            own_handoffs = [ev for ev in handoffs if conversation.holds(ev.ts)]
            escalated = bool(own_handoffs)
            wa.conversations += 1
            wa.conversations_by_status[status] += 1
            if escalated:
                wa.conversations_escalated += 1
            resolution = (
                conversation.resolution.doc["properties"] if conversation.resolution else None
            )
            journey = (resolution.get("journey") if resolution else None) or "unknown"
            key = f"{journey}|{'assisted' if escalated else 'self_serve'}"
            kra = wa.kra.get(key)
            if kra is None:
                kra = wa.kra[key] = dict.fromkeys(KRA_FIELDS, 0)
            kra["started"] += 1
            kra[status] += 1
            kra["escalated"] += escalated
            first_response = next(
                (ev.ts for ev in outbound if ev.ts > start and conversation.holds(ev.ts)), None
            )
            if first_response is not None:
                kra["first_responses"] += 1
                kra["first_response_ms_sum"] += first_response - start
            resolution_ms = 0
            if resolution is not None:
                assert conversation.end is not None
                resolution_ms = conversation.end - start
                kra["resolution_ms_sum"] += resolution_ms
                _count(wa.resolved_by_service, resolution["serviceName"])
            csat = csat_of.get(id(conversation))
            score = csat.doc["properties"]["score"] if csat is not None else 0
            if csat is not None:
                kra["csat_count"] += 1
                kra["csat_sum"] += score
            for intent in sorted(intents_of.get(id(conversation), ())):
                entry = ai.intents[intent]
                entry["conversations"] += 1
                entry[status] += 1
                entry["escalated"] += escalated

            agent_id = resolution.get("agentId") if resolution else None
            if agent_id is None and own_handoffs:
                agent_id = own_handoffs[-1].doc["properties"]["agentId"]
            if agent_id is None:
                continue
            agent = self._agent(agent_id)
            if resolution is not None:
                agent["chats_resolved"] += 1
                agent["resolution_ms_sum"] += resolution_ms
            if csat is not None:
                agent["csat_count"] += 1
                agent["csat_sum"] += score
            if own_handoffs:
                handed = own_handoffs[0].ts
                answered = next(
                    (
                        ev.ts
                        for ev in outbound
                        if ev.ts > handed
                        and conversation.holds(ev.ts)
                        and ev.doc["properties"]["senderType"] == "agent"
                    ),
                    None,
                )
                if answered is not None:
                    agent["agent_first_responses"] += 1
                    agent["agent_first_response_ms_sum"] += answered - handed
        for ev in outbound:
            properties = ev.doc["properties"]
            if properties["senderType"] == "agent":
                self._agent(properties["agentId"])["messages_sent"] += 1

    def _agent(self, agent_id: str) -> dict[str, int]:
        agents = self.recorder.truth.whatsapp.agents
        agent = agents.get(agent_id)
        if agent is None:
            agent = agents[agent_id] = dict.fromkeys(AGENT_FIELDS, 0)
        return agent


class _Unit:
    """Builds one contact's episode as a list of events."""

    def __init__(self, sim: WhatsAppSimulator, contact: Contact) -> None:
        self.sim = sim
        self.rng = sim.rng
        self.contact = contact
        self.events: list[Ev] = []
        self.explicit_channel = self.rng.random() < 0.04

    # --------------------------------------------------------------- emitters
    def _stamp(self, ts: int) -> str:
        roll = self.rng.random()
        if roll < 0.55:
            return self.sim.fmt(ts, None)
        if roll < 0.99:
            return self.sim.fmt(ts, NAIROBI_OFFSET_MINUTES)
        return self.sim.fmt(ts, self.rng.choice((345, -210, 60)))

    def _contact(self) -> str:
        phone = self.contact.phone
        if self.contact.plain_share and self.rng.random() < self.contact.plain_share:
            return phone[1:]
        return phone

    def emit(
        self,
        ts: int,
        name: str,
        channel: str,
        properties: dict[str, Any],
        key: int | None = None,
    ) -> Ev:
        event_id = self.sim.ids.event_id()
        if self.explicit_channel:
            doc = {
                "eventId": event_id,
                "name": name,
                "timestamp": self._stamp(ts),
                "channel": channel,
                "properties": properties,
            }
        else:
            doc = {
                "eventId": event_id,
                "name": name,
                "timestamp": self._stamp(ts),
                "properties": properties,
            }
        ev = Ev(ts, doc, channel, key)
        self.events.append(ev)
        return ev

    def inbound(self, ts: int) -> None:
        message_id = self.sim.ids.unique("wamid.")
        self.emit(ts, _INBOUND, "whatsapp", {"messageId": message_id, "contact": self._contact()})

    def outbound(
        self,
        ts: int,
        sender: str,
        agent_id: str | None = None,
        campaign_id: str | None = None,
    ) -> None:
        message_id = self.sim.ids.unique("wamid.")
        properties: dict[str, Any] = {
            "messageId": message_id,
            "contact": self._contact(),
            "senderType": sender,
        }
        if agent_id is not None:
            properties["agentId"] = agent_id
        if campaign_id is not None:
            properties["campaignId"] = campaign_id
        self.emit(ts, _OUTBOUND, "whatsapp", properties)
        self.statuses(ts, message_id, sender == "campaign")

    def status(self, ts: int, name: str, message_id: str, key: int | None = None) -> None:
        properties: dict[str, Any] = {"messageId": message_id, "contact": self._contact()}
        if name == "message.failed":
            properties["errorCode"] = self.rng.choice((131026, 131047, 131049, 131000))
        self.emit(ts, name, "whatsapp", properties, key)
        if self.rng.random() < 0.03:  # the webhook fires again: a new event, not a duplicate
            again = ts + self.rng.randrange(SECOND, 300 * SECOND)
            self.emit(again, name, "whatsapp", dict(properties))

    def statuses(self, sent: int, message_id: str, campaign: bool) -> None:
        rng = self.rng
        if rng.random() < (0.07 if campaign else 0.025):
            failed = sent + rng.randrange(SECOND, 60 * SECOND)
            self.status(failed, "message.failed", message_id)
            if rng.random() < 0.15:  # a retry got through after all
                retried = failed + rng.randrange(30 * SECOND, 10 * MINUTE)
                self.status(retried, "message.delivered", message_id)
            return
        if rng.random() < 0.04:
            return  # no status ever came back
        delivered = sent + lognormal_ms(rng, 1500, 0.8, 150, 2 * MINUTE)
        read: int | None = None
        if rng.random() < (0.5 if campaign else 0.82):
            median = 40 * MINUTE if campaign else 25 * SECOND
            read = delivered + lognormal_ms(rng, median, 1.0, 300, 20 * HOUR)
        delivered_key = None
        if read is not None:
            roll = rng.random()
            if roll < 0.03:  # sender clocks disagree: "delivered" stamped after "read"
                delivered = read + rng.randrange(200, 5 * SECOND)
            elif roll < 0.15 and read - delivered < 5 * MINUTE:
                # "read" arrives in the stream first; "delivered" follows within a minute
                delivered_key = read + rng.randrange(SECOND, 60 * SECOND)
        self.status(delivered, "message.delivered", message_id, delivered_key)
        if read is not None:
            self.status(read, "message.read", message_id)

    # ------------------------------------------------------------------ flows
    def gap(self, median: int, low: int) -> int:
        return lognormal_ms(self.rng, median, 1.0, low, MAX_MESSAGE_GAP)

    def _model(self, models: tuple[tuple[str, float], ...]) -> str:
        roll = self.rng.random()
        for model, share in models:
            roll -= share
            if roll < 0:
                return model
        return models[-1][0]

    def bot_turn(self, received: int, intent: str) -> int:
        """AI on an inbound message, then the bot's reply; returns the reply time."""
        rng = self.rng
        t = received
        contact = self._contact
        if rng.random() < 0.035:
            latency = lognormal_ms(rng, 4000, 0.7, 200, 30_000)
            t += latency
            self.emit(
                t,
                "ai.error",
                "ai",
                {
                    "contact": contact(),
                    "errorType": rng.choice(catalog.AI_ERROR_TYPES),
                    "model": self._model(catalog.CLASSIFIER_MODELS),
                    "latencyMs": latency,
                    "message": "upstream model did not answer in time",
                },
            )
        else:
            latency = lognormal_ms(rng, 320, 0.6, 40, 9000)
            t += latency
            correct = rng.random() < 0.86
            if correct:
                predicted = intent
                confidence = round(rng.uniform(0.62, 0.995), 3)
            else:
                predicted = rng.choice([name for name in catalog.INTENT_NAMES if name != intent])
                confidence = round(rng.uniform(0.22, 0.85), 3)
            model = self._model(catalog.CLASSIFIER_MODELS)
            classification = self.emit(
                t,
                "ai.classification",
                "ai",
                {
                    "contact": contact(),
                    "intent": predicted,
                    "confidence": confidence,
                    "latencyMs": latency,
                    "model": model,
                },
            )
            if rng.random() < 0.18:  # a reviewer labels it later
                reviewed = t + lognormal_ms(rng, 2 * HOUR, 1.0, 5 * MINUTE, 30 * HOUR)
                self.emit(
                    reviewed,
                    "ai.feedback",
                    "ai",
                    {
                        "classificationId": classification.doc["eventId"],
                        "correctIntent": intent,
                    },
                )
            if rng.random() < 0.65:
                latency = lognormal_ms(rng, 1200, 0.55, 150, 15_000)
                t += latency
                input_tokens = rng.randrange(150, 1800)
                self.emit(
                    t,
                    "ai.generation",
                    "ai",
                    {
                        "contact": contact(),
                        "latencyMs": latency,
                        "model": self._model(catalog.GENERATION_MODELS),
                        "inputTokens": input_tokens,
                        "outputTokens": rng.randrange(20, 400),
                    },
                )
        t += rng.randrange(300, 2500)
        self.outbound(t, "bot")
        return t

    def conversation(self, start: int) -> None:
        rng = self.rng
        intent, journey, service, bot_resolves, _weight = rng.choices(
            catalog.INTENTS, cum_weights=self.sim._intents_cum
        )[0]
        t = start
        self.inbound(t)
        messages = 1
        turns = 0
        while True:
            turns += 1
            t = self.bot_turn(t, intent)
            messages += 1
            wants_agent = intent == "agent_request" or intent == "penalty_waiver"
            if (wants_agent and turns == 1) or rng.random() < 0.07 * turns:
                break  # hand over to an agent
            if rng.random() < bot_resolves * (0.5 + 0.25 * turns):
                self.resolve(t, start, messages, None, service, journey)
                return
            if turns >= 5 or rng.random() < 0.1 + 0.05 * turns:
                return  # the contact went silent: the conversation drops
            t += self.gap(70 * SECOND, 3 * SECOND)
            self.inbound(t)
            messages += 1
            if rng.random() < 0.15:  # a burst: two messages before the bot answers
                t += rng.randrange(2 * SECOND, 40 * SECOND)
                self.inbound(t)
                messages += 1

        agent = rng.choice(catalog.AGENTS)
        handoff = t + rng.randrange(500, 3 * SECOND)
        self.emit(
            handoff,
            "agent.handoff",
            "whatsapp",
            {
                "contact": self._contact(),
                "agentId": agent,
                "reason": rng.choice(catalog.HANDOFF_REASONS),
            },
        )
        wait = lognormal_ms(rng, 3 * MINUTE, 1.0, 20 * SECOND, 16 * MINUTE)
        answered = t + wait
        if wait > 3 * MINUTE and rng.random() < 0.3:
            self.inbound(t + rng.randrange(MINUTE, wait - 30 * SECOND))  # "hello??"
            messages += 1
            if rng.random() < 0.15:
                return  # no agent ever answered; the contact gave up
        t = answered
        self.outbound(t, "agent", agent_id=agent)
        messages += 1
        for _ in range(rng.randrange(1, 6)):
            t += self.gap(90 * SECOND, 5 * SECOND)
            self.inbound(t)
            messages += 1
            if rng.random() < 0.06:
                return  # left unanswered
            t += self.gap(60 * SECOND, 10 * SECOND)
            self.outbound(t, "agent", agent_id=agent)
            messages += 1
        if rng.random() < 0.8:
            self.resolve(t, start, messages, agent, service, journey)

    def resolve(
        self,
        last: int,
        start: int,
        messages: int,
        agent: str | None,
        service: str,
        journey: str | None,
    ) -> None:
        rng = self.rng
        resolved = last + rng.randrange(20 * SECOND, 8 * MINUTE)
        properties: dict[str, Any] = {
            "contact": self._contact(),
            "agentId": agent,
            "durationMinutes": round((resolved - start) / MINUTE),
            "messageCount": messages,
            "serviceName": service,
        }
        if journey is not None:
            properties["journey"] = journey
        self.emit(resolved, "chat.resolved", "whatsapp", properties)
        if rng.random() < (0.45 if agent else 0.3):
            submitted = resolved + lognormal_ms(rng, 15 * MINUTE, 1.3, MINUTE, 20 * HOUR)
            weights = (0.07, 0.06, 0.12, 0.3, 0.45) if agent else (0.1, 0.1, 0.2, 0.3, 0.3)
            score = rng.choices((1, 2, 3, 4, 5), weights)[0]
            self.emit(
                submitted,
                "csat.submitted",
                "whatsapp",
                {
                    "contact": self._contact(),
                    "score": score,
                    "agentId": agent,
                },
            )
