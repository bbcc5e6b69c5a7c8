"""Property-based tests of the extract (hypothesis): arbitrary bytes, arbitrary JSON and
arbitrary stream fields as entries. Whatever arrives, the extract does not crash, and
every entry ends up in exactly one place: `raw.events` (accepted), `raw.rejected_events`
(with a reason), or counted as a duplicate of an accepted event in `raw.load_audit`.
Nothing is left pending in the consumer group.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extract.config import Settings
from extract.load import CONSUMER_GROUP, ExtractOptions, run_extract
from extract.validate import REASONS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# Events that are nearly right: the contract's fields, each one maybe anything at all.
near_events = st.fixed_dictionaries(
    {},
    optional={
        "eventId": st.text(min_size=0, max_size=140) | json_values,
        "name": st.sampled_from(["page_view", "message.sent", "identify", "ai.error"])
        | st.text(max_size=110)
        | json_values,
        "timestamp": st.sampled_from(["2026-01-05T09:00:00Z", "2026-01-05T09:00:00+03:00"])
        | st.text(max_size=40)
        | json_values,
        "channel": st.sampled_from(["web", "whatsapp", "ai", "sms"]) | json_values,
        "properties": json_values,
        "context": json_values,
        "traits": json_values,
        "userId": json_values,
    },
)
payloads = (
    st.binary(max_size=300)
    | json_values.map(lambda value: json.dumps(value).encode())
    | near_events.map(lambda event: json.dumps(event).encode())
    | st.text(max_size=200).map(str.encode)
)
entries = st.lists(
    st.one_of(
        payloads.map(lambda payload: {b"event": payload}),
        # entries without an `event` field, or with other fields beside it
        st.dictionaries(
            st.binary(min_size=1, max_size=8), st.binary(max_size=40), min_size=1, max_size=3
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=entries)
def test_every_entry_lands_in_exactly_one_place(
    settings: Settings, db: psycopg.Connection, batch: list[dict[bytes, bytes]]
) -> None:
    stream = f"prop:{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(settings.redis_url)
    ids = {client.xadd(stream, fields).decode() for fields in batch}
    try:
        result = run_extract(settings.with_overrides(stream=stream), ExtractOptions(batch_size=7))
    finally:
        pending = client.xpending(stream, CONSUMER_GROUP)["pending"] if client.exists(stream) else 0
        client.delete(stream)
    accepted = {
        row[0]
        for row in db.execute(
            "select stream_id from raw.events where stream_id = any(%s)", (list(ids),)
        )
    }
    rejected = dict(
        db.execute(
            "select stream_id, reason from raw.rejected_events where stream_id = any(%s)",
            (list(ids),),
        ).fetchall()
    )
    duplicates = db.execute(
        "select coalesce(sum(duplicates), 0) from raw.load_audit where stream = %s", (stream,)
    ).fetchone()[0]
    assert not accepted & set(rejected), "an entry both accepted and rejected"
    assert len(accepted) + len(rejected) + duplicates == len(ids)
    assert set(rejected.values()) <= set(REASONS)
    assert (result.loaded, result.rejected, result.duplicates) == (
        len(accepted),
        len(rejected),
        duplicates,
    )
    assert pending == 0
