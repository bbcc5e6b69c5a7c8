"""The extract against real Redis and PostgreSQL: reasons, duplicates, crashes, concurrency."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis

from extract.config import Settings
from extract.load import CONSUMER_GROUP, ExtractError, ExtractOptions, run_extract
from tests.conftest import ANALYTICS_BIN, run_cli
from tests.extract.test_validate import REJECTIONS, VALID

BASE_TIME = datetime.now(UTC) - timedelta(days=2)
# The validator's table judges against a fixed clock; against today's, only the far-future
# timestamp is still in the future.
LOAD_REJECTIONS = [
    (reason, bad)
    for reason, bad in REJECTIONS
    if reason != "future_timestamp" or "2099" in json.dumps(bad)
]


def make_payloads(count: int, seed: int) -> tuple[list[bytes], set[str], Counter]:
    """Events, with duplicates and malformed entries mixed in; returns what must land."""
    rng = random.Random(seed)
    payloads: list[bytes] = []
    accepted: list[bytes] = []
    rejected: Counter = Counter()
    for number in range(count):
        event = {
            "eventId": str(uuid.UUID(int=rng.getrandbits(128))),
            "name": rng.choice(["page_view", "click", "message.received", "ai.classification"]),
            "timestamp": (BASE_TIME + timedelta(seconds=number)).isoformat(),
            "anonymousId": f"a-{rng.randrange(500):03d}",
            "properties": {"path": f"/p/{rng.randrange(20)}", "n": number},
        }
        data = json.dumps(event).encode()
        payloads.append(data)
        accepted.append(data)
        roll = rng.random()
        if roll < 0.03:
            payloads.append(rng.choice(accepted))  # a producer retry, maybe much later
        elif roll < 0.05:
            reason, bad = rng.choice(LOAD_REJECTIONS)
            payloads.append(bad if isinstance(bad, bytes) else json.dumps(bad).encode())
            rejected[reason] += 1
    ids = {json.loads(p)["eventId"] for p in accepted}
    return payloads, ids, rejected


def push(client: redis.Redis, stream: str, payloads: list[bytes]) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for payload in payloads:
        pipe.xadd(stream, {"event": payload})
    return [entry_id.decode() for entry_id in pipe.execute()]


def loaded_ids(db: psycopg.Connection) -> list[str]:
    return [row[0] for row in db.execute("select event_id from raw.events")]


def rejected_reasons(db: psycopg.Connection) -> Counter:
    return Counter(dict(db.execute("select reason, count(*) from raw.rejected_events group by 1")))


def assert_exactly(db: psycopg.Connection, ids: set[str], rejected: Counter) -> None:
    got = loaded_ids(db)
    assert len(got) == len(set(got))
    assert set(got) == ids, f"missing {len(ids - set(got))}, unexpected {len(set(got) - ids)}"
    assert rejected_reasons(db) == rejected


def assert_stream_settled(client: redis.Redis, stream: str) -> None:
    summary = client.xpending(stream, CONSUMER_GROUP)
    assert summary["pending"] == 0


def test_every_reason_lands_with_its_reason_and_valid_edge_cases_load(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    payloads, expected_ids = [], set()
    for number, valid in enumerate(VALID):
        event = dict(valid)
        if event["eventId"] == "e-1":
            event["eventId"] = f"valid-{number}"
        expected_ids.add(event["eventId"])
        payloads.append(json.dumps(event).encode())
    expected_reasons: Counter = Counter()
    for reason, bad in LOAD_REJECTIONS:
        payloads.append(bad if isinstance(bad, bytes) else json.dumps(bad).encode())
        expected_reasons[reason] += 1
    stream_ids = push(redis_client, settings.stream, payloads)

    result = run_extract(settings, ExtractOptions(batch_size=7))

    assert_exactly(db, expected_ids, expected_reasons)
    assert result.loaded == len(expected_ids)
    assert result.rejected == len(LOAD_REJECTIONS)
    assert {k: v for k, v in result.rejected_by_reason.items() if v} == dict(expected_reasons)
    kept = dict(db.execute("select stream_id, reason from raw.rejected_events"))
    rejected_ids = stream_ids[len(VALID) :]
    assert [kept[i] for i in rejected_ids] == [reason for reason, _ in LOAD_REJECTIONS]
    unicode_title = db.execute(
        "select payload -> 'properties' ->> 'title' from raw.events where payload ? 'properties'"
        " and payload -> 'properties' ? 'title'"
    ).fetchone()[0]
    assert unicode_title == "Faili ritani ya NIL 🇰🇪 — ushuru"
    escaped = db.execute(
        "select payload from raw.rejected_events where payload like '\\\\xff%'"
    ).fetchall()
    assert escaped, "the invalid UTF-8 entry is kept, escaped"


def test_first_copy_of_an_event_id_wins_and_duplicates_are_audited(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    first = {
        "eventId": "dup",
        "name": "click",
        "timestamp": BASE_TIME.isoformat(),
        "properties": {"copy": 1},
    }
    second = dict(first, properties={"copy": 2})
    push(redis_client, settings.stream, [json.dumps(first).encode(), json.dumps(second).encode()])
    push(redis_client, settings.stream, [json.dumps(second).encode()])

    result = run_extract(settings, ExtractOptions(batch_size=2))

    assert db.execute("select payload -> 'properties' ->> 'copy' from raw.events").fetchall() == [
        ("1",)
    ]
    assert (result.loaded, result.duplicates, result.replayed) == (1, 2, 0)
    audit = db.execute("select sum(loaded), sum(duplicates), sum(entries) from raw.load_audit")
    assert audit.fetchone() == (1, 2, 3)


def test_rerun_loads_nothing_new_and_stream_is_trimmed_below_acknowledged(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    payloads, ids, rejected = make_payloads(2_000, seed=1)
    push(redis_client, settings.stream, payloads)

    first = run_extract(settings, ExtractOptions(batch_size=300))
    second = run_extract(settings, ExtractOptions(batch_size=300))

    assert_exactly(db, ids, rejected)
    assert first.entries == len(payloads)
    assert first.loaded + first.duplicates + first.rejected == len(payloads)
    assert (second.entries, second.loaded) == (0, 0)
    assert first.stream_lag == 0
    assert redis_client.xlen(settings.stream) <= 1  # only the last acknowledged entry remains
    assert_stream_settled(redis_client, settings.stream)
    load_ids = [row[0] for row in db.execute("select load_id from raw.load_audit order by 1")]
    assert load_ids == sorted(set(load_ids)) and len(load_ids) == first.batches


def test_trim_never_passes_another_groups_unacknowledged_entries(
    settings: Settings, redis_client: redis.Redis
) -> None:
    payloads, _, _ = make_payloads(500, seed=2)
    push(redis_client, settings.stream, payloads)
    redis_client.xgroup_create(settings.stream, "another-reader", id="0")

    run_extract(settings, ExtractOptions(batch_size=100))

    assert redis_client.xlen(settings.stream) == len(payloads)


def test_unreachable_redis_fails_clearly_and_writes_nothing(
    settings: Settings, db: psycopg.Connection
) -> None:
    broken = settings.with_overrides(redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(ExtractError, match=r"redis://127\.0\.0\.1:1/0"):
        run_extract(broken)
    assert db.execute("select count(*) from pg_namespace where nspname = 'raw'").fetchone() == (0,)


CRASH_POINTS = [
    ("mid_copy", 2),  # killed while the batch is being copied in
    ("before_commit", 3),  # everything written, not committed
    ("after_commit", 2),  # committed, not acknowledged: the replay must be absorbed
]


@pytest.mark.parametrize(("point", "hit"), CRASH_POINTS)
def test_sigkill_at_any_point_then_rerun_loads_exactly_the_accepted_set(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis, point: str, hit: int
) -> None:
    payloads, ids, rejected = make_payloads(3_000, seed=3)
    push(redis_client, settings.stream, payloads)

    crashed = run_cli(
        settings,
        "extract",
        "--batch-size",
        "400",
        "--consumer",
        "worker",
        env={"ANALYTICS_FAILPOINTS": f"{point}={hit}"},
    )
    assert crashed.returncode == -9, crashed.stderr
    assert redis_client.xpending(settings.stream, CONSUMER_GROUP)["pending"] > 0

    rerun = run_cli(settings, "extract", "--batch-size", "400", "--consumer", "worker")
    assert rerun.returncode == 0, rerun.stderr

    assert_exactly(db, ids, rejected)
    assert_stream_settled(redis_client, settings.stream)
    report = json.loads(rerun.stdout)
    audited = db.execute("select sum(loaded), sum(rejected) from raw.load_audit").fetchone()
    assert audited[0] == len(ids), "the audit counts every event as loaded exactly once"
    assert audited[1] == sum(rejected.values()), "and every rejection exactly once"
    entries = db.execute(
        "select sum(entries) = sum(loaded + duplicates + replayed + rejected) from raw.load_audit"
    ).fetchone()[0]
    assert entries
    if point == "after_commit":
        # the committed, unacknowledged batch came back and changed nothing
        assert report["replayed"] > 0


def test_entries_of_a_dead_consumer_are_claimed(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    payloads, ids, rejected = make_payloads(1_500, seed=4)
    push(redis_client, settings.stream, payloads)
    crashed = run_cli(
        settings,
        "extract",
        "--batch-size",
        "250",
        "--consumer",
        "dead-host",
        env={"ANALYTICS_FAILPOINTS": "before_commit=2"},
    )
    assert crashed.returncode == -9
    left_pending = redis_client.xpending(settings.stream, CONSUMER_GROUP)["pending"]
    assert left_pending >= 250  # the batch that died uncommitted, and what was read ahead

    survivor = run_cli(
        settings,
        "extract",
        "--batch-size",
        "250",
        "--consumer",
        "other-host",
        "--claim-idle-seconds",
        "0",
    )

    assert survivor.returncode == 0, survivor.stderr
    assert json.loads(survivor.stdout)["claimed"] == left_pending
    assert_exactly(db, ids, rejected)
    assert_stream_settled(redis_client, settings.stream)


def test_two_extracts_at_once_never_load_an_event_twice(
    settings: Settings, db: psycopg.Connection, redis_client: redis.Redis
) -> None:
    payloads, ids, rejected = make_payloads(6_000, seed=5)
    push(redis_client, settings.stream, payloads)
    procs = [
        subprocess.Popen(
            [str(ANALYTICS_BIN), "extract", "--batch-size", "200", "--consumer", name],
            env={**os.environ, **settings.environ()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("consumer-a", "consumer-b")
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in outputs]

    reports = [json.loads(out) for out, _ in outputs]
    assert_exactly(db, ids, rejected)
    assert sum(r["loaded"] for r in reports) == len(ids)
    assert sum(r["entries"] for r in reports) == len(payloads)
    assert all(r["entries"] > 0 for r in reports), "both consumers took part"
    # load_ids were committed in increasing order, even with two writers
    rows = db.execute("select load_id, committed_at from raw.load_audit order by load_id")
    committed = [row[1] for row in rows]
    assert committed == sorted(committed)
    assert_stream_settled(redis_client, settings.stream)


def test_a_stale_look_ahead_falls_back_to_looking_under_the_lock(
    settings: Settings, db: psycopg.Connection
) -> None:
    """Another extract loaded an eventId after this batch looked: nothing twice, none lost."""
    from extract.load import BatchWriter, prepare_batch
    from extract.schema import ensure_raw_schema

    def entry(number: int, event_id: str) -> tuple[bytes, list[bytes]]:
        event = {"eventId": event_id, "name": "click", "timestamp": BASE_TIME.isoformat()}
        return (f"{number}-0".encode(), [b"event", json.dumps(event).encode()])

    with psycopg.connect(settings.database_url) as conn:
        ensure_raw_schema(conn)
        writer = BatchWriter(conn, settings.stream, "a")
        first = prepare_batch([entry(1, "shared"), entry(2, "only-a")])
        writer.write(dataclasses.replace(first, probed={}))
        # written by "another extract" after b looked: b's look-ahead says nothing exists
        other = BatchWriter(conn, settings.stream, "b")
        second = prepare_batch([entry(3, "shared"), entry(4, "only-b")])
        outcome = other.write(dataclasses.replace(second, probed={}))

    assert (outcome.loaded, outcome.duplicates, outcome.replayed) == (1, 1, 0)
    assert sorted(loaded_ids(db)) == ["only-a", "only-b", "shared"]
    kept = db.execute("select stream_id from raw.events where event_id = 'shared'").fetchone()
    assert kept == ("1-0",)
