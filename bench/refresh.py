"""Benchmark: full and incremental refreshes at scale, dashboard queries, disk per event.

    python bench/refresh.py [--days 30] [--scale 20] [--runs 50]

At ``--scale 20`` and 30 days the generator makes about 10 M stream entries. In one fresh
database of the configured server, one after the other:

1. the period is pushed to a stream of its own, then ``analytics refresh`` (exactly as
   operators run it) extracts and builds everything: the full refresh;
2. a refresh with nothing new builds the second copy of the marts (write-audit-publish
   keeps two); then one more hour of traffic arrives and ``analytics refresh`` runs again:
   the incremental refresh. The period's traffic continues into the next day up to its
   busiest hour (10:00-11:00 in Nairobi): everything delivered before that hour is part of
   the period's load, and the entries delivered within it, late ones and duplicates
   included, are the hour. For comparison with earlier runs, a second incremental refresh
   follows the old definition of an hour: a whole day of traffic at 1/24 of the scale (it
   touches three reporting days where a real hour touches one or two). Then
   ``analytics refresh --full-refresh`` rebuilds the same data: the baseline of both;
3. every SQL example of docs/marts.md (the queries behind the dashboard components),
   filtered to the period's last 7 days, runs ``--runs`` times; the baseline is
   ``select 1`` on the same connection, measured in the same loop;
4. the size of each schema, per million events.

Each refresh reports its steps (time, rows) from the refresh's own summary, and the peak
resident memory of the refresh process, of dbt, and of the largest PostgreSQL backend,
sampled from /proc every 0.2 s. Results go to stdout and bench/results/refresh.json;
docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import (  # noqa: E402
    bench_database,
    describe,
    drop_bench_database,
    postgres_settings,
)
from extract.config import REPO_ROOT, Settings, load_settings  # noqa: E402
from generator import GeneratorConfig, generate, push_to_stream  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "refresh.json"
DOC = REPO_ROOT / "docs" / "marts.md"
_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
_STEP = re.compile(r"^(\S+)\s+(ok|FAILED|skipped)\s+([\d.]+)s\s+(\S+)\s+(\S+)")
# the week docs/marts.md queries, and its placeholders
DOC_FIRST_DAY, DOC_LAST_DAY, DOC_DAY_AFTER = "2026-11-19", "2026-11-25", "2026-11-26"


class PeakMemory(threading.Thread):
    """Peak RSS (MB) of a process and its descendants, and of PostgreSQL backends."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.peaks: dict[str, float] = {}
        self._halt = threading.Event()

    @staticmethod
    def _processes() -> dict[int, tuple[int, str, float]]:
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss = fields.get("VmRSS", "0 kB").split()[0]
            found[int(entry)] = (
                int(fields.get("PPid", "0").strip()),
                fields.get("Name", "").strip(),
                int(rss) / 1024,
            )
        return found

    def run(self) -> None:
        while not self._halt.is_set():
            processes = self._processes()
            tree = {self.root_pid}
            for _ in range(4):  # refresh -> dbt wrapper -> dbt -> helpers
                tree |= {pid for pid, (ppid, _, _) in processes.items() if ppid in tree}
            for pid, (_, name, rss) in processes.items():
                if pid == self.root_pid:
                    group = "refresh process"
                elif pid in tree:
                    group = "dbt" if "dbt" in name else f"child {name}"
                elif name == "postgres":
                    group = "largest postgres backend"
                else:
                    continue
                self.peaks[group] = round(max(self.peaks.get(group, 0.0), rss), 1)
            self._halt.wait(0.2)

    def stop(self) -> dict[str, float]:
        self._halt.set()
        self.join()
        return self.peaks


def refresh(settings: Settings, *args: str) -> dict:
    """``analytics refresh`` as operators run it; its steps and the peak memory."""
    env = {**os.environ, **settings.environ()}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "analytics"), "refresh", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = PeakMemory(process.pid)
    memory.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    peaks = memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"refresh {' '.join(args)} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    steps = {}
    for line in stdout.splitlines():
        match = _STEP.match(line)
        if match:
            name, _, step_seconds, rows_in, rows_out = match.groups()
            steps[name] = {
                "seconds": float(step_seconds),
                "rows_in": rows_in,
                "rows_out": rows_out,
            }
    plan = next((line.split("dbt build: ", 1)[1] for line in stderr.splitlines()
                 if "dbt build: " in line), "")  # fmt: skip
    return {"seconds": round(seconds, 1), "dbt_plan": plan, "steps": steps, "peak_rss_mb": peaks}


def documented_queries(first: datetime.date, conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Every SQL example of docs/marts.md, moved to the 7 days from ``first``, named by the
    section it illustrates; placeholders get a busy session and person of that week."""
    last, after = first + datetime.timedelta(days=6), first + datetime.timedelta(days=7)
    session_id, user_key = conn.execute(
        """
        select session_id, user_key from marts.fct_sessions
        where started_date between %s and %s and user_key is not null
        order by event_count desc limit 1
        """,
        (first, last),
    ).fetchone()
    moved = {
        DOC_FIRST_DAY: first.isoformat(),
        DOC_LAST_DAY: last.isoformat(),
        DOC_DAY_AFTER: after.isoformat(),
        "ses_…": session_id,
        "user-123": user_key,
    }
    queries = []
    heading = ""
    text = DOC.read_text()
    position = 0
    for match in _BLOCK.finditer(text):
        headings = re.findall(r"^###? (.+)$", text[position : match.start()], re.M)
        heading = headings[-1] if headings else heading
        position = match.end()
        for statement in match.group(1).split(";"):
            code = "\n".join(
                line for line in statement.splitlines() if not line.strip().startswith("--")
            ).strip()
            if not code:
                continue
            # in one pass: a week whose first day is the doc's last one stays right
            code = re.sub("|".join(moved), lambda found: moved[found.group()], code)
            queries.append((f"{heading} #{len(queries) + 1}", code))
    return queries


# The busiest hour of the generator's traffic: 10:00-11:00 in Nairobi (UTC+3).
BUSIEST_HOUR_UTC = 7


def split_at_hour(config: GeneratorConfig, hour_utc: int) -> tuple[list[bytes], list[bytes]]:
    """The payloads of a generated day delivered before ``hour_utc`` on its first day, and
    those delivered within that hour. The generator delivers in event-time order except for
    late events and duplicates (delivered later, within the hour they fall in) and malformed
    entries, so the hour starts at the first entry whose timestamp reaches it and ends at
    the first one past it; the rest of the day is not used."""
    day_start = datetime.datetime.combine(config.first_day(), datetime.time(), datetime.UTC)
    hour_start = day_start + datetime.timedelta(hours=hour_utc)
    hour_end = hour_start + datetime.timedelta(hours=1)
    before: list[bytes] = []
    within: list[bytes] = []
    for entry in generate(config):
        # accepted events only: a malformed entry's timestamp may be anything
        occurred = _timestamp(entry.payload) if entry.kind == "event" else None
        if occurred is not None and occurred >= hour_end:
            break
        if within or (occurred is not None and occurred >= hour_start):
            within.append(entry.payload)
        else:
            before.append(entry.payload)
    return before, within


def _timestamp(payload: bytes) -> datetime.datetime | None:
    try:
        occurred = datetime.datetime.fromisoformat(json.loads(payload)["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None  # a malformed entry: it stays where it was delivered
    return occurred if occurred.tzinfo is not None else None


def push_entries(client: redis.Redis, stream: str, payloads: list[bytes]) -> int:
    """XADD each payload as generated entries are (field ``event``); the number pushed."""
    pipe = client.pipeline(transaction=False)
    for number, payload in enumerate(payloads, 1):
        pipe.execute_command("XADD", stream, "*", "event", payload)
        if number % 1000 == 0:
            pipe.execute()
    pipe.execute()
    return len(payloads)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def time_queries(settings: Settings, first: datetime.date, runs: int) -> dict:
    results = {}
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("set jit = off")  # as a BI connection pool would configure it
        queries = [("baseline: select 1", "select 1"), *documented_queries(first, conn)]
        for name, code in queries:
            conn.execute(code).fetchall()  # warm the cache once
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                conn.execute(code).fetchall()
                timings.append((time.perf_counter() - started) * 1000)
            results[name] = {
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(percentile(timings, 0.95), 2),
            }
            print(f"  {results[name]['p95_ms']:8.2f} ms p95  {name}")
    return results


def schema_sizes(settings: Settings, events: int) -> dict:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        rows = conn.execute(
            """
            select n.nspname, sum(pg_total_relation_size(c.oid))
            from pg_class as c
            inner join pg_namespace as n on c.relnamespace = n.oid
            where c.relkind in ('r', 'm') and n.nspname in
                ('raw', 'staging', 'intermediate', 'marts', 'marts_pii',
                 'marts_build', 'marts_pii_build')
            group by n.nspname
            """
        ).fetchall()
    return {
        schema: {
            "mb": round(float(size) / 1e6, 1),
            "mb_per_million_events": round(float(size) / 1e6 / (events / 1e6), 1),
        }
        for schema, size in sorted(rows)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    settings, admin_url = bench_database(load_settings(), "refresh")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        pg_version = admin.execute("show server_version").fetchone()[0]
        pg_settings = postgres_settings(admin)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=300)
    today = datetime.date.today()
    start = today - datetime.timedelta(days=args.days + 2)
    next_day = start + datetime.timedelta(days=args.days)
    try:
        print(f"generating {args.days} days at scale {args.scale} from {start}")
        started = time.perf_counter()
        push_to_stream(
            client,
            settings.stream,
            GeneratorConfig(days=args.days, seed=31, start=start, scale=args.scale),
        )
        before_hour, hour_entries_list = split_at_hour(
            GeneratorConfig(days=1, seed=33, start=next_day, scale=args.scale), BUSIEST_HOUR_UTC
        )
        push_entries(client, settings.stream, before_hour)
        entries = client.xlen(settings.stream)
        generate_seconds = time.perf_counter() - started
        print(f"pushed {entries:,} entries in {generate_seconds:.0f}s")

        print("full refresh (first load)")
        full = refresh(settings)
        with psycopg.connect(settings.database_url) as conn:
            events = conn.execute("select count(*) from raw.events").fetchone()[0]
        print(f"  {full['seconds']}s for {events:,} events")

        # Steady state: an hourly refresh publishes one copy of the marts and keeps the
        # other as its next build. The first load had no second copy yet; this refresh,
        # with nothing new, builds it (its marts in full).
        print("second refresh, nothing new (builds the second copy of the marts)")
        settle = refresh(settings)
        print(f"  {settle['seconds']}s ({settle['dbt_plan']})")

        hour_entries = push_entries(client, settings.stream, hour_entries_list)
        print(
            f"one more hour ({next_day} {BUSIEST_HOUR_UTC:02d}:00 UTC): {hour_entries:,} "
            "entries; incremental refresh"
        )
        incremental = refresh(settings)
        print(f"  {incremental['seconds']}s ({incremental['dbt_plan']})")

        old_hour = GeneratorConfig(
            days=1,
            seed=32,
            start=next_day + datetime.timedelta(days=1),
            scale=args.scale / 24,
        )
        before = client.xlen(settings.stream)
        push_to_stream(client, settings.stream, old_hour)
        day_at_1_24_entries = client.xlen(settings.stream) - before
        print(f"a day at 1/24 of the scale: {day_at_1_24_entries:,} entries; incremental refresh")
        incremental_day_at_1_24 = refresh(settings)
        print(f"  {incremental_day_at_1_24['seconds']}s ({incremental_day_at_1_24['dbt_plan']})")
        print("full rebuild of the same data (--full-refresh)")
        rebuild = refresh(settings, "--full-refresh")
        print(f"  {rebuild['seconds']}s")
        with psycopg.connect(settings.database_url) as conn:
            events = conn.execute("select count(*) from raw.events").fetchone()[0]

        first_day = start + datetime.timedelta(days=args.days - 7)
        print(f"dashboard queries, {args.runs} runs each, {first_day} + 7 days")
        queries = time_queries(settings, first_day, args.runs)
        sizes = schema_sizes(settings, events)
    finally:
        client.delete(settings.stream)
        if not args.keep:
            drop_bench_database(settings, admin_url)

    baseline = queries.pop("baseline: select 1")
    slowest = max(queries.items(), key=lambda item: item[1]["p95_ms"])
    results = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": describe(pg_version, client.info().get("redis_version"), pg_settings),
        "days": args.days,
        "scale": args.scale,
        "stream_entries": entries,
        "events": events,
        "generate_seconds": round(generate_seconds, 1),
        "hour_entries": hour_entries,
        "full_refresh_first_load": full,
        "second_refresh_nothing_new": settle,
        "incremental_refresh_one_hour": incremental,
        "day_at_1_24_entries": day_at_1_24_entries,
        "incremental_refresh_day_at_1_24": incremental_day_at_1_24,
        "full_rebuild_same_data": rebuild,
        "ratio_incremental_to_full_rebuild": round(incremental["seconds"] / rebuild["seconds"], 3),
        "ratio_day_at_1_24_to_full_rebuild": round(
            incremental_day_at_1_24["seconds"] / rebuild["seconds"], 3
        ),
        "query_baseline_select_1": baseline,
        "queries": queries,
        "queries_over_100ms_p95": sorted(
            name for name, timing in queries.items() if timing["p95_ms"] >= 100
        ),
        "slowest_query": {"name": slowest[0], **slowest[1]},
        "schema_sizes": sizes,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "queries"}, indent=2))
    print(f"results: {RESULTS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
