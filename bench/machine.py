"""A description of the machine a benchmark ran on, for docs/benchmarks.md."""

from __future__ import annotations

import os
import platform


def _first(path: str, prefix: str) -> str:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def describe(pg_version: str | None = None, redis_version: str | None = None) -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    info = {
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "memory_gib": f"{int(mem_kb) / 1024 / 1024:.1f}" if mem_kb.isdigit() else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    if pg_version:
        info["postgresql"] = pg_version
    if redis_version:
        info["redis"] = redis_version
    info["kernel"] = platform.release()
    return info
