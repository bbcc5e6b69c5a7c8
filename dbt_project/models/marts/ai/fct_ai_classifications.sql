-- One row per AI intent classification, with its feedback (METRICS.md, AI): correct when
-- the first ai.feedback naming it gives the same intent; null when it has no feedback.
with

events as (
    select * from {{ ref('int_events__modelled') }}
    where channel = 'ai'
),

classifications as (
    select * from events
    where event_name = 'ai.classification'
),

feedback as (
    select distinct on (properties ->> 'classificationId')
        properties ->> 'classificationId' as classification_id,
        properties ->> 'correctIntent' as correct_intent,
        occurred_at as feedback_at
    from events
    where event_name = 'ai.feedback' and properties ->> 'classificationId' is not null
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
        {{ local_date('classifications.occurred_at') }} as classified_date
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
