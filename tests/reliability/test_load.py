"""Producers writing a steady 2,000 events/s for a minute while refreshes run (issue:
load): every entry ends up exactly once in `raw.events`, in `raw.rejected_events`, or
counted as a duplicate delivery in `raw.load_audit`; the lag the extract reports matches
the stream's own count (XINFO GROUPS) once the producers stop.

The entries are the generator's (a realistic mix with duplicate deliveries and malformed
entries). A producer thread paces them in 50 ms ticks; refreshes run back to back beside
it, and once, mid-load, an extract-only run with its own consumer name reads beside the
refresh (two consumers of one group at once).
"""

from __future__ import annotations

import datetime
import json
import threading
import time

import psycopg
import redis

from extract.config import Settings
from extract.load import CONSUMER_GROUP
from generator import GeneratorConfig, generate
from tests.conftest import run_cli

RATE = 2_000  # entries per second
SECONDS = 60
TICK = 0.05


class Producer(threading.Thread):
    def __init__(self, settings: Settings, payloads: list[str]) -> None:
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(settings.redis_url)
        self.stream = settings.stream
        self.payloads = payloads
        self.ids: list[str] = []
        self.seconds = 0.0

    def run(self) -> None:
        per_tick = int(RATE * TICK)
        started = time.monotonic()
        for tick, first in enumerate(range(0, len(self.payloads), per_tick)):
            pause = started + tick * TICK - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pipe = self.client.pipeline(transaction=False)
            for payload in self.payloads[first : first + per_tick]:
                pipe.xadd(self.stream, {"event": payload})
            self.ids += [entry_id.decode() for entry_id in pipe.execute()]
        self.seconds = time.monotonic() - started


def stream_lag(client: redis.Redis, stream: str) -> int:
    """What the stream itself says the consumer group has not acknowledged."""
    for group in client.xinfo_groups(stream):
        if group["name"].decode() == CONSUMER_GROUP:
            return int(group["lag"] or 0) + int(group["pending"])
    raise AssertionError("no consumer group")


def test_two_thousand_events_a_second_for_a_minute_while_refreshes_run(
    settings: Settings,
) -> None:
    # eight days up to yesterday: a week's volume depends on its weekdays, and seven days
    # ending on a weekend fell just short of the minute's entries
    start = datetime.date.today() - datetime.timedelta(days=8)
    payloads = [entry.payload for entry in generate(GeneratorConfig(days=8, seed=91, start=start))][
        : RATE * SECONDS
    ]
    assert len(payloads) == RATE * SECONDS
    producer = Producer(settings, payloads)
    producer.start()

    # A quarter of the load in, an extract-only run beside the producer (before the first
    # refresh, which may take longer than the whole load on a busy machine).
    while producer.is_alive() and len(producer.ids) <= RATE * SECONDS // 4:
        time.sleep(0.2)
    extract = run_cli(settings, "extract", "--consumer", "load-test-extract")
    assert extract.returncode == 0, extract.stderr[-2000:]
    mid_load = json.loads(extract.stdout)

    refreshes: list[int] = []
    while producer.is_alive():
        refreshed = run_cli(settings, "refresh")
        refreshes.append(refreshed.returncode)
        assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert len(refreshes) >= 1
    assert producer.seconds <= SECONDS * 1.1, f"the producer fell behind: {producer.seconds:.0f} s"

    # mid-load, entries kept arriving after the extract took its snapshot of the stream
    assert mid_load["stream_lag"] > 0 and mid_load["entries"] > 0

    drained = run_cli(settings, "extract")
    assert drained.returncode == 0, drained.stderr[-2000:]
    client = redis.Redis.from_url(settings.redis_url)
    assert json.loads(drained.stdout)["stream_lag"] == stream_lag(client, settings.stream) == 0

    ids = producer.ids
    assert len(set(ids)) == len(ids) == RATE * SECONDS
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        accepted = conn.execute(
            "select count(*), count(distinct stream_id) from raw.events where stream_id = any(%s)",
            (ids,),
        ).fetchone()
        rejected = conn.execute(
            "select count(*), count(distinct stream_id) from raw.rejected_events"
            " where stream_id = any(%s)",
            (ids,),
        ).fetchone()
        both = conn.execute(
            "select count(*) from raw.events join raw.rejected_events using (stream_id)"
        ).fetchone()[0]
        duplicates = conn.execute(
            "select sum(duplicates) from raw.load_audit where stream = %s", (settings.stream,)
        ).fetchone()[0]
    assert accepted[0] == accepted[1] and rejected[0] == rejected[1] and both == 0
    assert accepted[0] + rejected[0] + duplicates == len(ids)
    assert accepted[0] > 0.9 * len(ids)
