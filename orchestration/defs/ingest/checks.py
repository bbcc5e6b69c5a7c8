"""Freshness of ``raw/events``: a warning, not a gate.

A silent stream (producers down, a wrong stream key) shows here, in the UI, on every run.
It does not block publishing: the marts built from what did arrive are still correct, and
holding them back would hide the events that came in.
"""

import dagster as dg

from orchestration.defs.resources import AnalyticsSettings
from orchestration.lib.quality import raw_events_freshness


@dg.asset_check(
    asset=dg.AssetKey(["raw", "events"]),
    name="freshness",
    blocking=False,
    description="The newest entry of raw.events reached the stream within the last 2 hours "
    "(warning only).",
)
def raw_events_freshness_check(analytics: AnalyticsSettings) -> dg.AssetCheckResult:
    freshness = raw_events_freshness(analytics.get().database_url)
    return dg.AssetCheckResult(
        passed=freshness.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=freshness.description,
        metadata={"newest_received_at": str(freshness.newest) if freshness.newest else "none"},
    )
