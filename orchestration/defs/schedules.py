"""The refresh job and its hourly schedule."""

from __future__ import annotations

import dagster as dg

REFRESH_JOB_NAME = "refresh"

refresh_job = dg.define_asset_job(
    name=REFRESH_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Extract from Redis, then dbt build (models and tests). Run hourly and by "
    "'analytics refresh'.",
)

hourly_refresh = dg.ScheduleDefinition(
    name="hourly_refresh",
    job=refresh_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refreshes everything at the top of every hour.",
)
