-- One row per WhatsApp message (METRICS.md, WhatsApp messages): inbound `message.received`
-- and outbound `message.sent`, each sent message paired with its delivery statuses. Statuses
-- may arrive out of order and more than once: the earliest of each kind counts, read implies
-- delivered, and nothing downgrades.
--
-- Incremental: every message of a contact with a WhatsApp event rewritten since the last
-- run (and of the contact of a message whose status changed) is recomputed from all that
-- contact's events, and replaces its row by message_id.
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['message_id'], 'unique': true},
            {'columns': ['contact_key', 'sent_at']},
            {'columns': ['refreshed_load_id']},
        ],
    )
}}

with

-- not materialized: read three times in an incremental run, it would be by default, and
-- the whole channel with it, where each reader's condition finds its few rows in an index
all_events as not materialized (
    select * from {{ ref('int_events__modelled') }}
    where channel = 'whatsapp'
),

-- stamps the rows this run writes (what the models downstream take as changed)
run_stamp as materialized (
    select {{ run_stamp() }} as refreshed_load_id
),

{% if is_incremental() %}
    changed as materialized (
        select
            all_events.contact_key,
            all_events.properties ->> 'messageId' as message_id
        from all_events
        where {{ changed_since_last_run('all_events') }}
    ),

    touched_contacts as materialized (
        select changed.contact_key from changed
        union
        select previous.contact_key
        from {{ this }} as previous
        where previous.message_id = any(array(select changed.message_id from changed))
    ),

    events as (
        select all_events.*
        from all_events
        -- `= any(array(...))`, as in macro in_scope: the contacts' events by the index
        where
            all_events.contact_key = any(
                array(select touched_contacts.contact_key from touched_contacts)
            )
        union all
        select all_events.*
        from all_events
        where
            all_events.contact_key is null
            and exists (
                select touched_contacts.contact_key
                from touched_contacts
                where touched_contacts.contact_key is null
            )
    ),

{% else %}
    events as (
        select * from all_events
    ),

{% endif %}

messages as (
    select distinct on (properties ->> 'messageId')
        properties ->> 'messageId' as message_id,
        event_id,
        contact_key,
        contact_country_code,
        case when event_name = 'message.received' then 'inbound' else 'outbound' end as direction,
        case
            when event_name = 'message.received' then 'contact'
            else coalesce(properties ->> 'senderType', 'unknown')
        end as sender_type,
        nullif(properties ->> 'agentId', '') as agent_id,
        nullif(properties ->> 'campaignId', '') as campaign_id,
        occurred_at as sent_at
    from events
    where
        event_name in ('message.received', 'message.sent')
        and properties ->> 'messageId' is not null
    order by properties ->> 'messageId', occurred_at, event_id
),

statuses as (
    select
        properties ->> 'messageId' as message_id,
        min(occurred_at) filter (
            where event_name in ('message.delivered', 'message.read')
        ) as delivered_at,
        min(occurred_at) filter (where event_name = 'message.read') as read_at,
        min(occurred_at) filter (where event_name = 'message.failed') as failed_at
    from events
    where event_name in ('message.delivered', 'message.read', 'message.failed')
    group by properties ->> 'messageId'
),

-- The contact's next inbound message after each message (at equal times inbound sorts
-- first, so it never counts as a reply to an outbound message of the same instant).
next_inbound as (
    select
        message_id,
        -- "all later rows", written as a reversed running frame: a frame that starts at
        -- the partition's first row is computed incrementally, one ending at its last is not
        min(case when direction = 'inbound' then sent_at end) over (
            partition by contact_key
            order by sent_at desc, direction desc, message_id desc
            rows between unbounded preceding and 1 preceding
        ) as next_inbound_at
    from messages
),

final as (
    select
        messages.message_id,
        messages.event_id,
        messages.contact_key,
        messages.contact_country_code,
        messages.direction,
        messages.sender_type,
        messages.agent_id,
        messages.campaign_id,
        case when messages.direction = 'outbound' then statuses.delivered_at end as delivered_at,
        case when messages.direction = 'outbound' then statuses.read_at end as read_at,
        -- failed only when no delivery or read ever came
        case
            when messages.direction = 'outbound' and statuses.delivered_at is null
                then statuses.failed_at
        end as failed_at,
        -- replied: the contact wrote within 24 hours after the sent message
        case
            when messages.direction = 'outbound'
                then coalesce(
                    next_inbound.next_inbound_at <= messages.sent_at + interval '24 hours', false
                )
        end as is_replied,
        messages.sent_at,
        (select run_stamp.refreshed_load_id from run_stamp) as refreshed_load_id
    from messages
    left join statuses on messages.message_id = statuses.message_id
    left join next_inbound on messages.message_id = next_inbound.message_id
)

select * from final
