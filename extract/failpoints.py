"""Failpoints: named places where the extract can be made to die, for crash-safety tests.

Set ``ANALYTICS_FAILPOINTS`` to a comma-separated list of ``name`` or ``name=N`` (die on the
N-th time the point is reached, default 1). The process then kills itself with SIGKILL at
that point, exactly as an out-of-memory kill or a power cut would stop it. The variable is
read once per process; unset (the normal case) a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import functools
import os
import signal

_ENV = "ANALYTICS_FAILPOINTS"
_hits: dict[str, int] = {}


@functools.cache
def _armed() -> dict[str, int]:
    spec = os.environ.get(_ENV, "")
    armed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition("=")
        armed[name] = int(count) if count else 1
    return armed


def failpoint(name: str) -> None:
    """Die here with SIGKILL when the failpoint ``name`` is armed and its count is reached."""
    armed = _armed()
    if name not in armed:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= armed[name]:
        os.kill(os.getpid(), signal.SIGKILL)
