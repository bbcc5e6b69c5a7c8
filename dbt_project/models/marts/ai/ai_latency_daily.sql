-- One row per day, kind (`classification`, `generation`) and model: latency p50, p90, p99
-- and mean (METRICS.md, AI: latency). Percentiles do not add up across days: for a range,
-- compute them from fct_ai_classifications and fct_ai_generations.
{{ daily_mart('activity_date') }}

with

requests as (
    select
        'classification' as kind,
        model,
        latency_ms,
        classified_date as activity_date
    from {{ ref('fct_ai_classifications') }}
    where {{ on_changed_days('classified_date') }}
    union all
    select
        'generation' as kind,
        model,
        latency_ms,
        generated_date as activity_date
    from {{ ref('fct_ai_generations') }}
    where {{ on_changed_days('generated_date') }}
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
