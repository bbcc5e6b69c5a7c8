-- One row per day, model and error type: AI errors and the error rate (METRICS.md, AI:
-- errors ÷ (classifications + generations + errors)) against all requests to that model on
-- that day.
with

errors as (
    select * from {{ ref('fct_ai_errors') }}
),

stats as (
    select * from {{ ref('ai_stats_daily') }}
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
        avg(errors.latency_ms) as avg_latency_ms
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
