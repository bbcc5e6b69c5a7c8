"""The refresh job and its hourly schedule."""

from __future__ import annotations

import dagster as dg

REFRESH_JOB_NAME = "refresh"

refresh_job = dg.define_asset_job(
    name=REFRESH_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Extract from Redis, enrich, dbt build (models and their tests, marts into "
    "the build schemas), Great Expectations suites, then publish the marts for BI tools. "
    "Run hourly and by 'analytics refresh'.",
    # One process for the whole run: the refresh lock (a resource) is taken once and held
    # from the first step to the last; the steps run one after another anyway.
    executor_def=dg.in_process_executor,
)

hourly_refresh = dg.ScheduleDefinition(
    name="hourly_refresh",
    job=refresh_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refreshes everything at the top of every hour.",
)
