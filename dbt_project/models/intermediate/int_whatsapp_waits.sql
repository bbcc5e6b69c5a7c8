-- One row per response wait (METRICS.md, WhatsApp messages: response time). Per contact, a
-- wait starts at an inbound message whose previous message was outbound (or that has none),
-- or at an inbound message that opens a conversation; further inbound messages of a burst
-- join the wait. It ends at the contact's next outbound message, whoever sent it; without
-- one it is unanswered.
--
-- Incremental: the waits of every contact whose messages or conversations were rewritten
-- since the last run are recomputed and replace the contact's rows.
{{
    config(
        materialized='incremental',
        unique_key='contact_key',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['wait_id'], 'unique': true},
            {'columns': ['contact_key']},
            {'columns': ['refreshed_load_id']},
        ],
    )
}}

with

{% if is_incremental() %}
    touched_contacts as materialized (
        select changed.contact_key
        from {{ ref('int_whatsapp_messages') }} as changed
        where changed.contact_key is not null and {{ changed_since_last_run('changed') }}
        union
        select changed.contact_key
        from {{ ref('int_conversations') }} as changed
        where {{ changed_since_last_run('changed') }}
    ),

{% endif %}
messages as (
    select * from {{ ref('int_whatsapp_messages') }}
    where
        contact_key is not null
        and {{ in_scope('contact_key') }}
),

conversations as (
    select * from {{ ref('int_conversations') }}
    where {{ in_scope('contact_key') }}
),

run_stamp as materialized (
    select greatest(
        (select max(stamped.refreshed_load_id) from {{ ref('int_whatsapp_messages') }} as stamped),
        (select max(stamped.refreshed_load_id) from {{ ref('int_conversations') }} as stamped)
    ) as refreshed_load_id
),

ordered as (
    select
        *,
        lag(direction) over by_contact as previous_direction,
        -- the response: the group's only outbound message (none in the group of the last
        -- unanswered messages), taken over the group rather than by joining the outbound
        -- rows back, which the planner, guessing a few rows a side, looped over all pairs
        max(message_id) filter (where direction = 'outbound') over by_group
            as response_message_id,
        max(sender_type) filter (where direction = 'outbound') over by_group as responder,
        max(sent_at) filter (where direction = 'outbound') over by_group as responded_at
    from (
        select
            *,
            -- outbound messages at or after each row: an inbound message shares this number
            -- with the first outbound message after it, and only with that one
            count(*) filter (where direction = 'outbound') over (
                partition by contact_key
                order by sent_at desc, direction desc, message_id desc
                rows between unbounded preceding and current row
            ) as outbound_group
        from messages
    ) as grouped
    window
        by_contact as (partition by contact_key order by sent_at, direction, message_id),
        by_group as (partition by contact_key, outbound_group)
),

wait_starts as (
    select
        ordered.message_id,
        ordered.event_id,
        ordered.contact_key,
        ordered.response_message_id,
        ordered.responder,
        ordered.responded_at,
        ordered.sent_at as waited_from,
        conversations.conversation_id,
        conversations.ended_at as conversation_ended_at
    from ordered
    left join conversations
        on
            ordered.contact_key = conversations.contact_key
            and ordered.sent_at >= conversations.started_at
            and ordered.sent_at <= coalesce(conversations.ended_at, conversations.last_message_at)
    where
        ordered.direction = 'inbound'
        and (
            ordered.previous_direction is distinct from 'inbound'
            -- the message that opened the conversation (keyed by its event)
            or conversations.conversation_id = 'conv_' || md5(ordered.event_id)
        )
),

final as (
    select
        'wait_' || md5(wait_starts.event_id) as wait_id,
        wait_starts.message_id as first_message_id,
        wait_starts.contact_key,
        wait_starts.conversation_id,
        wait_starts.response_message_id,
        wait_starts.responder,
        wait_starts.waited_from,
        wait_starts.responded_at,
        {{ seconds_between('wait_starts.responded_at', 'wait_starts.waited_from') }}
            as response_seconds,
        wait_starts.responded_at is not null
        and (
            wait_starts.conversation_ended_at is null
            or wait_starts.responded_at <= wait_starts.conversation_ended_at
        ) as is_answered_in_conversation,
        (select run_stamp.refreshed_load_id from run_stamp) as refreshed_load_id
    from wait_starts
)

select * from final
