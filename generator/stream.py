"""Pushing a generation into a Redis stream."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from generator.config import GeneratorConfig
from generator.core import generate
from generator.truth import Truth

PROGRESS_EVERY = 50_000


def push_to_stream(
    client: redis.Redis,
    stream: str,
    config: GeneratorConfig,
    *,
    pipeline_size: int = 1000,
    progress: Callable[[int, float], None] | None = None,
) -> Truth:
    """XADD every entry of ``generate(config)`` to ``stream``, in order, and return the truth.

    Each entry has the single field ``event`` holding the payload bytes; no MAXLEN trimming.
    Entries go in pipelines of ``pipeline_size`` commands. ``progress(entries_pushed,
    entries_per_second)`` is called about every 50,000 entries and once at the end.
    """
    if isinstance(pipeline_size, bool) or not isinstance(pipeline_size, int) or pipeline_size < 1:
        raise ValueError(f"pipeline_size={pipeline_size!r} must be a positive integer")
    if not stream:
        raise ValueError("stream must be a non-empty Redis key, e.g. 'analytics:events'")
    generation = generate(config)
    began = time.perf_counter()
    pushed = 0
    next_report = PROGRESS_EVERY
    pipe = client.pipeline(transaction=False)
    queued = 0
    for entry in generation:
        pipe.execute_command("XADD", stream, "*", "event", entry.payload)
        queued += 1
        if queued >= pipeline_size:
            pipe.execute()
            pushed += queued
            queued = 0
            if progress is not None and pushed >= next_report:
                progress(pushed, pushed / max(time.perf_counter() - began, 1e-9))
                next_report = (pushed // PROGRESS_EVERY + 1) * PROGRESS_EVERY
    if queued:
        pipe.execute()
        pushed += queued
    if progress is not None:
        progress(pushed, pushed / max(time.perf_counter() - began, 1e-9))
    truth = generation.truth
    if pushed != truth.entries_pushed:
        raise AssertionError(f"pushed {pushed} entries but the truth counts {truth.entries_pushed}")
    return truth
