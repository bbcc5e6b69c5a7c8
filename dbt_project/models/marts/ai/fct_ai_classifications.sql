-- One row per AI intent classification, with its feedback (METRICS.md, AI): correct when
-- the first ai.feedback naming it gives the same intent; null when it has no feedback.
--
-- Incremental: the classifications rewritten since this mart's last run, those a rewritten
-- feedback names, and those of a contact whose conversations may have changed, replace
-- their rows. The key leads with the classification's day, as fct_events' does.
{{
    config(
        materialized='incremental',
        unique_key=['classified_date', 'event_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['classified_date', 'event_id'], 'unique': true},
            {'columns': ['refreshed_load_id']},
            {'columns': ['conversation_id']},
        ],
    )
}}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    touched as materialized (
        {{ touched_contacts() }}
    ),

    changed as materialized (
        select changed.event_id
        from {{ ref('int_events__modelled') }} as changed
        where changed.channel = 'ai' and {{ changed_since_last_run('changed') }}
        union
        select changed.properties ->> 'classificationId' as event_id
        from {{ ref('int_events__modelled') }} as changed
        where
            changed.channel = 'ai'
            and changed.event_name = 'ai.feedback'
            and {{ changed_since_last_run('changed') }}
        union
        select events.event_id
        from {{ ref('int_events__modelled') }} as events
        where
            events.channel = 'ai'
            and events.contact_key in (select touched.contact_key from touched)
    ),

{% endif %}
events as not materialized (
    select * from {{ ref('int_events__modelled') }}
    where channel = 'ai'
),

classifications as (
    select * from events
    where
        event_name = 'ai.classification'
        and {{ in_scope('event_id', 'changed', 'event_id') }}
),

feedback as (
    select distinct on (properties ->> 'classificationId')
        properties ->> 'classificationId' as classification_id,
        properties ->> 'correctIntent' as correct_intent,
        occurred_at as feedback_at
    from events
    where
        event_name = 'ai.feedback'
        and properties ->> 'classificationId' is not null
        and {{ in_scope("properties ->> 'classificationId'", 'changed', 'event_id') }}
    order by properties ->> 'classificationId', occurred_at, event_id
),

conversations as (
    select * from {{ ref('int_conversations') }}
),

final as (
    select
        classifications.event_id,
        classifications.contact_key,
        conversations.conversation_id,
        classifications.properties ->> 'intent' as intent,
        coalesce(nullif(classifications.properties ->> 'model', ''), 'unknown') as model,
        feedback.correct_intent,
        {{ json_number('classifications.properties', 'confidence') }} as confidence,
        {{ json_number('classifications.properties', 'latencyMs') }} as latency_ms,
        case
            when feedback.classification_id is not null
                then feedback.correct_intent = classifications.properties ->> 'intent'
        end as is_correct,
        classifications.occurred_at as classified_at,
        feedback.feedback_at,
        {{ local_date('classifications.occurred_at') }} as classified_date,
        {{ run_stamp() }} as refreshed_load_id
    from classifications
    left join feedback on classifications.event_id = feedback.classification_id
    -- the contact's conversation going on at the time (METRICS.md: events between open
    -- and close belong to it)
    left join conversations
        on
            classifications.contact_key = conversations.contact_key
            and classifications.occurred_at >= conversations.started_at
            and classifications.occurred_at
            <= coalesce(conversations.ended_at, 'infinity'::timestamptz)
)

select * from final
{{ in_day_order('classified_date') }}
