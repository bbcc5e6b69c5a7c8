"""Audit and publish: Great Expectations suites on the built marts, then the swap.

The checks are blocking: when one fails, the publish step does not run, the run fails, and
BI tools keep reading the marts the last good refresh published.
"""

import dagster as dg
import psycopg

from orchestration.defs.resources import AnalyticsSettings, RefreshLockResource
from orchestration.defs.transform.assets import published_mart_keys
from orchestration.lib.publish import build_schema, publish, row_counts
from orchestration.lib.quality import validate_marts

MART_KEYS = published_mart_keys()
GX_CHECK = "great_expectations"


class QualityConfig(dg.Config):
    # A deliberate large change (a new funnel seed, a purge) moves row counts beyond the
    # band once: run that refresh with this set (analytics refresh --accept-row-counts).
    row_count_band: bool = True


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            GX_CHECK,
            asset=key,
            blocking=True,
            description="Great Expectations suite (orchestration/lib/quality.py): row count "
            "against the published mart, distributions and ranges, on the built table.",
        )
        for key in MART_KEYS
    ],
    name="great_expectations_suites",
)
def great_expectations_suites(
    context: dg.AssetCheckExecutionContext,
    config: QualityConfig,
    analytics: AnalyticsSettings,
    refresh_lock: RefreshLockResource,  # held for the run: one refresh at a time
):
    settings = analytics.get()
    by_schema: dict[str, list[str]] = {}
    for key in MART_KEYS:
        by_schema.setdefault(key.path[0], []).append(key.path[1])
    for schema, tables in by_schema.items():
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            previous = row_counts(conn, schema)
        results = validate_marts(
            settings.database_url,
            build_schema(schema),
            tables,
            previous,
            row_count_band_enabled=config.row_count_band,
        )
        for table, result in results.items():
            if not result.passed:
                context.log.error(f"check failed: {result.summary()}")
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey([schema, table]),
                check_name=GX_CHECK,
                passed=result.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                description=result.summary(),
                metadata={
                    "row_count": result.row_count,
                    "published_row_count": result.previous_row_count
                    if result.previous_row_count is not None
                    else -1,
                    "expectations_evaluated": result.evaluated,
                    "failures": dg.MetadataValue.json(result.failures),
                    "skipped_too_few_rows": dg.MetadataValue.json(result.skipped),
                },
            )


@dg.asset(
    key=["publish", "marts"],
    group_name="publish",
    deps=MART_KEYS,
    kinds={"postgres"},
    description="Swaps the built and checked marts in for BI tools, all schemas in one "
    "transaction (write-audit-publish); runs only when every blocking check passed.",
)
def publish_marts(
    context: dg.AssetExecutionContext,
    analytics: AnalyticsSettings,
    refresh_lock: RefreshLockResource,  # held for the run: one refresh at a time
) -> dg.MaterializeResult:
    expected = {f"{key.path[0]}.{key.path[1]}" for key in MART_KEYS}
    result = publish(analytics.get().database_url, expected)
    still_read = ", ".join(result.left_for_later)
    context.log.info(
        f"published {len(result.tables)} marts ({sum(result.tables.values()):,} rows);"
        f" dropped {len(result.dropped)} replaced schema(s)"
        + (f"; {still_read} still being read, dropped next time" if still_read else "")
    )
    return dg.MaterializeResult(
        metadata={
            "marts": len(result.tables),
            "rows": sum(result.tables.values()),
            "row_counts": dg.MetadataValue.json(result.tables),
            "replaced_schemas_still_read": dg.MetadataValue.json(result.left_for_later),
        }
    )
