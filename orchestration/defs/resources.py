"""Resources, configured from the environment only (CONTRACT.md section 2)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib import metadata

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version
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


class AnalyticsDbtCliResource(DbtCliResource):
    """dbt as the refresh runs it, without two costs dagster-dbt pays before each command:

    - it runs ``dbt --version`` to learn the version (a second dbt start-up, which also asks
      PyPI for the latest release): the installed dbt-core's version is read instead;
    - it builds a dbt adapter in this process (loading the project and its macros: 1.5-3 s
      of CPU before dbt starts) for the row counts and column metadata it can fetch; the
      dbt asset reads its own row counts (orchestration/defs/transform/assets.py).
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "analytics": AnalyticsSettings(),
            "refresh_lock": RefreshLockResource(),
            "dbt": AnalyticsDbtCliResource(
                project_dir=dbt_project, dbt_executable=dbt_executable()
            ),
        }
    )
