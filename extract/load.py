"""The extract: Redis stream -> ``raw.events`` / ``raw.rejected_events``, exactly once in effect.

Delivery from the stream is at-least-once; the effect on PostgreSQL is exactly-once:

1. read a batch with ``XREADGROUP`` (first this consumer's own pending entries, then
   entries left pending by dead consumers via ``XAUTOCLAIM``, then new ones);
2. validate each entry in Python (:mod:`extract.validate`) and look up which of its
   ``eventId``s are already loaded (steps 1-2 run a few batches ahead, in a thread);
3. under the load-order lock, ``COPY`` only the new events into ``raw.events`` (the first
   copy of an ``eventId`` wins) and ``insert ... on conflict (stream_id) do nothing`` the
   rejected entries into ``raw.rejected_events``;
4. record the batch in ``raw.load_audit`` and commit;
5. only then ``XACK``; finally trim the stream below what every group has acknowledged.

A crash before the commit replays the batch; a crash between commit and ``XACK`` replays
it too, and finds every event already loaded under its own stream id (counted as
``replayed``, not as duplicates).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import psycopg
import redis
from psycopg.types.json import set_json_dumps

from extract.config import Settings, redact
from extract.failpoints import failpoint
from extract.schema import LOAD_ORDER_LOCK_KEY, ensure_raw_schema
from extract.validate import REASONS, Rejection, ValidEvent, validate_entry

log = logging.getLogger("extract")

CONSUMER_GROUP = "analytics-extract"
_PREFETCH_DEPTH = 2  # batches read and validated ahead of the one being written
# An entry as Redis returns it: its id and its fields (a flat [name, value, ...] list from
# XREADGROUP, read raw to skip redis-py's per-entry dict; a map from XAUTOCLAIM).
StreamEntry = tuple[bytes, list[bytes] | dict[bytes, bytes] | None]


class ExtractError(RuntimeError):
    """The extract could not run; the message names the server and what to do."""


@dataclass(frozen=True)
class ExtractOptions:
    batch_size: int = 10_000
    consumer: str = field(default_factory=lambda: f"extract-{socket.gethostname()}")
    group: str = CONSUMER_GROUP
    claim_idle_ms: int = 300_000  # entries pending this long on another consumer are claimed
    trim: bool = True
    progress_every_s: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 100_000:
            raise ValueError(f"batch_size must be between 1 and 100000, got {self.batch_size}")
        if not self.consumer:
            raise ValueError("consumer must be a non-empty name")
        if self.claim_idle_ms < 0:
            raise ValueError("claim_idle_ms must be zero or positive")


@dataclass
class ExtractResult:
    entries: int = 0
    loaded: int = 0
    duplicates: int = 0
    replayed: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    claimed: int = 0
    first_load_id: int | None = None
    last_load_id: int | None = None
    stream_lag: int = 0
    duration_s: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.entries / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["events_per_second"] = round(self.events_per_second, 1)
        return data


@dataclass(frozen=True)
class BatchOutcome:
    load_id: int
    entries: int
    loaded: int
    duplicates: int
    replayed: int
    rejected: int
    rejected_by_reason: dict[str, int]


_EXISTING = """
select event_id, stream_id
from raw.events
where event_id = any(%s::text[])
"""
# The columns of ValidEvent, in order; load_id comes from the transaction's setting.
_COPY_EVENTS = (
    "copy raw.events (event_id, event_name, channel, occurred_at, user_id, anonymous_id,"
    " session_id, payload, stream_id) from stdin (format binary)"
)
_COPY_TYPES = ["text", "text", "text", "timestamptz", "text", "text", "text", "jsonb", "text"]
_INSERT_REJECTED = """
insert into raw.rejected_events (stream_id, payload, reason, detail, load_id)
select stream_id, payload, reason, detail, %s
from unnest(%s::text[], %s::text[], %s::text[], %s::text[])
    as batch (stream_id, payload, reason, detail)
on conflict (stream_id) do nothing
returning reason
"""
_INSERT_AUDIT = """
insert into raw.load_audit (
    load_id, stream, consumer, first_stream_id, last_stream_id, entries, loaded, duplicates,
    replayed, rejected, rejected_by_reason, started_at
) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def probe_existing(cursor: psycopg.Cursor, event_ids: list[str]) -> dict[str, str]:
    """Which of these eventIds raw.events holds, with the stream id of the loaded copy."""
    if not event_ids:
        return {}
    # Always through the primary key: on a mid-sized table the planner would pick a
    # (parallel) scan of the whole table for every batch.
    cursor.execute("set local enable_seqscan = off")
    cursor.execute(_EXISTING, (_text_array(event_ids),))
    return dict(cursor.fetchall())


def _text_array(values: Iterable[str]) -> str:
    """A PostgreSQL text[] literal (cheaper to build than binding a Python list)."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _as_is(text: str) -> str:
    return text


def _decode_id(stream_id: bytes | str) -> str:
    return stream_id.decode() if isinstance(stream_id, bytes) else stream_id


def _id_tuple(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class PreparedBatch:
    """A batch read from the stream and judged, ready to be written in one transaction."""

    entries: list[StreamEntry]
    valid: list[ValidEvent]
    rejected: list[Rejection]
    started_at: datetime
    claimed: bool = False
    # eventIds of the batch already in raw.events when the reader looked, with the stream id
    # of their loaded copy; None when nobody looked ahead (then the writer looks itself).
    probed: dict[str, str] | None = None

    def first_copies(self) -> dict[str, ValidEvent]:
        """The earliest stream entry of each eventId within the batch."""
        first: dict[str, ValidEvent] = {}
        for event in self.valid:
            first.setdefault(event.event_id, event)
        return first


def prepare_batch(entries: list[StreamEntry], *, claimed: bool = False) -> PreparedBatch:
    """Validate every entry of a batch (pure Python; no I/O)."""
    started_at = datetime.now(UTC)
    valid: list[ValidEvent] = []
    rejected: list[Rejection] = []
    for raw_id, fields in entries:
        verdict = validate_entry(_decode_id(raw_id), fields, started_at)
        (valid if isinstance(verdict, ValidEvent) else rejected).append(verdict)
    return PreparedBatch(entries, valid, rejected, started_at, claimed)


class BatchWriter:
    """Writes prepared batches to PostgreSQL in one transaction each.

    Under the load-order lock a batch looks up which of its ``eventId``s are already loaded
    (an index probe), then ``COPY``s only the new ones straight into ``raw.events``. The lock
    makes probe and copy atomic with respect to every other extract, so no ``on conflict``
    is needed and the load costs about what a plain ``COPY`` costs.
    """

    def __init__(self, conn: psycopg.Connection, stream: str, consumer: str) -> None:
        self.conn = conn
        self.stream = stream
        self.consumer = consumer
        # eventIds this writer committed lately: enough to cover every batch read ahead.
        self._recent: deque[dict[str, str]] = deque(maxlen=_PREFETCH_DEPTH + 2)

    def write(self, batch: PreparedBatch) -> BatchOutcome:
        valid, rejected = batch.valid, batch.rejected
        first_copies = batch.first_copies()
        with self.conn.transaction(), self.conn.cursor() as cursor:
            # From here to the commit, batches of concurrent extracts go one at a time, so
            # load_ids commit in increasing order (downstream reads "new" by load_id).
            cursor.execute("select pg_advisory_xact_lock(%s)", (LOAD_ORDER_LOCK_KEY,))
            cursor.execute(
                "select set_config('analytics.load_id', nextval('raw.load_id_seq')::text, true)"
            )
            load_id = int(cursor.fetchone()[0])
            existing, new_events = self._load_new(cursor, batch, first_copies)
            # An entry whose own copy is already loaded came from a batch whose
            # acknowledgement was lost: a replay, not a duplicate.
            replayed_events = sum(1 for e in valid if existing.get(e.event_id) == e.stream_id)
            new_reasons: list[str] = []
            if rejected:
                cursor.execute(
                    _INSERT_REJECTED,
                    (
                        load_id,
                        [r.stream_id for r in rejected],
                        [r.payload for r in rejected],
                        [r.reason for r in rejected],
                        [r.detail for r in rejected],
                    ),
                )
                new_reasons = [row[0] for row in cursor.fetchall()]
            outcome = BatchOutcome(
                load_id=load_id,
                entries=len(batch.entries),
                loaded=len(new_events),
                duplicates=len(valid) - len(new_events) - replayed_events,
                replayed=replayed_events + len(rejected) - len(new_reasons),
                rejected=len(new_reasons),
                rejected_by_reason=dict(Counter(new_reasons)),
            )
            self._audit(cursor, batch, outcome)
            failpoint("before_commit")
        self._recent.append({e.event_id: e.stream_id for e in new_events})
        return outcome

    def _load_new(
        self, cursor: psycopg.Cursor, batch: PreparedBatch, first_copies: dict[str, ValidEvent]
    ) -> tuple[dict[str, str], list[ValidEvent]]:
        """COPY the batch's eventIds not loaded yet; return those already there, and the new.

        The reader thread looked ahead (``batch.probed``) while the previous batch was being
        written; what this process committed since is remembered here. Only another extract
        can have loaded one of our eventIds in between: the primary key then refuses the
        COPY, and the batch looks again, under the lock, and copies what is left.
        """
        if batch.probed is not None:
            existing = dict(batch.probed)
            for recent in self._recent:
                existing.update((i, recent[i]) for i in first_copies.keys() & recent.keys())
            new_events = [e for e in first_copies.values() if e.event_id not in existing]
            try:
                with self.conn.transaction():  # a savepoint
                    if new_events:
                        self._copy(cursor, new_events)
                return existing, new_events
            except psycopg.errors.UniqueViolation:
                log.info("extract: another extract loaded some of this batch; looking again")
        existing = probe_existing(cursor, list(first_copies))
        new_events = [e for e in first_copies.values() if e.event_id not in existing]
        if new_events:
            self._copy(cursor, new_events)
        return existing, new_events

    @staticmethod
    def _copy(cursor: psycopg.Cursor, events: list[ValidEvent]) -> None:
        half = len(events) // 2
        # Payloads are already JSON text: dump them as they are, not as JSON strings.
        set_json_dumps(_as_is, cursor)
        with cursor.copy(_COPY_EVENTS) as copy:
            copy.set_types(_COPY_TYPES)
            for position, event in enumerate(events):
                if position == half:
                    failpoint("mid_copy")
                copy.write_row(event)

    def _audit(self, cursor: psycopg.Cursor, batch: PreparedBatch, outcome: BatchOutcome) -> None:
        ids = [_decode_id(raw_id) for raw_id, _ in batch.entries]
        cursor.execute(
            _INSERT_AUDIT,
            (
                outcome.load_id,
                self.stream,
                self.consumer,
                min(ids, key=_id_tuple),
                max(ids, key=_id_tuple),
                outcome.entries,
                outcome.loaded,
                outcome.duplicates,
                outcome.replayed,
                outcome.rejected,
                json.dumps(outcome.rejected_by_reason, sort_keys=True),
                batch.started_at,
            ),
        )


class StreamReader:
    """Consumer-group reads of the stream: own pending entries, claimed ones, then new ones."""

    def __init__(self, client: redis.Redis, stream: str, options: ExtractOptions) -> None:
        self.client = client
        self.stream = stream
        self.options = options
        client.set_response_callback("XREADGROUP", lambda response, **_: response)

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, self.options.group, id="0", mkstream=True)
            log.info("created consumer group %s on stream %s", self.options.group, self.stream)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _read(self, start: str) -> list[StreamEntry]:
        reply = self.client.xreadgroup(
            self.options.group,
            self.options.consumer,
            {self.stream: start},
            count=self.options.batch_size,
        )
        return _entries_of(reply)

    def own_pending(self) -> Iterable[list[StreamEntry]]:
        """Entries delivered to this consumer before and never acknowledged (a crashed run)."""
        cursor = "0"
        while True:
            batch = self._read(cursor)
            if not batch:
                return
            cursor = _decode_id(batch[-1][0])
            yield batch

    def claimed(self) -> Iterable[list[StreamEntry]]:
        """Entries pending on other consumers for longer than ``claim_idle_ms`` (dead ones)."""
        cursor = "0-0"
        while True:
            reply = self.client.xautoclaim(
                self.stream,
                self.options.group,
                self.options.consumer,
                min_idle_time=self.options.claim_idle_ms,
                start_id=cursor,
                count=self.options.batch_size,
            )
            cursor = _decode_id(reply[0])
            batch = [(entry_id, fields) for entry_id, fields in reply[1] if entry_id]
            if batch:
                yield batch
            if cursor == "0-0":
                return

    def new_entries(self, until: tuple[int, int]) -> Iterable[list[StreamEntry]]:
        """New entries up to the stream's last id when the run started."""
        while True:
            batch = self._read(">")
            if not batch:
                return
            yield batch
            if _id_tuple(_decode_id(batch[-1][0])) >= until:
                return

    def last_id(self) -> tuple[int, int]:
        newest = self.client.xrevrange(self.stream, count=1)
        return _id_tuple(_decode_id(newest[0][0])) if newest else (0, 0)

    def ack(self, entries: list[StreamEntry]) -> None:
        self.client.xack(self.stream, self.options.group, *[entry_id for entry_id, _ in entries])

    def trim_acknowledged(self) -> int:
        """Trim entries every consumer group has acknowledged; returns how many were removed."""
        safe: tuple[int, int] | None = None
        for group in self.client.xinfo_groups(self.stream):
            name = _field(group, "name")
            pending = int(_field(group, "pending") or 0)
            if pending:
                summary = self.client.xpending(self.stream, _decode_id(name))
                floor = _id_tuple(_decode_id(summary["min"]))
            else:
                floor = _id_tuple(_decode_id(_field(group, "last-delivered-id")))
            safe = floor if safe is None else min(safe, floor)
        if not safe or safe == (0, 0):
            return 0
        return int(self.client.xtrim(self.stream, minid=f"{safe[0]}-{safe[1]}", approximate=False))

    def lag(self) -> int:
        """Entries of the stream this group has not yet acknowledged (undelivered + pending)."""
        for group in self.client.xinfo_groups(self.stream):
            if _decode_id(_field(group, "name")) == self.options.group:
                lag = _field(group, "lag")
                pending = int(_field(group, "pending") or 0)
                if lag is None:  # Redis cannot tell after some deletions: count the range
                    last = _decode_id(_field(group, "last-delivered-id"))
                    lag = len(self.client.xrange(self.stream, min=f"({last}", max="+"))
                return int(lag) + pending
        return int(self.client.xlen(self.stream))


def _field(mapping: dict, name: str) -> object:
    if name in mapping:
        return mapping[name]
    return mapping.get(name.encode())


def _entries_of(reply: object) -> list[StreamEntry]:
    """The entries of a raw RESP2 XREADGROUP reply: [[stream, [[id, fields], ...]]]."""
    if not reply:
        return []
    return [(entry[0], entry[1]) for _, entries in reply for entry in entries]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_redis(settings: Settings) -> redis.Redis:
    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=30, socket_connect_timeout=5, protocol=2
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ExtractError(
            f"Redis at {redact(settings.redis_url)} is unreachable ({exc}): start it with "
            "'analytics services up' or point ANALYTICS_REDIS_URL at a running server"
        ) from exc
    return client


def connect_postgres(settings: Settings) -> psycopg.Connection:
    try:
        return psycopg.connect(settings.database_url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise ExtractError(
            f"PostgreSQL at {redact(settings.database_url)} is unreachable ({exc}): start it "
            "with 'analytics services up' or point ANALYTICS_DATABASE_URL at a running server"
        ) from exc


_DONE = object()


def _prefetch(
    reader: StreamReader, until: tuple[int, int], probe_conn: psycopg.Connection
) -> Iterator[PreparedBatch]:
    """Read and validate the next batches in a thread while the current one is written.

    PostgreSQL's work and the Python work of reading and validating overlap (the GIL is
    released while waiting on either server); so does the look-up of which eventIds are
    already loaded, on a connection of its own. Entries read ahead are delivered but not
    acknowledged, so a crash leaves them pending for the next run, as any other.
    """
    ready: queue.Queue = queue.Queue(maxsize=_PREFETCH_DEPTH)
    stop = threading.Event()

    def produce() -> None:
        try:
            phases = (
                (False, reader.own_pending()),
                (True, reader.claimed()),
                (False, reader.new_entries(until)),
            )
            for claimed, batches in phases:
                for entries in batches:
                    if stop.is_set():
                        return
                    batch = prepare_batch(entries, claimed=claimed)
                    with probe_conn.transaction(), probe_conn.cursor() as cursor:
                        probed = probe_existing(cursor, list(batch.first_copies()))
                    ready.put(replace(batch, probed=probed))
            ready.put(_DONE)
        except BaseException as exc:  # handed to the writing thread, which re-raises it
            ready.put(exc)

    worker = threading.Thread(target=produce, name="extract-reader", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)


def run_extract(
    settings: Settings,
    options: ExtractOptions | None = None,
    *,
    on_progress: Callable[[ExtractResult], None] | None = None,
) -> ExtractResult:
    """Drain the stream (up to its last entry at start) into the raw tables."""
    options = options or ExtractOptions()
    client = connect_redis(settings)
    started = time.monotonic()
    result = ExtractResult(rejected_by_reason=dict.fromkeys(REASONS, 0))
    try:
        with connect_postgres(settings) as conn, connect_postgres(settings) as probe_conn:
            ensure_raw_schema(conn)
            writer = BatchWriter(conn, settings.stream, options.consumer)
            reader = StreamReader(client, settings.stream, options)
            reader.ensure_group()
            until = reader.last_id()
            log.info(
                "extract: consumer %s reading %s on %s up to entry %d-%d",
                options.consumer,
                settings.stream,
                redact(settings.redis_url),
                *until,
            )
            last_report = time.monotonic()
            for batch in _prefetch(reader, until, probe_conn):
                outcome = writer.write(batch)
                failpoint("after_commit")
                reader.ack(batch.entries)
                _accumulate(result, outcome, claimed=batch.claimed)
                if time.monotonic() - last_report >= options.progress_every_s:
                    last_report = time.monotonic()
                    result.duration_s = last_report - started
                    _log_progress(result)
                    if on_progress:
                        on_progress(result)
            if options.trim:
                trimmed = reader.trim_acknowledged()
                if trimmed:
                    log.info(
                        "extract: trimmed %d acknowledged entries from %s", trimmed, settings.stream
                    )
            result.stream_lag = reader.lag()
    except psycopg.OperationalError as exc:
        raise ExtractError(
            f"PostgreSQL at {redact(settings.database_url)} went away during the extract "
            f"({_first_line(exc)}) after {result.batches} committed batches: those stay, the "
            "batch in flight was rolled back and stays in the stream; run again once the "
            "server is back"
        ) from exc
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise ExtractError(
            f"Redis at {redact(settings.redis_url)} went away during the extract "
            f"({_first_line(exc)}) after {result.batches} committed batches: entries not "
            "acknowledged are read again (and absorbed if already loaded) by the next run"
        ) from exc
    result.duration_s = time.monotonic() - started
    log.info(
        "extract: done in %.1fs: %d entries, %d loaded, %d duplicates, %d replayed, "
        "%d rejected %s, lag %d",
        result.duration_s,
        result.entries,
        result.loaded,
        result.duplicates,
        result.replayed,
        result.rejected,
        {k: v for k, v in result.rejected_by_reason.items() if v},
        result.stream_lag,
    )
    return result


def _accumulate(result: ExtractResult, outcome: BatchOutcome, *, claimed: bool) -> None:
    result.entries += outcome.entries
    result.loaded += outcome.loaded
    result.duplicates += outcome.duplicates
    result.replayed += outcome.replayed
    result.rejected += outcome.rejected
    for reason, count in outcome.rejected_by_reason.items():
        result.rejected_by_reason[reason] = result.rejected_by_reason.get(reason, 0) + count
    result.batches += 1
    if claimed:
        result.claimed += outcome.entries
    if result.first_load_id is None:
        result.first_load_id = outcome.load_id
    result.last_load_id = outcome.load_id


def _log_progress(result: ExtractResult) -> None:
    log.info(
        "extract: %d entries read, %d loaded, %d duplicates, %d rejected at %.0f entries/s",
        result.entries,
        result.loaded,
        result.duplicates,
        result.rejected,
        result.events_per_second,
    )
