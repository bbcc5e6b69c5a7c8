"""Events too late for an incremental refresh: a warning, not a gate.

METRICS.md (Events): an event loaded more than ``late_arrival_days`` before its channel's
watermark is kept, counted here, and left out of the marts until the next full refresh.
The marts published without it are correct for every other event; the warning says how
many wait and what brings them in.
"""

import dagster as dg
import psycopg

from orchestration.defs.resources import AnalyticsSettings

TOO_LATE_SQL = """
select count(*), min(occurred_at), max(occurred_at)
from intermediate.int_events__identified
where is_too_late
"""


def too_late_events(database_url: str) -> tuple[int, str | None, str | None]:
    """(events waiting for a full refresh, oldest and newest occurred_at)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        count, oldest, newest = conn.execute(TOO_LATE_SQL).fetchone()
    return count, (str(oldest) if oldest else None), (str(newest) if newest else None)


@dg.asset_check(
    asset=dg.AssetKey(["intermediate", "int_events__identified"]),
    name="too_late_events",
    blocking=False,
    description="Events an incremental refresh loaded more than late_arrival_days before "
    "their channel's watermark: kept, left out of the marts until the next full refresh "
    "(warning only).",
)
def too_late_events_check(analytics: AnalyticsSettings) -> dg.AssetCheckResult:
    count, oldest, newest = too_late_events(analytics.get().database_url)
    description = (
        "no event waits for a full refresh"
        if count == 0
        else f"{count:,} events arrived too late for an incremental refresh (occurred "
        f"{oldest} .. {newest}); they are kept in raw.events and modelled by the next "
        "`analytics refresh --full-refresh`"
    )
    return dg.AssetCheckResult(
        passed=count == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={"too_late_events": count},
    )
