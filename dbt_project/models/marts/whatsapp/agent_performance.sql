-- One row per agent and day (reporting time zone) with activity (METRICS.md, Agents). Each
-- figure counts on the day its activity happened: a resolution on its resolution day, an
-- agent's first response on the day of that reply, a CSAT on the day it was submitted, a
-- message on its send day, an assignment on the day of the conversation's first handoff.
{%- set parts = ['assignments', 'resolutions', 'first_responses', 'ratings', 'sent'] %}
{%- set keys = ['agent_id', 'activity_date'] %}

{{ daily_mart('activity_date') }}

with

conversations as (
    select * from {{ ref('fct_conversations') }}
    where agent_id is not null
),

messages as (
    select * from {{ ref('fct_whatsapp_messages') }}
    where sender_type = 'agent' and agent_id is not null
),

assignments as (
    select
        agent_id,
        {{ local_date('first_handoff_at') }} as activity_date,
        count(*) as chats_assigned
    from conversations
    where
        first_handoff_at is not null
        and {{ on_changed_days(local_date('first_handoff_at')) }}
    group by agent_id, {{ local_date('first_handoff_at') }}
),

resolutions as (
    select
        agent_id,
        {{ local_date('ended_at') }} as activity_date,
        count(*) as chats_resolved,
        avg(resolution_seconds) as avg_resolution_seconds,
        percentile_cont(0.5) within group (order by resolution_seconds)
            as median_resolution_seconds
    from conversations
    where
        status = 'resolved'
        and {{ on_changed_days(local_date('ended_at')) }}
    group by agent_id, {{ local_date('ended_at') }}
),

first_responses as (
    select
        agent_id,
        {{ local_date('first_agent_message_at') }} as activity_date,
        count(*) as first_responses,
        avg(agent_first_response_seconds) as avg_first_response_seconds,
        percentile_cont(0.5) within group (order by agent_first_response_seconds)
            as median_first_response_seconds
    from conversations
    where
        agent_first_response_seconds is not null
        and {{ on_changed_days(local_date('first_agent_message_at')) }}
    group by agent_id, {{ local_date('first_agent_message_at') }}
),

ratings as (
    select
        agent_id,
        {{ local_date('csat_submitted_at') }} as activity_date,
        count(*) as csat_responses,
        avg(csat_score) as csat_avg,
        avg(case when csat_score >= 4 then 1.0 else 0.0 end) as csat_pct
    from conversations
    where
        csat_score is not null
        and {{ on_changed_days(local_date('csat_submitted_at')) }}
    group by agent_id, {{ local_date('csat_submitted_at') }}
),

sent as (
    select
        agent_id,
        sent_date as activity_date,
        count(*) as messages_sent
    from messages
    where {{ on_changed_days('sent_date') }}
    group by agent_id, sent_date
),

agent_days as (
    {{ keys_of(parts, keys) }}
),

final as (
    select
        agent_days.agent_id,
        agent_days.activity_date,
        coalesce(assignments.chats_assigned, 0) as chats_assigned,
        coalesce(resolutions.chats_resolved, 0) as chats_resolved,
        coalesce(first_responses.first_responses, 0) as first_responses,
        first_responses.median_first_response_seconds,
        first_responses.avg_first_response_seconds,
        resolutions.avg_resolution_seconds,
        resolutions.median_resolution_seconds,
        coalesce(ratings.csat_responses, 0) as csat_responses,
        ratings.csat_avg,
        ratings.csat_pct,
        coalesce(sent.messages_sent, 0) as messages_sent,
        {{ run_stamp() }} as refreshed_load_id
    from agent_days
    {{ left_join_on_keys('agent_days', parts, keys) }}
)

select * from final
