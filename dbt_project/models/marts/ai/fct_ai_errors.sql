-- One row per AI error (METRICS.md, AI: errors).
with

errors as (
    select * from {{ ref('int_events__modelled') }}
    where channel = 'ai' and event_name = 'ai.error'
),

final as (
    select
        event_id,
        contact_key,
        coalesce(nullif(properties ->> 'errorType', ''), 'unknown') as error_type,
        coalesce(nullif(properties ->> 'model', ''), 'unknown') as model,
        {{ json_number('properties', 'latencyMs') }} as latency_ms,
        occurred_at as errored_at,
        {{ local_date('occurred_at') }} as errored_date
    from errors
)

select * from final
