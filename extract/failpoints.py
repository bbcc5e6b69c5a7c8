"""Failpoints: named places where a process can be made to die (or pause), for the
crash-safety and fault tests.

Set ``ANALYTICS_FAILPOINTS`` to a comma-separated list of ``name``, ``name=N`` (act on the
N-th time the point is reached, default 1) or ``name=N/sleep=S`` (pause S seconds there
instead, so a test can restart a server at that moment). Without an action the process
kills itself with SIGKILL at that point, exactly as an out-of-memory kill or a power cut
would stop it. The variable is read once per process; unset (the normal case) a failpoint
costs one dictionary lookup.

Points: ``refresh.locked`` (the refresh lock just taken), ``mid_copy``, ``before_commit``,
``after_commit`` (extract), ``enrich.before_commit``, ``enrich.after_commit``,
``dbt.after.<output name>`` (after dbt built a model),
``checks.mart`` (before each mart's Great Expectations suite), ``publish.before_commit``,
``publish.after_commit``.
"""

from __future__ import annotations

import functools
import os
import signal
import time

_ENV = "ANALYTICS_FAILPOINTS"
_hits: dict[str, int] = {}


@functools.cache
def _armed() -> dict[str, tuple[int, float | None]]:
    """name -> (the hit to act on, seconds to sleep or None to die)."""
    spec = os.environ.get(_ENV, "")
    armed: dict[str, tuple[int, float | None]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        point, _, action = item.partition("/")
        name, _, count = point.partition("=")
        sleep = float(action.removeprefix("sleep=")) if action.startswith("sleep=") else None
        armed[name] = (int(count) if count else 1, sleep)
    return armed


def failpoint(name: str) -> None:
    """Act here when the failpoint ``name`` is armed and its count is reached: die with
    SIGKILL, or sleep when the point says so."""
    armed = _armed()
    if name not in armed:
        return
    _hits[name] = _hits.get(name, 0) + 1
    hit, sleep = armed[name]
    if _hits[name] == hit if sleep is not None else _hits[name] >= hit:
        if sleep is not None:
            time.sleep(sleep)
        else:
            os.kill(os.getpid(), signal.SIGKILL)
