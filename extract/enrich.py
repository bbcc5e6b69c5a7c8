"""Enrichment: once per event, after the load, ``raw.events`` -> ``raw.event_enrichment``.

What the marts need from strings that SQL should never re-parse, computed in Python with
maintained libraries and stored as columns (one row per event):

* **device type, browser, OS**: explicit ``context.deviceType`` / ``context.browser`` /
  ``context.os`` win, field by field; otherwise ``context.userAgent`` parsed by ua-parser
  (:func:`describe_device`, the rule is in :func:`device_type_of`);
* **contact key and country** for events with ``properties.contact`` (a WhatsApp phone),
  **phone key** for ``identify`` events with ``traits.phone``: phones normalised to E.164 by
  ``phonenumbers`` (:func:`normalise_phone`) and keyed with HMAC-SHA256 under
  ``ANALYTICS_PII_SALT`` (:func:`pseudonymous_key`). Both use the same function, so a
  WhatsApp contact and an identified web user with the same phone get the same key.

It is a separate step from the extract so the extract stays as fast as a plain ``COPY`` and
so enrichment can be recomputed (``full=True``, e.g. after the salt changes) without reading
Redis again. Progress is tracked by a high-water mark: the highest ``load_id`` already in
``raw.event_enrichment``. The extract makes ``load_id``s visible in increasing order, so
every event above the mark is new and none below it can appear later. Chunks always hold
whole ``load_id``s and commit one at a time, so a crash leaves a table that is complete up
to its mark, and the next run carries on from there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
import psycopg
from ua_parser import parse as parse_user_agent

from extract.config import Settings
from extract.failpoints import failpoint
from extract.load import connect_postgres
from extract.schema import LOAD_ORDER_LOCK_KEY, ensure_raw_schema

log = logging.getLogger("extract.enrich")

UNKNOWN = "unknown"
DEVICE_TYPES = ("mobile", "tablet", "desktop", "bot", UNKNOWN)

ENRICHMENT_DDL: tuple[str, ...] = (
    """
    create table if not exists raw.event_enrichment (
        -- raw.events.event_id; not a declared foreign key: its per-row check takes a row
        -- lock on every raw.events row, which tripled the cost of a run (docs/extract.md)
        event_id         text        not null primary key,
        load_id          bigint      not null,
        device_type      text        not null,
        browser          text        not null,
        os               text        not null,
        contact_key      text,
        contact_country  text,
        phone_key        text,
        enriched_at      timestamptz not null default now()
    )
    """,
    "create index if not exists event_enrichment_load_id_idx on raw.event_enrichment (load_id)",
    # the events of a WhatsApp contact a new identify links to a person
    "create index if not exists event_enrichment_contact_key_idx"
    " on raw.event_enrichment (contact_key)",
    # the identify calls whose traits.phone is a given contact (incremental stitching)
    "create index if not exists event_enrichment_phone_key_idx"
    " on raw.event_enrichment (phone_key) where phone_key is not null",
    "comment on table raw.event_enrichment is "
    "'One row per event of raw.events: device, browser, OS, and pseudonymous phone keys, "
    "computed once in Python (extract/enrich.py) so SQL never re-parses strings.'",
    "comment on column raw.event_enrichment.event_id is "
    "'The event: raw.events.event_id (every row is computed from a raw.events row).'",
    "comment on column raw.event_enrichment.load_id is "
    "'The load_id of the event in raw.events; the highest one is the enrichment high-water mark.'",
    "comment on column raw.event_enrichment.device_type is "
    "'mobile, tablet, desktop, bot or unknown: explicit context.deviceType (lowercased) when "
    "present, else derived from the ua-parser result of context.userAgent.'",
    "comment on column raw.event_enrichment.browser is "
    "'Explicit context.browser, else the ua-parser browser family (e.g. Chrome Mobile); unknown "
    "when neither.'",
    "comment on column raw.event_enrichment.os is "
    "'Explicit context.os, else the ua-parser OS family (e.g. Android); unknown when neither.'",
    "comment on column raw.event_enrichment.contact_key is "
    "'HMAC-SHA256 (key ANALYTICS_PII_SALT, hex) of properties.contact normalised to E.164; "
    "null when the event has no contact.'",
    "comment on column raw.event_enrichment.contact_country is "
    "'ISO-3166 alpha-2 region of the contact phone (from its calling code); null when the "
    "phone is not a valid number.'",
    "comment on column raw.event_enrichment.phone_key is "
    "'Same key as contact_key, of traits.phone on identify events; equal keys are the same "
    "person across channels.'",
    "comment on column raw.event_enrichment.enriched_at is 'When this row was computed.'",
)

# Serialises enrichment runs (a second run waits, then finds nothing new). ASCII "enrichmt".
ENRICHMENT_LOCK_KEY = 0x656E726963686D74
# Serialises DDL with extract.schema.ensure_raw_schema (the same key it takes).
_DDL_LOCK_KEY = LOAD_ORDER_LOCK_KEY + 1

_SELECT_NEW = """
select
    event_id,
    load_id,
    payload -> 'context' ->> 'userAgent',
    payload -> 'context' ->> 'deviceType',
    payload -> 'context' ->> 'browser',
    payload -> 'context' ->> 'os',
    payload -> 'properties' ->> 'contact',
    case when event_name = 'identify' then payload -> 'traits' ->> 'phone' end
from raw.events
where load_id > %s
order by load_id
"""
_COPY_ENRICHMENT = (
    "copy raw.event_enrichment (event_id, load_id, device_type, browser, os, contact_key,"
    " contact_country, phone_key) from stdin (format binary)"
)
_COPY_TYPES = ["text", "int8", "text", "text", "text", "text", "text", "text"]

# A row as read: event_id, load_id, userAgent, deviceType, browser, os, contact, phone.
SourceRow = tuple[str, int, str | None, str | None, str | None, str | None, str | None, str | None]
# A row as written, in the order of _COPY_ENRICHMENT.
EnrichedRow = tuple[str, int, str, str, str, str | None, str | None, str | None]


# --------------------------------------------------------------------------- devices


class DeviceInfo(NamedTuple):
    device_type: str
    browser: str
    os: str


# The device-type rule reads only fields ua-parser returns (device family and brand, OS
# family, browser family); it never looks at the user-agent string itself.
# ua-parser names tablets by device family/brand ...
_TABLET_DEVICE_FAMILIES = frozenset({"iPad", "Generic Tablet", "BlackBerry Playbook"})
_TABLET_DEVICE_BRANDS = frozenset({"Generic_Android_Tablet"})
_TABLET_OS_FAMILIES = frozenset({"BlackBerry Tablet OS", "Kindle"})
# ... and calls Chrome on Android "Chrome Mobile" when the user agent carries the "Mobile"
# token that Android phones send and Android tablets omit; plain "Chrome" is a tablet.
_ANDROID_TABLET_BROWSERS = frozenset({"Chrome"})
_MOBILE_OS_FAMILIES = frozenset(
    {
        "Android", "iOS", "KaiOS", "HarmonyOS", "Windows Phone", "Windows Mobile",
        "BlackBerry OS", "Symbian OS", "Symbian^3", "Symbian^3 Anna", "Symbian^3 Belle",
        "Nokia Series 40", "Nokia Series 30 Plus", "Firefox OS", "Bada", "Sailfish", "MeeGo",
        "Maemo", "Brew MP", "BREW",
    }
)  # fmt: skip
_MOBILE_DEVICE_FAMILIES = frozenset(
    {"Generic Smartphone", "Generic Feature Phone", "iPhone", "iPod"}
)
_MOBILE_DEVICE_BRANDS = frozenset({"Generic_Android"})
_MOBILE_BROWSER_FAMILIES = frozenset({"Opera Mini"})  # and every family with the word "Mobile"
_DESKTOP_OS_FAMILIES = frozenset(
    {
        "Windows", "Mac OS X", "Mac OS", "Chrome OS", "Linux", "Ubuntu", "Kubuntu", "Lubuntu",
        "Linux Mint", "Debian", "Fedora", "Red Hat", "CentOS", "openSUSE", "SUSE",
        "Arch Linux", "Gentoo", "Slackware", "Mageia", "Mandriva", "PCLinuxOS", "Puppy",
        "BackTrack", "FreeBSD", "OpenBSD", "NetBSD", "BSD", "Solaris",
    }
)  # fmt: skip
_DESKTOP_DEVICE_FAMILIES = frozenset({"Mac"})
_BOT_DEVICE_FAMILIES = frozenset({"Spider"})

# User agents longer than this are parsed every time instead of cached, so a producer
# sending huge distinct strings cannot fill memory through the cache.
_MAX_CACHED_USER_AGENT = 1024


def device_type_of(
    device_family: str | None, device_brand: str | None, os_family: str | None, browser: str | None
) -> str:
    """The device type from ua-parser's fields, first rule that matches:

    1. device family ``Spider`` (ua-parser's label for crawlers and link previewers) -> bot;
    2. device family iPad / Generic Tablet / Kindle* / BlackBerry Playbook, device brand
       ``Generic_Android_Tablet``, OS BlackBerry Tablet OS / Kindle, or Android with the
       browser family plain ``Chrome`` (no "Mobile" token) -> tablet;
    3. a mobile OS family (Android, iOS, KaiOS, Windows Phone, BlackBerry OS, Symbian, ...),
       device family Generic Smartphone / Generic Feature Phone / iPhone / iPod, device brand
       ``Generic_Android``, or a browser family with the word "Mobile" or Opera Mini -> mobile;
    4. a desktop OS family (Windows, Mac OS X, Chrome OS, Linux and its distributions,
       BSDs, Solaris) or device family Mac -> desktop;
    5. anything else (no user agent, HTTP libraries, TVs, consoles) -> unknown.
    """
    if device_family in _BOT_DEVICE_FAMILIES:
        return "bot"
    if (
        device_family in _TABLET_DEVICE_FAMILIES
        or (device_family or "").startswith("Kindle")
        or device_brand in _TABLET_DEVICE_BRANDS
        or os_family in _TABLET_OS_FAMILIES
        or (os_family == "Android" and browser in _ANDROID_TABLET_BROWSERS)
    ):
        return "tablet"
    if (
        os_family in _MOBILE_OS_FAMILIES
        or device_family in _MOBILE_DEVICE_FAMILIES
        or device_brand in _MOBILE_DEVICE_BRANDS
        or browser in _MOBILE_BROWSER_FAMILIES
        or "Mobile" in (browser or "").split()
    ):
        return "mobile"
    if os_family in _DESKTOP_OS_FAMILIES or device_family in _DESKTOP_DEVICE_FAMILIES:
        return "desktop"
    return UNKNOWN


def _family(domain: object) -> str | None:
    family = getattr(domain, "family", None)
    return None if not family or family == "Other" else family


def _parse(user_agent: str) -> DeviceInfo:
    result = parse_user_agent(user_agent)
    device = result.device
    browser = _family(result.user_agent)
    os_family = _family(result.os)
    device_type = device_type_of(
        _family(device), getattr(device, "brand", None), os_family, browser
    )
    return DeviceInfo(device_type, browser or UNKNOWN, os_family or UNKNOWN)


_parse_cached = lru_cache(maxsize=4096)(_parse)


def user_agent_info(user_agent: str | None) -> DeviceInfo:
    """Device type, browser and OS families of a user agent (cached by the string)."""
    if not user_agent or not user_agent.strip():
        return _UNKNOWN_DEVICE
    if len(user_agent) > _MAX_CACHED_USER_AGENT:
        return _parse(user_agent)
    return _parse_cached(user_agent)


_UNKNOWN_DEVICE = DeviceInfo(UNKNOWN, UNKNOWN, UNKNOWN)


def _explicit(value: str | None) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def describe_device(
    user_agent: str | None,
    device_type: str | None = None,
    browser: str | None = None,
    os: str | None = None,
) -> DeviceInfo:
    """Device type, browser and OS of an event, from its ``context`` fields.

    Each explicit field (``deviceType``, ``browser``, ``os``) that is a non-blank string wins
    over what the user agent says, field by field; an explicit device type is lowercased
    (``Mobile`` -> ``mobile``, an unrecognised ``Phablet`` -> ``phablet``); explicit browser
    and OS are kept as sent (trimmed). Whatever is still missing comes from
    :func:`user_agent_info`, and is ``unknown`` when there is no user agent either.
    """
    explicit_type = _explicit(device_type)
    explicit_browser = _explicit(browser)
    explicit_os = _explicit(os)
    if explicit_type and explicit_browser and explicit_os:
        return DeviceInfo(explicit_type.lower(), explicit_browser, explicit_os)
    parsed = user_agent_info(user_agent)
    return DeviceInfo(
        explicit_type.lower() if explicit_type else parsed.device_type,
        explicit_browser or parsed.browser,
        explicit_os or parsed.os,
    )


# Per event, the whole context tuple is looked up once (few distinct combinations).
_describe_cached = lru_cache(maxsize=8192)(describe_device)


# --------------------------------------------------------------------------- phones

_ASCII_DIGITS = frozenset("0123456789")
_PHONE_SEPARATORS = frozenset(" -.()/\u00a0")


def normalise_phone(raw: str) -> tuple[str, str | None]:
    """``(E.164 or fallback, region)`` of a phone number as producers send it.

    * Leading/trailing blanks are ignored. A number without ``+`` is read as international
      (calling code first): WhatsApp webhooks send ``254712345678`` for ``+254712345678``.
    * When the text is only digits, blanks and ``-.()/`` (after an optional leading ``+``)
      and ``phonenumbers`` finds a valid number, the result is its E.164 form and its
      ISO-3166 alpha-2 region (``+254...`` -> ``KE``; for calling codes several regions share,
      such as +1 or +44, the region the number ranges belong to; none for non-geographic
      codes such as +882).
    * Otherwise the fallback is the number's ASCII digits only, without ``+``, and the region
      is ``None``: a national number such as ``0712345678`` (no calling code: no country is
      guessed), a number too short or long or outside any allocated range, text with letters.
      The fallback can never equal an E.164 string, so an invalid number never shares a key
      with a valid one.
    * Text without any digit gives ``("", None)``: there is nothing to key.
    """
    text = raw.strip()
    digits = "".join(ch for ch in text if ch in _ASCII_DIGITS)
    if not digits:
        return "", None
    body = text[1:] if text.startswith("+") else text
    if all(ch in _ASCII_DIGITS or ch in _PHONE_SEPARATORS for ch in body):
        try:
            number = phonenumbers.parse("+" + body, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            region = phonenumbers.region_code_for_number(number)
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164, region if region and len(region) == 2 and region.isalpha() else None
    return digits, None


def pseudonymous_key(phone: str, salt: str) -> str:
    """HMAC-SHA256, keyed with ``salt``, of the phone's :func:`normalise_phone` form, as hex.

    Any format of one number gives one key; another salt gives other keys. Raises
    ``ValueError`` for text without digits (callers store no key for those).
    """
    normalised, _ = normalise_phone(phone)
    if not normalised:
        raise ValueError(f"no digits in the phone value {phone!r}: there is nothing to key")
    return hmac.new(salt.encode(), normalised.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=65536)
def _phone_key_and_region(phone: str, salt: str) -> tuple[str | None, str | None]:
    normalised, region = normalise_phone(phone)
    if not normalised:
        return None, None
    return hmac.new(salt.encode(), normalised.encode(), hashlib.sha256).hexdigest(), region


# --------------------------------------------------------------------------- rows


def enrich_rows(rows: Iterable[SourceRow], salt: str) -> list[EnrichedRow]:
    """The enrichment of each source row (pure Python, cached; no I/O)."""
    describe = _describe_cached
    phone_key = _phone_key_and_region
    enriched: list[EnrichedRow] = []
    append = enriched.append
    for event_id, load_id, user_agent, device_type, browser, os, contact, phone in rows:
        if user_agent is not None and len(user_agent) > _MAX_CACHED_USER_AGENT:
            device = describe_device(user_agent, device_type, browser, os)
        else:
            device = describe(user_agent, device_type, browser, os)
        contact_key = contact_country = phone_hash = None
        if contact:
            contact_key, contact_country = phone_key(contact, salt)
        if phone:
            phone_hash = phone_key(phone, salt)[0]
        append((event_id, load_id, *device, contact_key, contact_country, phone_hash))
    return enriched


# --------------------------------------------------------------------------- the run


@dataclass
class EnrichmentResult:
    events: int = 0
    by_device_type: dict[str, int] = field(default_factory=dict)
    user_agents_parsed: int = 0  # distinct user agents parsed (the rest came from the cache)
    chunks: int = 0
    full: bool = False
    high_water_mark_before: int | None = None
    first_load_id: int | None = None
    last_load_id: int | None = None
    duration_s: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["events_per_second"] = round(self.events_per_second, 1)
        return data


def ensure_enrichment_schema(conn: psycopg.Connection) -> None:
    """Create ``raw`` (as the extract does) and ``raw.event_enrichment`` when missing."""
    ensure_raw_schema(conn)
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
        for statement in ENRICHMENT_DDL:
            cursor.execute(statement)


def high_water_mark(conn: psycopg.Connection) -> int | None:
    """The highest ``load_id`` already enriched (``None`` when nothing is)."""
    row = conn.execute("select max(load_id) from raw.event_enrichment").fetchone()
    return None if row is None else row[0]


def _write_chunk(conn: psycopg.Connection, rows: Sequence[EnrichedRow]) -> None:
    """Replace the rows of the chunk's ``load_id`` range, in one transaction."""
    low, high = rows[0][1], rows[-1][1]
    with conn.transaction(), conn.cursor() as cursor:
        # Normally there is nothing to delete (the range is above the mark); the delete
        # makes the write idempotent whatever is there, so these load_ids end up with
        # exactly these rows.
        cursor.execute(
            "delete from raw.event_enrichment where load_id between %s and %s", (low, high)
        )
        with cursor.copy(_COPY_ENRICHMENT) as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        failpoint("enrich.before_commit")
    failpoint("enrich.after_commit")


def _whole_load_ids(rows: list[SourceRow]) -> int:
    """How many leading rows end at a ``load_id`` boundary (rows are in load_id order)."""
    last = rows[-1][1]
    cut = len(rows)
    while cut > 0 and rows[cut - 1][1] == last:
        cut -= 1
    return cut


def run_enrichment(
    settings: Settings,
    *,
    full: bool = False,
    chunk_size: int = 50_000,
    on_progress: Callable[[EnrichmentResult], None] | None = None,
    progress_every_s: float = 5.0,
) -> EnrichmentResult:
    """Enrich every event above the high-water mark (everything with ``full=True``).

    Events are read in ``load_id`` order through a server-side cursor and written in chunks
    of about ``chunk_size`` events, each with ``COPY`` in its own transaction. A chunk
    always holds whole ``load_id``s (it grows past ``chunk_size`` to finish the last one),
    so the mark never points into a half-written load. ``full=True`` first empties the table
    (recompute, e.g. after ``ANALYTICS_PII_SALT`` changes); an interrupted full run leaves
    a table complete up to its mark, and any later run completes it with the current salt.
    Progress is logged, and ``on_progress`` called, after a committed chunk at most every
    ``progress_every_s`` seconds.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    started = time.monotonic()
    result = EnrichmentResult(full=full)
    device_counts: Counter[str] = Counter()
    misses_before = _parse_cached.cache_info().misses
    salt = settings.pii_salt
    with connect_postgres(settings) as writer, connect_postgres(settings) as reader:
        ensure_enrichment_schema(writer)
        writer.autocommit = True
        # Held for the whole run (released when the connection closes): a concurrent run
        # waits here, then finds the events this one enriched above the mark.
        writer.execute("select pg_advisory_lock(%s)", (ENRICHMENT_LOCK_KEY,))
        if full:
            writer.execute("truncate raw.event_enrichment")
        mark = high_water_mark(writer)
        result.high_water_mark_before = mark
        log.info("enrich: %s events above load_id %s", "all" if full else "new", mark or 0)
        last_report = time.monotonic()

        def flush(source: list[SourceRow]) -> None:
            nonlocal last_report
            rows = enrich_rows(source, salt)
            _write_chunk(writer, rows)
            device_counts.update(row[2] for row in rows)
            result.events += len(rows)
            result.chunks += 1
            if result.first_load_id is None:
                result.first_load_id = rows[0][1]
            result.last_load_id = rows[-1][1]
            now = time.monotonic()
            result.duration_s = now - started
            if now - last_report >= progress_every_s:
                last_report = now
                log.info(
                    "enrich: %s events, %s/s",
                    f"{result.events:,}",
                    f"{result.events_per_second:,.0f}",
                )
                if on_progress:
                    on_progress(result)

        with reader.transaction(), reader.cursor(name="enrich_new_events") as cursor:
            cursor.execute(_SELECT_NEW, (mark or 0,))
            pending: list[SourceRow] = []
            while batch := cursor.fetchmany(chunk_size):
                pending.extend(batch)
                if len(pending) < chunk_size:
                    continue
                cut = _whole_load_ids(pending)
                if cut == 0:  # one load_id larger than a chunk: read on to its end
                    continue
                flush(pending[:cut])
                pending = pending[cut:]
            if pending:
                flush(pending)
    result.by_device_type = dict(device_counts.most_common())
    result.user_agents_parsed = _parse_cached.cache_info().misses - misses_before
    result.duration_s = time.monotonic() - started
    log.info(
        "enrich: done in %.1fs: %s events (%s/s), %d chunks, load_ids %s-%s, by device %s, "
        "%d user agents parsed",
        result.duration_s,
        f"{result.events:,}",
        f"{result.events_per_second:,.0f}",
        result.chunks,
        result.first_load_id,
        result.last_load_id,
        result.by_device_type,
        result.user_agents_parsed,
    )
    return result
