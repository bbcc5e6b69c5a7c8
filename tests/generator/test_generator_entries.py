"""The entries themselves: valid ones follow CONTRACT.md section 3, malformed ones break
exactly the rule they are labelled with, duplicates are byte copies, the traffic looks real."""

from __future__ import annotations

import datetime
import json
import random
import re
import sys
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from ua_parser import parse as parse_user_agent

from generator import GeneratedEntry, Generation, GeneratorConfig, catalog, generate
from generator.catalog import EXPLICIT_DEVICES, USER_AGENTS
from generator.journeys import (
    JOURNEY_PAGES,
    JOURNEYS,
    funnel_seed_csv,
    like_regex,
    steps_reached,
)

sys.path.insert(0, str(Path(__file__).parent))
import generator_reference as reference  # noqa: E402

REASONS = reference.REASONS
CONTRACT_NAMES = {
    "identify", "session.start", "page_view", "click", "session.converted", "app_error",
    "message.received", "message.sent", "message.delivered", "message.read", "message.failed",
    "agent.handoff", "chat.resolved", "csat.submitted", "ai.classification", "ai.feedback",
    "ai.generation", "ai.error",
}  # fmt: skip
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
NOW = datetime.datetime.now(datetime.UTC)


def _run(config: GeneratorConfig) -> tuple[Generation, list[GeneratedEntry]]:
    generation = generate(config)
    return generation, list(generation)


@pytest.fixture(scope="module")
def run() -> tuple[Generation, list[GeneratedEntry]]:
    config = GeneratorConfig(
        days=3, seed=11, scale=0.4, start=datetime.date(2026, 5, 18), malformed_share=0.02
    )
    return _run(config)


@pytest.fixture(scope="module")
def week() -> tuple[Generation, list[GeneratedEntry]]:
    return _run(GeneratorConfig(days=7, seed=4, scale=0.5, start=datetime.date(2026, 6, 1)))


def _documents(entries: list[GeneratedEntry]) -> list[dict[str, Any]]:
    return [json.loads(entry.payload) for entry in entries if entry.kind == "event"]


# ---------------------------------------------------------------- rejections
def test_every_rejection_reason_is_present(run: tuple[Generation, list[GeneratedEntry]]) -> None:
    generation, entries = run
    counted = Counter(entry.reason for entry in entries if entry.kind == "rejected")
    assert set(counted) == set(REASONS)
    assert counted == Counter({k: v for k, v in generation.truth.rejected_by_reason.items() if v})


def test_every_reason_is_present_even_in_a_tiny_run() -> None:
    generation, entries = _run(
        GeneratorConfig(days=1, seed=2, scale=0.01, start=datetime.date(2026, 5, 18))
    )
    assert len(entries) >= 50
    assert all(generation.truth.rejected_by_reason[reason] >= 1 for reason in REASONS)


def test_rejected_entries_break_exactly_their_rule(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = run
    rejected = [entry for entry in entries if entry.kind == "rejected"]
    assert len(rejected) > 100
    for entry in rejected:
        assert entry.event_id is None
        assert reference.violations(entry.payload, NOW) == {entry.reason}, entry.payload[:300]


def test_rejected_shapes_cover_the_documented_variants(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = run
    by_reason: dict[str, list[bytes]] = defaultdict(list)
    for entry in entries:
        if entry.kind == "rejected":
            by_reason[entry.reason or ""].append(entry.payload)

    def invalid_utf8(payload: bytes) -> bool:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    assert any(invalid_utf8(payload) for payload in by_reason["not_json"])
    assert any(not invalid_utf8(payload) for payload in by_reason["not_json"])
    assert {type(json.loads(p)).__name__ for p in by_reason["not_object"]} >= {"list", "str"}
    assert all(b"\\u0000" in payload for payload in by_reason["nul_character"])
    assert all(len(payload) > 65_536 for payload in by_reason["too_large"])
    assert all(b'"timestamp":"2099-' in payload for payload in by_reason["future_timestamp"])
    assert any(b'"timestamp":"yesterday"' in p for p in by_reason["bad_timestamp"])


# ------------------------------------------------------------- valid entries
def test_generator_labels_agree_with_an_independent_validator(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = run
    summary = reference.read_stream((entry.payload for entry in entries), NOW)
    assert summary.labels == [(entry.kind, entry.reason) for entry in entries]


def test_accepted_events_follow_the_contract(run: tuple[Generation, list[GeneratedEntry]]) -> None:
    _generation, entries = run
    documents = _documents(entries)
    assert {document["name"] for document in documents} >= CONTRACT_NAMES
    for entry in entries:
        if entry.kind != "event":
            continue
        assert reference.violations(entry.payload, NOW) == set()
        document = json.loads(entry.payload)
        assert document["eventId"] == entry.event_id
        _check_semantics(document)


def _check_semantics(document: dict[str, Any]) -> None:
    """Rules beyond validation that consumers rely on (CONTRACT.md's property table)."""
    name = document["name"]
    properties = document.get("properties", {})
    channel = document.get("channel") or reference.default_channel(name)
    assert channel == reference.default_channel(name), "explicit channels match the defaults"
    assert ("traits" in document) == (name == "identify")
    context = document.get("context", {})
    if "country" in context:
        assert re.fullmatch(r"[A-Z]{2}", context["country"])
    if name == "identify":
        assert document["userId"] and document["anonymousId"]
        phone = document["traits"].get("phone")
        assert phone is None or E164.match(phone)
        assert "@" in document["traits"]["email"]
    if channel == "web":
        assert document.get("anonymousId") or document.get("userId")
        assert context, "web events carry a context"
    if name == "page_view":
        assert properties["path"].startswith("/") and properties["title"]
    if name == "session.converted":
        assert properties["journey"] in JOURNEYS and properties["goal"]
    if name == "app_error":
        assert properties["errorType"] and properties["message"] and properties["path"]
    if channel == "whatsapp":
        number = phonenumbers.parse(reference.e164(properties["contact"]))
        assert phonenumbers.is_valid_number(number), properties["contact"]
    if name.startswith("message."):
        assert properties["messageId"].startswith("wamid.")
    if name == "message.sent":
        sender = properties["senderType"]
        assert sender in ("bot", "agent", "campaign")
        assert ("agentId" in properties) == (sender == "agent")
        assert ("campaignId" in properties) == (sender == "campaign")
    if name == "chat.resolved":
        assert properties.get("journey") in (None, "MRI", "TOT", "NIL")
        assert properties["serviceName"] and properties["messageCount"] >= 1
        assert isinstance(properties["durationMinutes"], int)
    if name == "csat.submitted":
        assert properties["score"] in (1, 2, 3, 4, 5)
    if name == "agent.handoff":
        assert re.fullmatch(r"agent-\d\d", properties["agentId"]) and properties["reason"]
    if name == "ai.classification":
        assert 0 <= properties["confidence"] <= 1 and properties["latencyMs"] >= 0
        assert properties["intent"] and properties["model"]
    if name == "ai.feedback":
        assert properties["classificationId"] and properties["correctIntent"]


def test_duplicates_are_byte_copies_of_an_earlier_accepted_entry(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    generation, entries = run
    first: dict[str, bytes] = {}
    duplicates = 0
    immediate = 0
    for index, entry in enumerate(entries):
        if entry.kind == "event":
            assert entry.event_id not in first, "an eventId is accepted once"
            first[entry.event_id or ""] = entry.payload
        elif entry.kind == "duplicate":
            duplicates += 1
            assert first[entry.event_id or ""] == entry.payload
            if entries[index - 1].payload == entry.payload:
                immediate += 1
    assert duplicates == generation.truth.duplicate_deliveries > 0
    assert 0 < immediate < duplicates, "some duplicates right after, some much later"


def test_valid_edge_cases_are_present(run: tuple[Generation, list[GeneratedEntry]]) -> None:
    _generation, entries = run
    accepted = [entry.payload for entry in entries if entry.kind == "event"]
    documents = [json.loads(payload) for payload in accepted]
    stamps = [document["timestamp"] for document in documents]
    assert any(stamp.endswith("+03:00") for stamp in stamps)
    assert any(stamp.endswith("Z") for stamp in stamps)
    assert any(stamp.endswith("+05:45") for stamp in stamps)
    assert any(stamp.endswith("-03:30") for stamp in stamps)
    assert all(re.search(r"T\d\d:\d\d:\d\d\.\d{3}", stamp) for stamp in stamps)
    assert any(60_000 <= len(payload) <= 65_536 for payload in accepted), "near the size limit"
    non_ascii = [payload for payload in accepted if max(payload) > 127]
    assert any("🇰🇪".encode() in payload or "👋".encode() in payload for payload in non_ascii)
    assert any("ũ".encode() in payload for payload in non_ascii), "Swahili/Kikuyu diacritics"
    assert any("userId" in d and d["userId"] is None for d in documents)
    assert any("sessionId" in d and d["sessionId"] is None for d in documents)
    assert any(
        d["name"] == "chat.resolved" and d["properties"]["agentId"] is None for d in documents
    )
    assert any("channel" in document for document in documents)
    contacts = [
        d["properties"]["contact"] for d in documents if "contact" in d.get("properties", {})
    ]
    assert any(contact.startswith("+") for contact in contacts)
    assert any(not contact.startswith("+") for contact in contacts)
    prefixes = {reference.e164(contact)[:4] for contact in contacts}
    assert {"+254", "+255", "+256"} <= prefixes


def test_statuses_arrive_out_of_order_and_repeated(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = run
    documents = _documents(entries)
    sent_at = {
        document["properties"]["messageId"]: datetime.datetime.fromisoformat(document["timestamp"])
        for document in documents
        if document["name"] == "message.sent"
    }
    arrivals: dict[str, list[tuple[str, datetime.datetime]]] = defaultdict(list)
    for document in documents:
        if document["name"] in ("message.delivered", "message.read", "message.failed"):
            moment = datetime.datetime.fromisoformat(document["timestamp"])
            message_id = document["properties"]["messageId"]
            assert moment > sent_at[message_id], "a status is stamped after its message"
            arrivals[message_id].append((document["name"], moment))
    read_first = 0
    repeated = 0
    for statuses in arrivals.values():
        names = [name for name, _moment in statuses]
        both = "message.read" in names and "message.delivered" in names
        if both and names.index("message.read") < names.index("message.delivered"):
            read_first += 1
        if any(count > 1 for count in Counter(names).values()):
            repeated += 1
    assert read_first > 0
    assert repeated > 0


def test_late_events_are_delivered_hours_after_their_time(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    generation, entries = run
    latest = None
    overtaken = 0
    for entry in entries:
        if entry.kind != "event":
            continue
        moment = datetime.datetime.fromisoformat(json.loads(entry.payload)["timestamp"])
        if latest is not None and latest - moment >= datetime.timedelta(minutes=30):
            overtaken += 1
        latest = moment if latest is None else max(latest, moment)
    late = generation.truth.late_events
    assert late > 0
    # Every event overtaken by 30+ minutes is a deliberately late one; nearly all late
    # ones are overtaken (those released at the very end may not be).
    assert 0.8 * late <= overtaken <= late


def test_sessions_visit_funnel_steps_out_of_order(
    run: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = run
    sessions: dict[str, list[tuple[int, str, object]]] = defaultdict(list)
    for document in _documents(entries):
        if document.get("sessionId") and document["name"] in ("page_view", "session.converted"):
            moment = datetime.datetime.fromisoformat(document["timestamp"])
            path = document.get("properties", {}).get("path")
            sessions[document["sessionId"]].append(
                (reference.to_ms(moment), document["name"], path)
            )
    out_of_order = 0
    for events in sessions.values():
        for journey, pages in JOURNEY_PAGES.items():
            paths = [path for _ts, name, path in sorted(events) if name == "page_view"]
            if pages[0] in paths and any(
                page in paths[: paths.index(pages[0])] for page in pages[1:]
            ):
                out_of_order += 1
                assert steps_reached(events, JOURNEYS[journey]) >= 1
    assert out_of_order > 0


def test_journey_pages_match_the_funnel_steps() -> None:
    for journey, steps in JOURNEYS.items():
        pages = JOURNEY_PAGES[journey]
        assert len(steps) == len(pages)
        for (step_name, event_name, pattern), page in zip(steps, pages, strict=True):
            assert step_name and event_name in ("page_view", "session.converted")
            assert like_regex(pattern).fullmatch(page), (journey, pattern, page)
    assert like_regex("/a_c%").fullmatch("/abc/def")
    assert not like_regex("/a_c%").fullmatch("/ac")
    assert like_regex(r"100\%").fullmatch("100%") and not like_regex(r"100\%").fullmatch("1000")


# ------------------------------------------------------------------- realism
def test_traffic_follows_nairobi_daily_and_weekly_cycles(
    week: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = week
    by_hour: Counter[int] = Counter()
    by_weekday: Counter[int] = Counter()
    nairobi = datetime.timezone(datetime.timedelta(hours=3))
    for document in _documents(entries):
        if document["name"] not in ("page_view", "message.received"):
            continue
        local = datetime.datetime.fromisoformat(document["timestamp"]).astimezone(nairobi)
        by_hour[local.hour] += 1
        by_weekday[local.weekday()] += 1
    night = sum(by_hour[hour] for hour in (1, 2, 3, 4)) / 4
    morning = sum(by_hour[hour] for hour in (9, 10, 11)) / 3
    afternoon = sum(by_hour[hour] for hour in (14, 15, 16)) / 3
    assert morning > 8 * night and afternoon > 8 * night
    assert min(by_weekday[day] for day in range(5)) > 1.5 * by_weekday[6]
    assert by_weekday[6] < by_weekday[5], "Sunday is the quietest day"


def test_entries_per_week_at_scale_one_are_in_the_documented_range() -> None:
    generation = generate(GeneratorConfig(days=7, seed=42, start=datetime.date(2026, 6, 1)))
    count = sum(1 for _entry in generation)
    assert 100_000 <= count <= 150_000
    assert count == generation.truth.entries_pushed


def test_user_agent_catalog_labels_match_ua_parser() -> None:
    for agent in USER_AGENTS:
        parsed = parse_user_agent(agent.ua)
        assert parsed.user_agent is not None and parsed.os is not None
        assert (parsed.user_agent.family, parsed.os.family) == (agent.browser, agent.os)
        assert reference.device_type_from_user_agent(agent.ua) == agent.device_type
    for user_agent, explicit in EXPLICIT_DEVICES:
        assert explicit["deviceType"] in ("mobile", "desktop", "tablet")
        assert user_agent
    # At least one explicit device contradicts its user agent, so "explicit wins" is visible.
    assert any(
        reference.device_type_from_user_agent(ua) != explicit["deviceType"]
        for ua, explicit in EXPLICIT_DEVICES
    )


def test_phone_numbers_are_valid_unique_people(
    week: tuple[Generation, list[GeneratedEntry]],
) -> None:
    _generation, entries = week
    phones_by_user: dict[str, set[str]] = defaultdict(set)
    users_by_phone: dict[str, set[str]] = defaultdict(set)
    for document in _documents(entries):
        if document["name"] == "identify" and document["traits"].get("phone"):
            phone = document["traits"]["phone"]
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
            phones_by_user[document["userId"]].add(phone)
            users_by_phone[phone].add(document["userId"])
    assert phones_by_user
    assert all(len(phones) == 1 for phones in phones_by_user.values())
    assert all(len(users) == 1 for users in users_by_phone.values())


def test_every_phone_space_maps_to_the_country_phonenumbers_gives() -> None:
    """The generator's country table against phonenumbers, for every two-digit range of
    every space (where Jersey and the Isle of Man hide among the UK numbers)."""
    rng = random.Random(7)
    regions: set[str] = set()
    for prefix, digits, _weight in catalog.PHONE_SPACES:
        for head in range(100):
            for _ in range(4):
                tail = rng.randrange(10 ** (digits - 2))
                phone = f"{prefix}{head:02d}{tail:0{digits - 2}d}"
                region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
                assert catalog.country_of_phone(phone) == region, phone
                regions.add(region)
    assert regions == {*catalog.CALLING_CODES.values(), *catalog.REGION_RANGES.values()}


def test_generation_streams_with_bounded_memory() -> None:
    config = GeneratorConfig(days=4, seed=8, scale=0.5, start=datetime.date(2026, 6, 1))
    tracemalloc.start()
    try:
        total_bytes = 0
        for entry in generate(config):
            total_bytes += len(entry.payload)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total_bytes > 10_000_000
    assert peak < total_bytes / 2, f"peak {peak} bytes for {total_bytes} bytes generated"


def test_funnel_seed_csv_mirrors_the_journeys() -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(funnel_seed_csv())))
    assert len(rows) == sum(len(steps) for steps in JOURNEYS.values())
    for row in rows:
        step = JOURNEYS[row["journey"]][int(row["step_number"]) - 1]
        assert (row["step_name"], row["event_name"], row["path_pattern"]) == step
