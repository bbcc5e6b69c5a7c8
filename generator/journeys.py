"""The tax-filing journeys the simulated visitors follow, and METRICS.md's funnel rule.

``JOURNEYS`` is the single definition of the funnel steps: the generator walks visitors
through these pages, its truth counts funnel sessions from them, and the dbt seed
``funnel_steps.csv`` mirrors them (``journey,step_number,step_name,event_name,path_pattern``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# journey -> ordered steps (step_name, event_name, path_pattern). path_pattern is a SQL LIKE
# pattern on properties.path ("" matches any path, even a missing one).
JOURNEYS: dict[str, list[tuple[str, str, str]]] = {
    "MRI": [
        ("Start", "page_view", "/mri/start%"),
        ("Rental details", "page_view", "/mri/details%"),
        ("Review", "page_view", "/mri/review%"),
        ("Submit", "page_view", "/mri/submit%"),
        ("Filed", "session.converted", "/mri/%"),
    ],
    "TOT": [
        ("Start", "page_view", "/tot/start%"),
        ("Turnover details", "page_view", "/tot/details%"),
        ("Payment", "page_view", "/tot/payment%"),
        ("Submit", "page_view", "/tot/submit%"),
        ("Filed", "session.converted", "/tot/%"),
    ],
    "NIL": [
        ("Start", "page_view", "/nil/start%"),
        ("Obligation", "page_view", "/nil/obligation%"),
        ("Submit", "page_view", "/nil/submit%"),
        ("Filed", "session.converted", "/nil/%"),
    ],
}

# Page paths of each journey in the order a visitor walks them (the last is the
# confirmation page, where the SDK fires session.converted).
JOURNEY_PAGES: dict[str, list[str]] = {
    "MRI": ["/mri/start", "/mri/details", "/mri/review", "/mri/submit", "/mri/confirmation"],
    "TOT": ["/tot/start", "/tot/details", "/tot/payment", "/tot/submit", "/tot/confirmation"],
    "NIL": ["/nil/start", "/nil/obligation", "/nil/submit", "/nil/confirmation"],
}


@lru_cache(maxsize=256)
def like_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex equivalent to SQL ``LIKE pattern`` (``%``, ``_``, ``\\`` escape)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def step_matches(step: tuple[str, str, str], name: str, path: object) -> bool:
    """Whether an event (name, properties.path) matches a funnel step."""
    _step_name, event_name, pattern = step
    if name != event_name:
        return False
    if not pattern:
        return True
    return isinstance(path, str) and like_regex(pattern).fullmatch(path) is not None


def steps_reached(
    events: Iterable[tuple[int, str, object]], steps: Sequence[tuple[str, str, str]]
) -> int:
    """How many steps of a journey one session reached (METRICS.md "Funnels").

    ``events`` are the session's (time, name, properties.path). Step k is reached when an
    event matches it at or after the time step k-1 was reached; the earliest such event
    is the time step k is reached.
    """
    ordered = sorted(events, key=lambda event: event[0])
    reached = 0
    since: int | None = None
    for step in steps:
        found: int | None = None
        for ts, name, path in ordered:
            if since is not None and ts < since:
                continue
            if step_matches(step, name, path):
                found = ts
                break
        if found is None:
            break
        reached += 1
        since = found
    return reached


def funnel_seed_csv() -> str:
    """``JOURNEYS`` as the dbt seed ``funnel_steps.csv``
    (``journey,step_number,step_name,event_name,path_pattern``), for the seed to mirror."""
    lines = ["journey,step_number,step_name,event_name,path_pattern"]
    for journey, steps in JOURNEYS.items():
        for number, (step_name, event_name, pattern) in enumerate(steps, start=1):
            lines.append(f"{journey},{number},{step_name},{event_name},{pattern}")
    return "\n".join(lines) + "\n"
