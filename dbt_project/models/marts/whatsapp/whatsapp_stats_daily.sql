-- One row per day (reporting time zone) with WhatsApp activity: the WhatsApp Analytics
-- headline figures (METRICS.md, WhatsApp messages). A sent message counts on its send day
-- with whatever statuses it has received since; rates are fractions of messages sent.
{{ daily_mart('activity_date') }}

with

messages as (
    select * from {{ ref('fct_whatsapp_messages') }}
    where {{ on_changed_days('sent_date') }}
),

contacts as (
    select * from {{ ref('dim_whatsapp_contacts') }}
    where {{ on_changed_days('first_seen_date') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    where {{ on_changed_days('started_date') }}
),

events as (
    select * from {{ ref('int_events__modelled') }}
    where
        channel = 'whatsapp'
        and {{ on_changed_days(local_date('occurred_at'), 'occurred_at') }}
),

message_days as (
    select
        sent_date as activity_date,
        count(*) filter (where direction = 'inbound') as messages_received,
        count(*) filter (where direction = 'outbound') as messages_sent,
        count(*) filter (where sender_type = 'bot') as messages_sent_bot,
        count(*) filter (where sender_type = 'agent') as messages_sent_agent,
        count(*) filter (where sender_type = 'campaign') as messages_sent_campaign,
        count(*) filter (where direction = 'outbound' and is_delivered) as messages_delivered,
        count(*) filter (where direction = 'outbound' and is_read) as messages_read,
        count(*) filter (where direction = 'outbound' and is_failed) as messages_failed,
        count(*) filter (where direction = 'outbound' and is_replied) as messages_replied
    from messages
    group by sent_date
),

active_days as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        count(distinct contact_key) as active_contacts
    from events
    group by {{ local_date('occurred_at') }}
),

new_contact_days as (
    select
        first_seen_date as activity_date,
        count(*) as new_contacts
    from contacts
    group by first_seen_date
),

conversation_days as (
    select
        started_date as activity_date,
        count(*) as conversations_started
    from conversations
    group by started_date
),

final as (
    select
        active_days.activity_date,
        coalesce(message_days.messages_received, 0) as messages_received,
        coalesce(message_days.messages_sent, 0) as messages_sent,
        coalesce(message_days.messages_sent_bot, 0) as messages_sent_bot,
        coalesce(message_days.messages_sent_agent, 0) as messages_sent_agent,
        coalesce(message_days.messages_sent_campaign, 0) as messages_sent_campaign,
        coalesce(message_days.messages_delivered, 0) as messages_delivered,
        coalesce(message_days.messages_read, 0) as messages_read,
        coalesce(message_days.messages_failed, 0) as messages_failed,
        coalesce(message_days.messages_replied, 0) as messages_replied,
        coalesce(
            message_days.messages_delivered::numeric / nullif(message_days.messages_sent, 0), 0
        ) as delivery_rate,
        coalesce(
            message_days.messages_read::numeric / nullif(message_days.messages_sent, 0), 0
        ) as read_rate,
        coalesce(
            message_days.messages_replied::numeric / nullif(message_days.messages_sent, 0), 0
        ) as reply_rate,
        active_days.active_contacts,
        coalesce(new_contact_days.new_contacts, 0) as new_contacts,
        coalesce(conversation_days.conversations_started, 0) as conversations_started,
        {{ run_stamp() }} as refreshed_load_id
    from active_days
    left join message_days on active_days.activity_date = message_days.activity_date
    left join new_contact_days on active_days.activity_date = new_contact_days.activity_date
    left join conversation_days on active_days.activity_date = conversation_days.activity_date
)

select * from final
