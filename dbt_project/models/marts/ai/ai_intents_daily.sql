-- One row per day and classified intent (METRICS.md, AI: top intents): classifications and
-- their confidence on the day they were made, and the outcome of the conversations the
-- intent occurred in, each conversation counted once per intent, on the day of its first
-- classification with that intent (so conversations add up across days).
{{ daily_mart('activity_date') }}

with

classifications as (
    select * from {{ ref('fct_ai_classifications') }}
    where {{ on_changed_days('classified_date') }}
),

-- every classification of the conversations classified on those days: a conversation
-- counts on the day of its first classification with an intent
conversation_classifications as (
    select all_classifications.* from {{ ref('fct_ai_classifications') }} as all_classifications
    {% if is_incremental() -%}
        where all_classifications.conversation_id in (
            select classifications.conversation_id from classifications
        )
    {%- endif %}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
),

intent_days as (
    select
        classified_date as activity_date,
        coalesce(intent, 'unknown') as intent,
        count(*) as classifications,
        avg(confidence) as avg_confidence,
        count(is_correct) as classifications_with_feedback,
        count(*) filter (where is_correct) as correct_classifications
    from classifications
    group by classified_date, coalesce(intent, 'unknown')
),

intent_conversations as (
    select
        conversation_id,
        coalesce(intent, 'unknown') as intent,
        {{ local_date('min(classified_at)') }} as activity_date
    from conversation_classifications
    where conversation_id is not null
    group by conversation_id, coalesce(intent, 'unknown')
),

outcomes as (
    select
        intent_conversations.activity_date,
        intent_conversations.intent,
        count(*) as conversations,
        count(*) filter (where conversations.status = 'resolved') as conversations_resolved,
        count(*) filter (where conversations.status = 'dropped') as conversations_dropped,
        count(*) filter (where conversations.status = 'open') as conversations_open,
        count(*) filter (where conversations.is_escalated) as conversations_escalated,
        count(conversations.csat_score) as csat_responses,
        avg(conversations.csat_score) as csat_avg
    from intent_conversations
    inner join conversations
        on intent_conversations.conversation_id = conversations.conversation_id
    group by intent_conversations.activity_date, intent_conversations.intent
),

final as (
    select
        intent_days.activity_date,
        intent_days.intent,
        intent_days.classifications,
        intent_days.avg_confidence,
        intent_days.classifications_with_feedback,
        intent_days.correct_classifications,
        coalesce(outcomes.conversations, 0) as conversations,
        coalesce(outcomes.conversations_resolved, 0) as conversations_resolved,
        coalesce(outcomes.conversations_dropped, 0) as conversations_dropped,
        coalesce(outcomes.conversations_open, 0) as conversations_open,
        coalesce(outcomes.conversations_escalated, 0) as conversations_escalated,
        coalesce(outcomes.csat_responses, 0) as csat_responses,
        outcomes.csat_avg,
        {{ run_stamp() }} as refreshed_load_id
    from intent_days
    left join outcomes
        on
            intent_days.activity_date = outcomes.activity_date
            and intent_days.intent = outcomes.intent
)

select * from final
