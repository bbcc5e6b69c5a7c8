"""Enrichment: device/browser/OS, phone keys, and incremental runs against real PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest
import redis

from extract.config import Settings
from extract.enrich import (
    DeviceInfo,
    describe_device,
    normalise_phone,
    pseudonymous_key,
    run_enrichment,
    user_agent_info,
)
from extract.load import ExtractOptions, run_extract
from generator import GeneratorConfig, push_to_stream
from generator.catalog import EXPLICIT_DEVICES, USER_AGENTS
from generator.truth import Truth

UNKNOWN = DeviceInfo("unknown", "unknown", "unknown")

# (what, user agent, expected device type, browser family, OS family)
USER_AGENT_TABLE = [
    (
        "iPad",
        "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        "tablet", "Chrome Mobile iOS", "iOS",
    ),
    (
        "Android tablet (Samsung Galaxy Tab)",
        "Mozilla/5.0 (Linux; Android 12; SM-T870) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/19.0 Chrome/102.0.5005.125 Safari/537.36",
        "tablet", "Samsung Internet", "Android",
    ),
    (
        "Android tablet (Lenovo, Chrome without the Mobile token)",
        "Mozilla/5.0 (Linux; Android 10; Lenovo TB-X606F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "tablet", "Chrome", "Android",
    ),
    (
        "Kindle Fire",
        "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/108.4.6 like Chrome/108.0.5359.220 Safari/537.36",
        "tablet", "Amazon Silk", "Android",
    ),
    (
        "Android phone",
        "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        "mobile", "Chrome Mobile", "Android",
    ),
    (
        "Android phone, UC Browser",
        "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2185 Build/QP1A.190711.020) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 "
        "UCBrowser/13.4.0.1306 Mobile Safari/537.36",
        "mobile", "UC Browser", "Android",
    ),
    (
        "iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "mobile", "Mobile Safari", "iOS",
    ),
    (
        "Opera Mini on a Symbian feature phone",
        "Opera/9.80 (Series 60; Opera Mini/7.1.32444/191.227; U; en) Presto/2.12.423 "
        "Version/12.16",
        "mobile", "Opera Mini", "Symbian OS",
    ),
    (
        "Opera Mini on Android",
        "Opera/9.80 (Android; Opera Mini/7.5.54678/191.227; U; en) Presto/2.12.423 Version/12.16",
        "mobile", "Opera Mini", "Android",
    ),
    (
        "Windows Phone",
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 "
        "Edge/15.15063",
        "mobile", "Edge Mobile", "Windows Phone",
    ),
    (
        "Windows desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "desktop", "Edge", "Windows",
    ),
    (
        "Windows 7, Internet Explorer",
        "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "desktop", "IE", "Windows",
    ),
    (
        "macOS",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop", "Firefox", "Mac OS X",
    ),
    (
        "Linux",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "desktop", "Chrome", "Linux",
    ),
    (
        "Fedora",
        "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "desktop", "Firefox", "Fedora",
    ),
    (
        "Googlebot",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "bot", "Googlebot", "unknown",
    ),
    (
        "Googlebot smartphone",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)",
        "bot", "Googlebot", "Android",
    ),
    ("curl (no device, no OS)", "curl/8.4.0", "unknown", "curl", "unknown"),
    ("unrecognisable text", "asdf qwerty", "unknown", "unknown", "unknown"),
    ("empty", "", "unknown", "unknown", "unknown"),
    ("blank", "   ", "unknown", "unknown", "unknown"),
    ("missing", None, "unknown", "unknown", "unknown"),
]  # fmt: skip

BASE_TIME = datetime.now(UTC) - timedelta(days=1)


# ------------------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("user_agent", "device_type", "browser", "os"),
    [row[1:] for row in USER_AGENT_TABLE],
    ids=[row[0] for row in USER_AGENT_TABLE],
)
def test_device_browser_and_os_of_real_user_agents(
    user_agent: str | None, device_type: str, browser: str, os: str
) -> None:
    assert describe_device(user_agent) == DeviceInfo(device_type, browser, os)


def test_every_generator_user_agent_gets_the_generators_labels() -> None:
    wrong = [
        (agent.ua, tuple(describe_device(agent.ua)))
        for agent in USER_AGENTS
        if describe_device(agent.ua) != (agent.device_type, agent.browser, agent.os)
    ]
    assert not wrong


def test_explicit_context_fields_win_over_the_user_agent() -> None:
    for user_agent, explicit in EXPLICIT_DEVICES:
        parsed = user_agent_info(user_agent)
        got = describe_device(
            user_agent, explicit["deviceType"], explicit["browser"], explicit["os"]
        )
        assert got == (explicit["deviceType"], explicit["browser"], explicit["os"])
        assert got != parsed  # the UA alone says something else
    foldable = EXPLICIT_DEVICES[1][0]  # its UA says phone
    assert user_agent_info(foldable).device_type == "mobile"
    assert describe_device(foldable, "Tablet").device_type == "tablet"
    assert describe_device(foldable, " Mobile ") == ("mobile", "Chrome Mobile", "Android")
    assert describe_device(foldable, "Phablet").device_type == "phablet"  # kept, lowercased
    # Field by field: an explicit browser does not hide the parsed device type and OS.
    assert describe_device(foldable, None, "KRA App") == ("mobile", "KRA App", "Android")
    assert describe_device(foldable, None, None, "One UI") == ("mobile", "Chrome Mobile", "One UI")
    # Blank explicit values are no values; explicit fields work without a user agent.
    assert describe_device(foldable, "", " ", "") == user_agent_info(foldable)
    assert describe_device(None, "desktop", "Kiosk", "Windows") == ("desktop", "Kiosk", "Windows")
    assert describe_device(None, "desktop") == ("desktop", "unknown", "unknown")


def test_user_agent_parses_are_cached() -> None:
    from extract.enrich import _parse_cached

    user_agent = USER_AGENTS[0].ua + " cache-probe/" + uuid.uuid4().hex
    before = _parse_cached.cache_info()
    first = user_agent_info(user_agent)
    assert user_agent_info(user_agent) == first
    after = _parse_cached.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


# (raw, E.164 or fallback, region). Documented in docs/extract.md, "Enrichment".
PHONE_TABLE = [
    ("+254712345678", "+254712345678", "KE"),
    ("254712345678", "+254712345678", "KE"),  # webhooks drop the "+"
    (" +254 712-345-678 ", "+254712345678", "KE"),
    ("+255 754 123 456", "+255754123456", "TZ"),
    ("256772123456", "+256772123456", "UG"),
    ("+447512345678", "+447512345678", "GB"),
    ("+1 (416) 555-0123", "+14165550123", "CA"),  # +1 is shared: the number says Canada
    ("0712345678", "0712345678", None),  # national form: no country is guessed
    ("00254712345678", "00254712345678", None),  # a dialling prefix is not a calling code
    ("+2547123", "2547123", None),  # too short: digits only
    ("+1 800 FLOWERS", "1800", None),  # letters are not dialled
    ("garbage", "", None),  # no digits: no key
    ("", "", None),
]


@pytest.mark.parametrize(("raw", "normalised", "region"), PHONE_TABLE)
def test_phone_normalisation(raw: str, normalised: str, region: str | None) -> None:
    assert normalise_phone(raw) == (normalised, region)
    if normalised:  # normalising is idempotent, so the key of either form is the same
        assert normalise_phone(normalised)[0] == normalised


def test_pseudonymous_keys() -> None:
    salt = "test-salt"
    formats = ["+254712345678", "254712345678", "+254 712 345 678", " 254-712-345-678"]
    keys = {pseudonymous_key(phone, salt) for phone in formats}
    assert len(keys) == 1
    (key,) = keys
    assert key == hmac.new(b"test-salt", b"+254712345678", hashlib.sha256).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", key)
    assert pseudonymous_key("+254712345678", "another-salt") != key
    assert pseudonymous_key("+254712345679", salt) != key
    # A national number is keyed on its digits: not the same person as the E.164 form.
    assert pseudonymous_key("0712345678", salt) != key
    with pytest.raises(ValueError, match="no digits"):
        pseudonymous_key("not a phone", salt)


# ------------------------------------------------------------------------- against PostgreSQL


def load_generated(
    settings: Settings, client: redis.Redis, seed: int, *, scale: float = 0.3, batch: int = 10_000
) -> Truth:
    truth = push_to_stream(client, settings.stream, GeneratorConfig(days=1, seed=seed, scale=scale))
    run_extract(settings, ExtractOptions(batch_size=batch, consumer="test"))
    return truth


def push_events(settings: Settings, client: redis.Redis, events: list[dict]) -> None:
    pipe = client.pipeline(transaction=False)
    for number, event in enumerate(events):
        event = {
            "eventId": str(uuid.uuid4()),
            "timestamp": (BASE_TIME + timedelta(seconds=number)).isoformat(),
            "anonymousId": "a-1",
            **event,
        }
        pipe.xadd(settings.stream, {"event": json.dumps(event)})
    pipe.execute()
    run_extract(settings, ExtractOptions(consumer="test"))


def snapshot(db: psycopg.Connection) -> list[tuple]:
    """Every enrichment row except enriched_at, in a stable order."""
    return db.execute(
        "select event_id, load_id, device_type, browser, os, contact_key, contact_country,"
        " phone_key from raw.event_enrichment order by event_id"
    ).fetchall()


def count(db: psycopg.Connection, table: str) -> int:
    return db.execute(f"select count(*) from {table}").fetchone()[0]


def assert_one_row_per_event(db: psycopg.Connection) -> None:
    missing, extra, wrong_load = db.execute(
        """
        select
            count(*) filter (where enrichment.event_id is null),
            count(*) filter (where events.event_id is null),
            count(*) filter (where events.load_id <> enrichment.load_id)
        from raw.events as events
        full join raw.event_enrichment as enrichment using (event_id)
        """
    ).fetchone()
    assert (missing, extra, wrong_load) == (0, 0, 0)


def test_generated_events_are_enriched_as_the_generator_labels_them(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    truth = load_generated(settings, redis_client, seed=11, scale=0.5)
    result = run_enrichment(settings)
    print(f"enrichment: {result.events:,} events at {result.events_per_second:,.0f} events/s")

    assert result.events == count(db, "raw.events") > 5_000
    assert_one_row_per_event(db)
    assert sum(result.by_device_type.values()) == result.events
    assert set(result.by_device_type) <= {"mobile", "tablet", "desktop", "unknown"}

    # Device, browser and OS of every event: explicit context, else the catalog's labels.
    labels = {agent.ua: (agent.device_type, agent.browser, agent.os) for agent in USER_AGENTS}
    rows = db.execute(
        """
        select events.payload -> 'context', enrichment.device_type, enrichment.browser,
            enrichment.os
        from raw.events as events
        join raw.event_enrichment as enrichment using (event_id)
        """
    ).fetchall()
    explicit = with_ua = 0
    for context, *got in rows:
        context = context or {}
        if "deviceType" in context:
            expected = (context["deviceType"], context["browser"], context["os"])
            explicit += 1
        elif "userAgent" in context:
            expected = labels[context["userAgent"]]
            with_ua += 1
        else:
            expected = tuple(UNKNOWN)
        assert tuple(got) == expected, context
    assert explicit > 0 and with_ua > 0

    # Keys: one per contact, the same HMAC as pseudonymous_key, countries from calling codes.
    pairs = db.execute(
        """
        select events.payload -> 'properties' ->> 'contact', enrichment.contact_key,
            enrichment.contact_country
        from raw.events as events
        join raw.event_enrichment as enrichment using (event_id)
        where events.payload -> 'properties' ? 'contact'
        """
    ).fetchall()
    assert pairs
    for contact, key, country in pairs:
        assert key == pseudonymous_key(contact, settings.pii_salt)
        assert country is not None  # the generator's numbers are all valid
        assert country == normalise_phone(contact)[1]
    contact_keys = {key for _, key, _ in pairs}
    assert len(contact_keys) == truth.whatsapp.contacts
    assert {country for *_, country in pairs} >= {"KE"}
    phone_keys = {
        row[0]
        for row in db.execute(
            "select phone_key from raw.event_enrichment where phone_key is not null"
        )
    }
    assert phone_keys
    assert len(contact_keys & phone_keys) == truth.whatsapp.cross_channel_users > 0
    assert (
        count(db, "raw.event_enrichment where contact_key is null and contact_country is not null")
        == 0
    )

    # No phone number, in any form, appears anywhere in the table.
    phones = {contact for contact, *_ in pairs} | {
        row[0]
        for row in db.execute(
            "select payload -> 'traits' ->> 'phone' from raw.events"
            " where event_name = 'identify' and payload -> 'traits' ? 'phone'"
        )
    }
    stored = "\n".join(
        row[0] for row in db.execute("select e::text from raw.event_enrichment as e")
    )
    leaked = [phone for phone in phones if phone.lstrip("+")[-9:] in stored]
    assert not leaked


def test_incremental_runs_process_only_new_events_and_full_runs_recompute(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    load_generated(settings, redis_client, seed=1)
    first = run_enrichment(settings)
    first_total = count(db, "raw.events")
    assert first.events == first_total
    assert first.high_water_mark_before is None
    assert first.user_agents_parsed <= len(USER_AGENTS) + len(EXPLICIT_DEVICES)

    load_generated(settings, redis_client, seed=2)
    total = count(db, "raw.events")
    second = run_enrichment(settings)
    assert second.high_water_mark_before == first.last_load_id
    assert second.first_load_id > first.last_load_id
    assert second.events == total - first_total > 0
    assert_one_row_per_event(db)
    rows = snapshot(db)

    rerun = run_enrichment(settings)
    assert (rerun.events, rerun.chunks, rerun.first_load_id) == (0, 0, None)
    assert snapshot(db) == rows

    full = run_enrichment(settings, full=True)
    assert full.events == total
    assert full.high_water_mark_before is None
    assert snapshot(db) == rows

    rekeyed_settings = settings.with_overrides(pii_salt="a-new-salt")
    rekeyed = run_enrichment(rekeyed_settings, full=True)
    assert rekeyed.events == total
    new_rows = snapshot(db)
    assert len(new_rows) == len(rows)
    keyed = 0
    for old, new in zip(rows, new_rows, strict=True):
        assert old[:5] == new[:5]  # event, load, device, browser, os unchanged
        assert old[6] == new[6]  # country does not depend on the salt
        for position in (5, 7):  # contact_key, phone_key
            assert (old[position] is None) == (new[position] is None)
            if old[position] is not None:
                assert old[position] != new[position]
                keyed += 1
    assert keyed > 0
    # Incremental runs after a rekey use the new salt, so keys stay consistent.
    contact = db.execute(
        "select payload -> 'properties' ->> 'contact' from raw.events"
        " where payload -> 'properties' ? 'contact' limit 1"
    ).fetchone()[0]
    assert pseudonymous_key(contact, "a-new-salt") in {row[5] for row in new_rows}


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_to_identical_rows(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    # Small extract batches: many load_ids, and chunks that are not multiples of them.
    load_generated(settings, redis_client, seed=3, batch=500)
    loads = count(db, "(select distinct load_id from raw.events) as loads")
    assert loads > 8

    chunks_done = 0

    def crash_after_two_chunks(progress: object) -> None:
        nonlocal chunks_done
        chunks_done += 1
        if chunks_done == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_enrichment(
            settings, chunk_size=700, on_progress=crash_after_two_chunks, progress_every_s=0
        )
    # What was committed is whole load_ids, each with all of its events.
    partial = db.execute(
        """
        select enrichment.load_id, count(*), min(events.n)
        from raw.event_enrichment as enrichment
        join (select load_id, count(*) as n from raw.events group by 1) as events using (load_id)
        group by 1
        """
    ).fetchall()
    assert partial and all(enriched == total for _, enriched, total in partial)
    assert 0 < count(db, "raw.event_enrichment") < count(db, "raw.events")

    resumed = run_enrichment(settings, chunk_size=700)
    assert resumed.events == count(db, "raw.events") - sum(row[1] for row in partial)
    assert_one_row_per_event(db)
    rows = snapshot(db)

    # Chunks smaller than one load (a load is never split) and one big chunk agree.
    small = run_enrichment(settings, full=True, chunk_size=100)
    assert small.chunks == loads
    assert snapshot(db) == rows
    run_enrichment(settings, full=True, chunk_size=1_000_000)
    assert snapshot(db) == rows


def test_context_fields_and_phones_of_hand_made_events(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    iphone = USER_AGENT_TABLE[6][1]
    push_events(
        settings,
        redis_client,
        [
            {"eventId": "ua", "name": "page_view", "context": {"userAgent": iphone}},
            {
                "eventId": "explicit",
                "name": "page_view",
                "context": {"userAgent": iphone, "deviceType": "Tablet", "browser": "KRA App"},
            },
            {"eventId": "no-context", "name": "page_view"},
            {"eventId": "no-ua", "name": "page_view", "context": {"country": "KE"}},
            {
                "eventId": "identify",
                "name": "identify",
                "userId": "u-1",
                "traits": {"phone": "+254 712 345 678", "email": "a@example.com"},
            },
            {
                "eventId": "not-identify",
                "name": "click",
                "traits": {"phone": "+254712345678"},
            },
            {
                "eventId": "whatsapp",
                "name": "message.received",
                "properties": {"messageId": "m1", "contact": "254712345678"},
            },
            {
                "eventId": "tanzania",
                "name": "message.received",
                "properties": {"messageId": "m2", "contact": "+255 754 123 456"},
            },
            {
                "eventId": "national",
                "name": "message.received",
                "properties": {"messageId": "m3", "contact": "0712345678"},
            },
            {
                "eventId": "garbage",
                "name": "message.received",
                "properties": {"messageId": "m4", "contact": "n/a"},
            },
            {
                "eventId": "number",
                "name": "ai.classification",
                "properties": {"contact": 254712345678, "intent": "nil"},
            },
        ],
    )
    run_enrichment(settings)
    rows = {row[0]: row[2:] for row in snapshot(db)}
    salt = settings.pii_salt
    kenyan = pseudonymous_key("+254712345678", salt)

    assert rows["ua"] == ("mobile", "Mobile Safari", "iOS", None, None, None)
    assert rows["explicit"] == ("tablet", "KRA App", "iOS", None, None, None)
    assert rows["no-context"] == ("unknown", "unknown", "unknown", None, None, None)
    assert rows["no-ua"] == ("unknown", "unknown", "unknown", None, None, None)
    assert rows["identify"] == ("unknown", "unknown", "unknown", None, None, kenyan)
    assert rows["not-identify"][3:] == (None, None, None)  # traits count on identify only
    assert rows["whatsapp"][3:] == (kenyan, "KE", None)  # the identified user's key
    assert rows["tanzania"][3:] == (pseudonymous_key("255754123456", salt), "TZ", None)
    assert rows["national"][3:] == (pseudonymous_key("0712345678", salt), None, None)
    assert rows["national"][3] != kenyan
    assert rows["garbage"][3:] == (None, None, None)
    assert rows["number"][3:] == (kenyan, "KE", None)


def test_the_asset_materializes_through_dagster_and_reports_metadata(
    settings: Settings,
    db: psycopg.Connection,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.defs.ingest.enrichment import raw_event_enrichment
    from orchestration.defs.resources import AnalyticsSettings, RefreshLockResource

    for name, value in settings.environ().items():
        monkeypatch.setenv(name, value)
    load_generated(settings, redis_client, seed=5, scale=0.2, batch=500)
    total = count(db, "raw.events")

    def materialize(config: dict) -> dict:
        result = dg.materialize(
            [raw_event_enrichment],
            resources={"analytics": AnalyticsSettings(), "refresh_lock": RefreshLockResource()},
            run_config={"ops": {"raw__event_enrichment": {"config": config}}},
        )
        assert result.success
        (materialization,) = result.asset_materializations_for_node("raw__event_enrichment")
        assert materialization.asset_key == dg.AssetKey(["raw", "event_enrichment"])
        return {key: value.value for key, value in materialization.metadata.items()}

    metadata = materialize({})
    assert metadata["events_enriched"] == total == count(db, "raw.event_enrichment")
    assert sum(metadata["by_device_type"].values()) == total
    assert metadata["full"] is False
    assert metadata["events_per_second"] > 0
    print(f"asset: {total:,} events at {metadata['events_per_second']:,.0f} events/s")

    assert materialize({})["events_enriched"] == 0
    again = materialize({"full": True, "chunk_size": 1000})
    assert again["events_enriched"] == total
    assert again["full"] is True
    assert again["chunks"] > 1


def test_concurrent_runs_enrich_each_event_once(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    load_generated(settings, redis_client, seed=6, scale=0.2, batch=500)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: run_enrichment(settings, chunk_size=500), range(3)))
    # One run takes the lock and does the work; the others wait, then find nothing new.
    assert sorted(result.events for result in results) == [0, 0, count(db, "raw.events")]
    assert_one_row_per_event(db)


def test_full_refresh_of_the_refresh_job_recomputes_the_enrichment() -> None:
    from orchestration.definitions import defs
    from orchestration.defs.schedules import REFRESH_JOB_NAME
    from orchestration.lib.refresh import _run_config

    job = defs().resolve_job_def(REFRESH_JOB_NAME)
    for full_refresh in (False, True):
        config = _run_config(full_refresh, wait_seconds=5, accept_row_counts=full_refresh)
        assert dg.validate_run_config(job, config)
        ops = config.get("ops", {})
        assert ops.get("raw__event_enrichment", {}).get("config", {}).get("full", False) is (
            full_refresh
        )
