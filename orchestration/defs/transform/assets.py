"""The dbt project as Dagster assets: ``dbt build`` runs models and their tests together."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.resources import AnalyticsSettings
from orchestration.lib.dbt_project import dbt_project, prepare_manifest
from orchestration.lib.dbt_translator import translator


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False


@dbt_assets(
    manifest=prepare_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator(),
)
def dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    analytics: AnalyticsSettings,
):
    # dbt's profile reads the warehouse coordinates derived from ANALYTICS_DATABASE_URL.
    os.environ.update(analytics.get().environ())
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    yield from dbt.cli(args, context=context).stream().fetch_row_counts()
