-- One row per WhatsApp contact (grain: contact_key): where the number is from, when it
-- was first and last seen on WhatsApp (METRICS.md, People: new contact) and its activity.
-- Incremental: the contacts with an event, message, conversation or wait rewritten since
-- this mart's last run are recomputed from all their rows.
{{ contact_mart('contact_key', [
    {'columns': ['contact_key'], 'unique': true},
    {'columns': ['first_seen_date']},
]) }}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    touched as materialized (
        {{ touched_contacts() }}
    ),

{% endif %}
events as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where
        events.channel = 'whatsapp'
        and events.contact_key is not null
        and {{ in_scope('events.contact_key', 'touched') }}
),

messages as (
    select messages.* from {{ ref('int_whatsapp_messages') }} as messages
    where messages.contact_key is not null and {{ in_scope('messages.contact_key', 'touched') }}
),

conversations as (
    select conversations.* from {{ ref('int_conversations') }} as conversations
    where {{ in_scope('conversations.contact_key', 'touched') }}
),

contacts as (
    select
        contact_key,
        (array_agg(user_key order by occurred_at desc, event_id desc))[1] as user_key,
        bool_or(is_identified) as is_identified,
        (
            array_agg(contact_country_code order by occurred_at, event_id)
            filter (where contact_country_code is not null)
        )[1] as country_code,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from events
    group by contact_key
),

message_counts as (
    select
        contact_key,
        count(*) filter (where direction = 'inbound') as messages_received,
        count(*) filter (where direction = 'outbound') as messages_sent
    from messages
    group by contact_key
),

conversation_counts as (
    select
        contact_key,
        count(*) as conversations
    from conversations
    group by contact_key
),

final as (
    select
        contacts.contact_key,
        contacts.user_key,
        contacts.is_identified,
        coalesce(contacts.country_code, 'unknown') as country_code,
        coalesce(message_counts.messages_received, 0) as messages_received,
        coalesce(message_counts.messages_sent, 0) as messages_sent,
        coalesce(conversation_counts.conversations, 0) as conversations,
        contacts.first_seen_at,
        contacts.last_seen_at,
        {{ local_date('contacts.first_seen_at') }} as first_seen_date,
        {{ run_stamp() }} as refreshed_load_id
    from contacts
    left join message_counts on contacts.contact_key = message_counts.contact_key
    left join conversation_counts on contacts.contact_key = conversation_counts.contact_key
)

select * from final
