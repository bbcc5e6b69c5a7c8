-- One row per AI answer generation (`ai.generation`), with its latency and token counts.
with

generations as (
    select * from {{ ref('int_events__identified') }}
    where channel = 'ai' and event_name = 'ai.generation'
),

final as (
    select
        event_id,
        contact_key,
        coalesce(nullif(properties ->> 'model', ''), 'unknown') as model,
        case
            when jsonb_typeof(properties -> 'latencyMs') = 'number'
                then (properties ->> 'latencyMs')::numeric
        end as latency_ms,
        case
            when jsonb_typeof(properties -> 'inputTokens') = 'number'
                then (properties ->> 'inputTokens')::numeric
        end as input_tokens,
        case
            when jsonb_typeof(properties -> 'outputTokens') = 'number'
                then (properties ->> 'outputTokens')::numeric
        end as output_tokens,
        occurred_at as generated_at,
        {{ local_date('occurred_at') }} as generated_date
    from generations
)

select * from final
