-- One row per AI answer generation (`ai.generation`), with its latency and token counts.
with

generations as (
    select * from {{ ref('int_events__modelled') }}
    where channel = 'ai' and event_name = 'ai.generation'
),

final as (
    select
        event_id,
        contact_key,
        coalesce(nullif(properties ->> 'model', ''), 'unknown') as model,
        {{ json_number('properties', 'latencyMs') }} as latency_ms,
        {{ json_number('properties', 'inputTokens') }} as input_tokens,
        {{ json_number('properties', 'outputTokens') }} as output_tokens,
        occurred_at as generated_at,
        {{ local_date('occurred_at') }} as generated_date
    from generations
)

select * from final
