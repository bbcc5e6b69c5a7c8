-- One row per day, model and error type: AI errors and the error rate (METRICS.md, AI:
-- errors ÷ (classifications + generations + errors)) against all requests to that model on
-- that day.
{{ daily_mart('activity_date') }}

with

errors as (
    select * from {{ ref('fct_ai_errors') }}
    where {{ on_changed_days('errored_date') }}
),

stats as (
    select * from {{ ref('ai_stats_daily') }}
    where {{ on_changed_days('activity_date') }}
),

final as (
    select
        errors.errored_date as activity_date,
        errors.model,
        errors.error_type,
        count(*) as errors,
        stats.classifications + stats.generations + stats.errors as requests,
        count(*)::numeric / (stats.classifications + stats.generations + stats.errors)
            as error_rate,
        avg(errors.latency_ms) as avg_latency_ms,
        {{ run_stamp() }} as refreshed_load_id
    from errors
    inner join stats
        on errors.errored_date = stats.activity_date and errors.model = stats.model
    group by
        errors.errored_date,
        errors.model,
        errors.error_type,
        stats.classifications,
        stats.generations,
        stats.errors
)

select * from final
