-- One row per day, kind (`classification`, `generation`) and model: latency p50, p90, p99
-- and mean (METRICS.md, AI: latency). Percentiles do not add up across days: a range's
-- come from ai_latency_distribution_daily (docs/marts.md).
{{ daily_mart('activity_date') }}

with

requests as (
    {{ ai_requests_on_changed_days(with_latency_only=false) }}
),

final as (
    select
        activity_date,
        kind,
        model,
        count(*) as requests,
        avg(latency_ms) as avg_latency_ms,
        percentile_cont(0.5) within group (order by latency_ms) as p50_latency_ms,
        percentile_cont(0.9) within group (order by latency_ms) as p90_latency_ms,
        percentile_cont(0.99) within group (order by latency_ms) as p99_latency_ms,
        max(latency_ms) as max_latency_ms,
        {{ run_stamp() }} as refreshed_load_id
    from requests
    group by activity_date, kind, model
)

select * from final
