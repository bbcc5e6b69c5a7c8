-- Incremental: the conversations of every contact with an event, message, conversation or
-- wait rewritten since this mart's last run replace the contact's rows.
{{ contact_mart('conversation_id', [
    {'columns': ['conversation_id'], 'unique': true},
    {'columns': ['contact_key']},
    {'columns': ['started_date']},
]) }}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    touched as materialized (
        {{ touched_contacts() }}
    ),

{% endif %}
conversations as (
    select conversations.* from {{ ref('int_conversations') }} as conversations
    where {{ in_scope('conversations.contact_key', 'touched') }}
),

events as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where
        events.channel = 'whatsapp'
        and events.contact_key is not null
        and {{ in_scope('events.contact_key', 'touched') }}
),

messages as (
    select messages.* from {{ ref('int_whatsapp_messages') }} as messages
    where {{ in_scope('messages.contact_key', 'touched') }}
),

spans as (
    select
        *,
        coalesce(ended_at, 'infinity'::timestamptz) as span_end_at
    from conversations
),

handoffs as (
    select
        spans.conversation_id,
        min(events.occurred_at) as first_handoff_at,
        (
            array_agg(events.properties ->> 'agentId' order by events.occurred_at desc)
            filter (where nullif(events.properties ->> 'agentId', '') is not null)
        )[1] as last_handoff_agent_id,
        count(*) as handoff_count
    from spans
    inner join events
        on
            spans.contact_key = events.contact_key
            and events.event_name = 'agent.handoff'
            and events.occurred_at between spans.started_at and spans.span_end_at
    group by spans.conversation_id
),

agent_replies as (
    select
        handoffs.conversation_id,
        min(messages.sent_at) as first_agent_message_at
    from handoffs
    inner join spans on handoffs.conversation_id = spans.conversation_id
    inner join messages
        on
            spans.contact_key = messages.contact_key
            and messages.sender_type = 'agent'
            and handoffs.first_handoff_at < messages.sent_at
            and spans.span_end_at >= messages.sent_at
    group by handoffs.conversation_id
),

resolutions as (
    select
        event_id,
        nullif(properties ->> 'agentId', '') as agent_id,
        properties ->> 'durationMinutes' as reported_duration_minutes,
        properties ->> 'messageCount' as reported_message_count,
        nullif(properties ->> 'serviceName', '') as service_name,
        nullif(properties ->> 'journey', '') as journey
    from events
    where event_name = 'chat.resolved'
),

-- A CSAT belongs to the latest conversation of its contact that started before it and
-- ended no more than 24 hours earlier (or is still going).
csat_candidates as (
    select
        events.event_id,
        spans.conversation_id,
        case
            when events.properties ->> 'score' ~ '^[0-9]+$'
                then (events.properties ->> 'score')::integer
        end as score,
        row_number() over (
            partition by events.event_id order by spans.started_at desc
        ) as candidate_rank,
        events.occurred_at
    from events
    inner join spans
        on
            events.contact_key = spans.contact_key
            and events.occurred_at >= spans.started_at
            and (
                spans.ended_at is null
                or events.occurred_at <= spans.ended_at + interval '24 hours'
            )
    where events.event_name = 'csat.submitted'
),

csat as (
    select distinct on (conversation_id)
        conversation_id,
        score,
        occurred_at as csat_submitted_at
    from csat_candidates
    where candidate_rank = 1
    order by conversation_id, occurred_at
),

-- the contact's country, derived once for every WhatsApp mart
contacts as (
    select * from {{ ref('dim_whatsapp_contacts') }}
),

final as (
    select
        conversations.conversation_id,
        conversations.contact_key,
        coalesce(resolutions.agent_id, handoffs.last_handoff_agent_id) as agent_id,
        conversations.status,
        resolutions.service_name,
        resolutions.journey,
        coalesce(contacts.country_code, 'unknown') as country_code,
        conversations.message_count,
        conversations.inbound_count,
        conversations.outbound_count,
        coalesce(handoffs.handoff_count, 0) as handoff_count,
        {{ seconds_between('conversations.first_response_at', 'conversations.started_at') }}
            as first_response_seconds,
        {{ seconds_between('agent_replies.first_agent_message_at', 'handoffs.first_handoff_at') }}
            as agent_first_response_seconds,
        case
            when conversations.status = 'resolved'
                then {{ seconds_between('conversations.ended_at', 'conversations.started_at') }}
        end as resolution_seconds,
        case
            when resolutions.reported_duration_minutes ~ '^[0-9]+(\.[0-9]+)?$'
                then resolutions.reported_duration_minutes::numeric
        end as reported_duration_minutes,
        case
            when
                conversations.status = 'resolved'
                and resolutions.reported_duration_minutes ~ '^[0-9]+(\.[0-9]+)?$'
                then
                    resolutions.reported_duration_minutes::numeric * 60
                    - {{ seconds_between('conversations.ended_at', 'conversations.started_at') }}
        end as reported_duration_difference_seconds,
        csat.score as csat_score,
        handoffs.conversation_id is not null as is_escalated,
        conversations.started_at,
        conversations.first_response_at,
        handoffs.first_handoff_at,
        agent_replies.first_agent_message_at,
        conversations.last_message_at,
        conversations.ended_at,
        csat.csat_submitted_at,
        {{ local_date('conversations.started_at') }} as started_date,
        {{ run_stamp() }} as refreshed_load_id
    from conversations
    left join handoffs on conversations.conversation_id = handoffs.conversation_id
    left join agent_replies on conversations.conversation_id = agent_replies.conversation_id
    left join resolutions on conversations.resolution_event_id = resolutions.event_id
    left join csat on conversations.conversation_id = csat.conversation_id
    left join contacts on conversations.contact_key = contacts.contact_key
)

select * from final
{{ in_day_order('started_date') }}
