-- One row per AI error (METRICS.md, AI: errors).
-- Incremental: the events rewritten since this mart's last run replace their rows.
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['errored_date']},
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
errors as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where
        events.channel = 'ai'
        and events.event_name = 'ai.error'
        and {{ in_scope('events.event_id', 'changed', 'event_id') }}
),

final as (
    select
        event_id,
        contact_key,
        coalesce(nullif(properties ->> 'errorType', ''), 'unknown') as error_type,
        coalesce(nullif(properties ->> 'model', ''), 'unknown') as model,
        {{ json_number('properties', 'latencyMs') }} as latency_ms,
        occurred_at as errored_at,
        {{ local_date('occurred_at') }} as errored_date,
        {{ run_stamp() }} as refreshed_load_id
    from errors
)

select * from final
