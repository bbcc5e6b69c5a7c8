"""Benchmark: generated events through the extract, against a plain COPY of the same rows.

    python bench/extract.py [--events 1000000] [--batch-size 10000]

Both run in one process, on the same servers, one after the other, so the ratio between
them holds however noisy the machine is. The extract runs as its own process (the
`analytics extract` command, exactly as operators run it) so its peak memory is its own.

* baseline: the accepted rows, already validated and held in memory, written with one
  plain (text) `COPY` into a table shaped like raw.events (same columns, primary key and
  index); a binary `COPY` of the same rows is measured too, as the extract itself uses one;
* extract: the stream read with XREADGROUP, every entry validated, COPY into a temporary
  table, insert ... on conflict into raw.events, rejected entries, the audit row, XACK, trim.

Results go to stdout and to bench/results/extract.json; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psycopg.types.json import set_json_dumps  # noqa: E402

from bench.machine import (  # noqa: E402
    bench_database,
    describe,
    drop_bench_database,
    postgres_settings,
)
from extract.config import Settings, load_settings  # noqa: E402
from extract.load import _COPY_TYPES  # noqa: E402
from extract.schema import ensure_raw_schema  # noqa: E402
from extract.validate import ValidEvent, validate_entry  # noqa: E402
from generator import GeneratorConfig, generate, push_to_stream  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "extract.json"


def scale_for(events: int, days: int) -> float:
    """The generator scale that yields about ``events`` entries over ``days`` days."""
    sample = GeneratorConfig(days=1, seed=7, scale=1.0)
    per_day = sum(1 for _ in generate(sample))
    return max(0.01, events / (per_day * days))


def checkpoint(conn: psycopg.Connection) -> None:
    """Flush dirty buffers so one phase's writes do not slow the next one's (needs superuser)."""
    try:
        conn.execute("checkpoint")
        conn.commit()
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()


def baseline_copy(conn: psycopg.Connection, rows: list[ValidEvent], *, binary: bool) -> float:
    """Seconds to COPY the rows into a fresh table shaped like raw.events."""
    conn.execute("drop table if exists bench_copy")
    conn.execute("create table bench_copy (like raw.events including all)")
    conn.commit()
    tuples = [
        (
            row.event_id, row.event_name, row.channel, row.occurred_at, row.user_id,
            row.anonymous_id, row.session_id, row.payload if binary else row.payload.decode(),
            row.stream_id, 1,
        )
        for row in rows
    ]  # fmt: skip
    checkpoint(conn)
    started = time.perf_counter()
    with conn.cursor() as cursor:
        set_json_dumps(lambda text: text, cursor)
        with cursor.copy(
            "copy bench_copy (event_id, event_name, channel, occurred_at, user_id, anonymous_id,"
            " session_id, payload, stream_id, load_id) from stdin"
            + (" (format binary)" if binary else "")
        ) as copy:
            if binary:
                copy.set_types([*_COPY_TYPES, "int8"])
            for row in tuples:
                copy.write_row(row)
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.execute("drop table bench_copy")
    conn.commit()
    return elapsed


def parallel_extract(
    base: Settings, config: GeneratorConfig, batch_size: int, consumers: int, expected: int
) -> dict:
    """The same entries in a stream and database of their own, read by ``consumers``
    ``analytics extract`` processes of one consumer group at once (docs/scaling.md)."""
    settings, admin_url = bench_database(base, "extract")
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=120)
    try:
        push_to_stream(client, settings.stream, config)
        with psycopg.connect(settings.database_url) as conn:
            ensure_raw_schema(conn)
            checkpoint(conn)
        env = {**os.environ, **settings.environ()}
        analytics = str(Path(sys.executable).parent / "analytics")
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [analytics, "extract", "--batch-size", str(batch_size), "--consumer", f"c{n}"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for n in range(consumers)
        ]
        reports = [json.loads(process.communicate()[0]) for process in processes]
        seconds = time.perf_counter() - started
        with psycopg.connect(settings.database_url) as conn:
            loaded = conn.execute("select count(*) from raw.events").fetchone()[0]
        # every event loaded once, whichever consumer read it
        assert loaded == expected, (loaded, expected)
        print(f"{consumers} consumers: {loaded:,} events in {seconds:.1f}s")
        return {
            "seconds": round(seconds, 2),
            "events_per_second": round(loaded / seconds),
            "entries_per_consumer": [report["entries"] for report in reports],
        }
    finally:
        client.delete(settings.stream)
        drop_bench_database(settings, admin_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--consumers", type=int, default=2, help="extract processes in one consumer group"
    )
    args = parser.parse_args()

    base = load_settings()
    settings, admin_url = bench_database(base, "extract")
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=120)
    try:
        scale = scale_for(args.events, args.days)
        # the first day pinned: both runs push the same entries even across midnight
        first_day = GeneratorConfig(days=args.days).first_day()
        config = GeneratorConfig(days=args.days, seed=11, scale=scale, start=first_day)
        print(f"generating about {args.events:,} entries ({args.days} days, scale {scale:.2f})")
        started = time.perf_counter()
        truth = push_to_stream(client, settings.stream, config).to_dict()
        entries = client.xlen(settings.stream)
        print(f"pushed {entries:,} entries in {time.perf_counter() - started:.0f}s")

        # The baseline's rows: the stream's accepted entries, validated before timing.
        now = datetime.now(UTC)
        rows: dict[str, ValidEvent] = {}
        last = "-"
        while True:
            chunk = client.xrange(settings.stream, min=last, max="+", count=50_000)
            if last != "-":
                chunk = chunk[1:]
            if not chunk:
                break
            for entry_id, fields in chunk:
                verdict = validate_entry(entry_id.decode(), fields, now)
                if isinstance(verdict, ValidEvent) and verdict.event_id not in rows:
                    rows[verdict.event_id] = verdict
            last = chunk[-1][0].decode()
        accepted = list(rows.values())

        with psycopg.connect(settings.database_url) as conn:
            ensure_raw_schema(conn)
            copy_seconds = baseline_copy(conn, accepted, binary=False)
            binary_seconds = baseline_copy(conn, accepted, binary=True)
        print(
            f"baseline COPY of {len(accepted):,} rows: {copy_seconds:.1f}s (text), "
            f"{binary_seconds:.1f}s (binary)"
        )

        with psycopg.connect(settings.database_url) as conn:
            checkpoint(conn)
        env = {**os.environ, **settings.environ()}
        analytics = str(Path(sys.executable).parent / "analytics")
        started = time.perf_counter()
        completed = subprocess.run(
            [analytics, "extract", "--batch-size", str(args.batch_size), "--consumer", "bench"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        extract_seconds = time.perf_counter() - started
        report = json.loads(completed.stdout)
        peak_rss_mb = report["peak_rss_mb"]
        with psycopg.connect(settings.database_url) as conn:
            loaded = conn.execute("select count(*) from raw.events").fetchone()[0]
            pg_version = conn.execute("show server_version").fetchone()[0]
            pg_settings = postgres_settings(conn)
        assert loaded == truth["accepted_events"] == len(accepted), (
            loaded,
            truth["accepted_events"],
            len(accepted),
        )
        parallel = parallel_extract(base, config, args.batch_size, args.consumers, loaded)
        result = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": describe(pg_version, client.info("server")["redis_version"], pg_settings),
            "entries": entries,
            "accepted_events": loaded,
            "batch_size": args.batch_size,
            "baseline_copy_seconds": round(copy_seconds, 2),
            "baseline_events_per_second": round(len(accepted) / copy_seconds),
            "extract_seconds": round(extract_seconds, 2),
            "extract_entries_per_second": round(entries / extract_seconds),
            "extract_events_per_second": round(loaded / extract_seconds),
            "ratio_extract_to_copy": round(copy_seconds / extract_seconds, 3),
            "baseline_binary_copy_seconds": round(binary_seconds, 2),
            "baseline_binary_events_per_second": round(len(accepted) / binary_seconds),
            "ratio_extract_to_binary_copy": round(binary_seconds / extract_seconds, 3),
            "extract_peak_rss_mb": round(peak_rss_mb, 1),
            "extract_report": report,
            f"extract_{args.consumers}_consumers": parallel,
            f"ratio_{args.consumers}_consumers_to_one": round(
                extract_seconds / parallel["seconds"], 3
            ),
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "extract_report"}, indent=2))
        return 0
    finally:
        client.delete(settings.stream)
        drop_bench_database(settings, admin_url)


if __name__ == "__main__":
    sys.exit(main())
