"""The dbt project as Dagster assets: ``dbt build`` runs models and their tests together."""

import os
import shutil

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.resources import AnalyticsSettings, RefreshLockResource
from orchestration.lib.dbt_project import dbt_project, prepare_manifest
from orchestration.lib.dbt_translator import translator
from orchestration.lib.publish import PUBLISHED_SCHEMAS, drop_build_schemas


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
    refresh_lock: RefreshLockResource,  # held for the run: one refresh at a time
):
    settings = analytics.get()
    # dbt's profile reads the warehouse coordinates derived from ANALYTICS_DATABASE_URL.
    os.environ.update(settings.environ())
    # The marts are built where BI tools cannot see them (write-audit-publish); start from
    # empty build schemas so nothing an earlier failed run left there can be published.
    drop_build_schemas(settings.database_url)
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    try:
        yield from invocation.stream().fetch_row_counts()
        if not invocation.is_successful():
            raise DbtBuildError(_failures(invocation.get_artifact("run_results.json")))
    finally:
        # Each run gets its own target folder (a copy of the manifest and every compiled
        # file, ~20 MB); the hourly schedule would otherwise fill the disk with them.
        shutil.rmtree(invocation.target_path, ignore_errors=True)


def published_mart_keys() -> list[dg.AssetKey]:
    """The dbt assets BI tools read once published: every model of marts and marts_pii."""
    return sorted(
        (key for key in dbt_models.keys if key.path[0] in PUBLISHED_SCHEMAS),
        key=lambda key: key.to_user_string(),
    )


class DbtBuildError(RuntimeError):
    """dbt build failed; the message names the failed nodes and dbt's own first line."""


_FAILED = {"error", "fail", "runtime error"}


def _failures(run_results: dict) -> str:
    failed = [
        f"{result['unique_id'].split('.')[-1]} ({result['status']}: "
        f"{(result.get('message') or '').strip().splitlines()[0] if result.get('message') else ''})"
        for result in run_results.get("results", [])
        if result.get("status") in _FAILED
    ]
    if not failed:
        return "dbt build failed before running any node; see the run's dbt log"
    shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
    return f"dbt build failed: {shown}"
