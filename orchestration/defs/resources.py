"""Resources, configured from the environment only (CONTRACT.md section 2)."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from extract.config import Settings, load_settings
from orchestration.lib.dbt_project import dbt_executable, dbt_project


class AnalyticsSettings(dg.ConfigurableResource):
    """The platform's settings, read from the environment when a run starts."""

    def get(self) -> Settings:
        return load_settings()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "analytics": AnalyticsSettings(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        }
    )
