"""``raw/events``: a thin asset over :mod:`extract.load`."""

import dagster as dg

from extract.load import ExtractOptions, ExtractResult, run_extract
from orchestration.defs.resources import AnalyticsSettings, RefreshLockResource
from orchestration.lib.roles import setup_roles


class ExtractConfig(dg.Config):
    batch_size: int = 10_000
    consumer: str | None = None
    claim_idle_seconds: int = 300
    trim: bool = True


@dg.asset(
    key=["raw", "events"],
    group_name="ingest",
    kinds={"redis", "postgres", "python"},
    description=(
        "Events read from the Redis stream (consumer group `analytics-extract`), validated "
        "against CONTRACT.md section 3 and loaded exactly once into raw.events; rejected "
        "entries go to raw.rejected_events, every batch to raw.load_audit."
    ),
)
def raw_events(
    context: dg.AssetExecutionContext,
    config: ExtractConfig,
    analytics: AnalyticsSettings,
    refresh_lock: RefreshLockResource,  # held for the run: one refresh at a time
) -> dg.MaterializeResult:
    options = ExtractOptions(
        batch_size=config.batch_size,
        claim_idle_ms=config.claim_idle_seconds * 1000,
        trim=config.trim,
        **({"consumer": config.consumer} if config.consumer else {}),
    )

    def report(progress: ExtractResult) -> None:
        context.log.info(
            f"extract: {progress.entries:,} entries read, {progress.loaded:,} loaded, "
            f"{progress.duplicates:,} duplicates, {progress.rejected:,} rejected "
            f"({progress.events_per_second:,.0f} entries/s)"
        )

    settings = analytics.get()
    result = run_extract(settings, options, on_progress=report)
    # the roles and their rights on raw (created on the first run, kept up to date after)
    roles = setup_roles(settings)
    if roles.skipped:
        context.log.warning(f"roles: {roles.skipped}")
    context.log.info(
        f"extract done: {result.entries:,} entries in {result.duration_s:.1f}s; "
        f"{result.loaded:,} loaded, {result.duplicates:,} duplicates, "
        f"{result.replayed:,} replayed, {result.rejected:,} rejected; lag {result.stream_lag:,}"
    )
    return dg.MaterializeResult(
        metadata={
            "entries_read": dg.MetadataValue.int(result.entries),
            "loaded": dg.MetadataValue.int(result.loaded),
            "duplicates": dg.MetadataValue.int(result.duplicates),
            "replayed": dg.MetadataValue.int(result.replayed),
            "rejected": dg.MetadataValue.int(result.rejected),
            "rejected_by_reason": dg.MetadataValue.json(result.rejected_by_reason),
            "claimed_from_dead_consumers": dg.MetadataValue.int(result.claimed),
            "batches": dg.MetadataValue.int(result.batches),
            "first_load_id": result.first_load_id,
            "last_load_id": result.last_load_id,
            "stream_lag": dg.MetadataValue.int(result.stream_lag),
            "events_per_second": dg.MetadataValue.float(round(result.events_per_second, 1)),
            "duration_seconds": dg.MetadataValue.float(round(result.duration_s, 3)),
        }
    )
