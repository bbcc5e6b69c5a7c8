-- One row per AI answer generation (`ai.generation`), with its latency and token counts.
-- Incremental: the events rewritten since this mart's last run replace their rows.
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['generated_date']},
        ],
    )
}}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    changed as materialized (
        {{ changed_events() }}
    ),

{% endif %}
generations as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where
        events.channel = 'ai'
        and events.event_name = 'ai.generation'
        and {{ in_scope('events.event_id', 'changed', 'event_id') }}
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
        {{ local_date('occurred_at') }} as generated_date,
        {{ run_stamp() }} as refreshed_load_id
    from generations
)

select * from final
{{ in_day_order('generated_date') }}
