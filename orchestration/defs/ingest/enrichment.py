"""``raw/event_enrichment``: a thin asset over :mod:`extract.enrich`."""

import dagster as dg

from extract.enrich import EnrichmentResult, run_enrichment
from orchestration.defs.resources import AnalyticsSettings, RefreshLockResource


class EnrichmentConfig(dg.Config):
    full: bool = False  # recompute every event (after ANALYTICS_PII_SALT changes)
    chunk_size: int = 50_000


@dg.asset(
    key=["raw", "event_enrichment"],
    group_name="ingest",
    deps=[dg.AssetKey(["raw", "events"])],
    kinds={"python", "postgres"},
    description=(
        "One row per event of raw.events: device type, browser and OS (explicit context "
        "fields, else ua-parser over the user agent) and pseudonymous phone keys "
        "(contact_key, contact_country, phone_key: E.164 via phonenumbers, HMAC-SHA256 with "
        "ANALYTICS_PII_SALT). Incremental above the highest enriched load_id; config "
        "full=true recomputes everything."
    ),
)
def raw_event_enrichment(
    context: dg.AssetExecutionContext,
    config: EnrichmentConfig,
    analytics: AnalyticsSettings,
    refresh_lock: RefreshLockResource,  # held for the run: one refresh at a time
) -> dg.MaterializeResult:
    def report(progress: EnrichmentResult) -> None:
        context.log.info(
            f"enrich: {progress.events:,} events ({progress.events_per_second:,.0f} events/s)"
        )

    settings = analytics.get()
    if settings.uses_development_salt:
        context.log.warning(
            "ANALYTICS_PII_SALT is unset: contact keys use the development salt; set it "
            "before loading production data (docs/security.md)"
        )
    result = run_enrichment(
        settings, full=config.full, chunk_size=config.chunk_size, on_progress=report
    )
    context.log.info(
        f"enrichment done: {result.events:,} events in {result.duration_s:.1f}s "
        f"({result.events_per_second:,.0f} events/s), {'full' if result.full else 'incremental'}"
        f"; by device type {result.by_device_type}"
    )
    return dg.MaterializeResult(
        metadata={
            "events_enriched": dg.MetadataValue.int(result.events),
            "by_device_type": dg.MetadataValue.json(result.by_device_type),
            "user_agents_parsed": dg.MetadataValue.int(result.user_agents_parsed),
            "full": dg.MetadataValue.bool(result.full),
            "high_water_mark_before": result.high_water_mark_before,
            "first_load_id": result.first_load_id,
            "last_load_id": result.last_load_id,
            "chunks": dg.MetadataValue.int(result.chunks),
            "events_per_second": dg.MetadataValue.float(round(result.events_per_second, 1)),
            "duration_seconds": dg.MetadataValue.float(round(result.duration_s, 3)),
        }
    )
