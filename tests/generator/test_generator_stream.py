"""push_to_stream against a real Redis server started by this module."""

from __future__ import annotations

import datetime
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from generator import GeneratorConfig, generate, push_to_stream

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
START = datetime.date(2026, 4, 13)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis]:
    """A private redis-server on a free port, stopped at the end of the module."""
    if not Path(REDIS_SERVER).exists():
        pytest.fail(
            f"{REDIS_SERVER} not found: install redis-server (apt-get install redis-server)"
        )
    directory = tmp_path_factory.mktemp("redis")
    port = _free_port()
    log = (directory / "redis.log").open("wb")
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start; see {directory / 'redis.log'}"
                    ) from None
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_push_writes_every_entry_in_order(redis_client: redis.Redis) -> None:
    config = GeneratorConfig(days=1, seed=6, scale=0.3, start=START)
    calls: list[tuple[int, float]] = []
    truth = push_to_stream(
        redis_client, "test:generator:order", config, progress=lambda n, r: calls.append((n, r))
    )
    assert redis_client.xlen("test:generator:order") == truth.entries_pushed > 0
    stored = redis_client.xrange("test:generator:order")
    expected = [entry.payload for entry in generate(config)]
    assert [fields for _id, fields in stored] == [{b"event": payload} for payload in expected]
    ids = [entry_id for entry_id, _fields in stored]
    assert ids == sorted(ids, key=lambda value: tuple(int(part) for part in value.split(b"-")))
    assert calls and calls[-1][0] == truth.entries_pushed and calls[-1][1] > 0
    expected_truth = generate(config)
    for _entry in expected_truth:
        pass
    assert truth == expected_truth.truth


def test_pipeline_size_does_not_change_the_stream(redis_client: redis.Redis) -> None:
    config = GeneratorConfig(days=1, seed=6, scale=0.05, start=START)
    push_to_stream(redis_client, "test:generator:p1", config, pipeline_size=1)
    push_to_stream(redis_client, "test:generator:p7", config, pipeline_size=7)
    one = [fields for _id, fields in redis_client.xrange("test:generator:p1")]
    seven = [fields for _id, fields in redis_client.xrange("test:generator:p7")]
    assert one == seven and one


def test_progress_is_reported_about_every_50k_entries(redis_client: redis.Redis) -> None:
    config = GeneratorConfig(days=2, seed=2, scale=2.5, start=START)
    calls: list[tuple[int, float]] = []
    truth = push_to_stream(
        redis_client, "test:generator:progress", config, progress=lambda n, r: calls.append((n, r))
    )
    assert truth.entries_pushed > 50_000
    counts = [count for count, _rate in calls]
    assert counts == sorted(counts) and counts[-1] == truth.entries_pushed
    assert len(counts) == truth.entries_pushed // 50_000 + 1
    assert all(abs(count - 50_000 * (i + 1)) < 1000 for i, count in enumerate(counts[:-1]))
    assert all(rate > 0 for _count, rate in calls)
    assert redis_client.xlen("test:generator:progress") == truth.entries_pushed


def test_push_appends_without_trimming(redis_client: redis.Redis) -> None:
    config = GeneratorConfig(days=1, seed=1, scale=0.02, start=START)
    first = push_to_stream(redis_client, "test:generator:append", config)
    second = push_to_stream(redis_client, "test:generator:append", config)
    assert redis_client.xlen("test:generator:append") == first.entries_pushed * 2
    assert first == second


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_invalid_pipeline_size_is_rejected(redis_client: redis.Redis, size: object) -> None:
    config = GeneratorConfig(days=1, scale=0.01, start=START)
    with pytest.raises(ValueError, match="pipeline_size"):
        push_to_stream(redis_client, "test:generator:bad", config, pipeline_size=size)  # type: ignore[arg-type]
    assert redis_client.xlen("test:generator:bad") == 0
