"""Resources, configured from the environment only (CONTRACT.md section 2)."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr

from extract.config import Settings, load_settings
from extract.failpoints import failpoint
from orchestration.lib.dbt_project import dbt_executable, dbt_project
from orchestration.lib.refresh_lock import RefreshLock


class AnalyticsSettings(dg.ConfigurableResource):
    """The platform's settings, read from the environment when a run starts."""

    def get(self) -> Settings:
        return load_settings()


class RefreshLockResource(dg.ConfigurableResource):
    """Holds the refresh lock for the whole run (the refresh job runs in one process), so
    that two refreshes never run at once, whoever started them. A run that finds the lock
    taken waits ``wait_seconds``, then fails before touching anything."""

    wait_seconds: float = 0.0
    _lock: RefreshLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run_id if context.dagster_run else None
        self._lock = RefreshLock(load_settings().database_url, run_id)
        self._lock.acquire(self.wait_seconds)
        failpoint("refresh.locked")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "analytics": AnalyticsSettings(),
            "refresh_lock": RefreshLockResource(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        }
    )
