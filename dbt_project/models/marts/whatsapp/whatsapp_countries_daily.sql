-- One row per day and contact country (from the phone number's calling code): active and
-- new contacts, messages and conversations started. Active contacts do not add up across
-- days (a contact is active on many); for a range, count dim_whatsapp_contacts or
-- fct_whatsapp_messages.
{%- set parts = ['activity', 'new_contacts', 'message_counts', 'conversation_counts'] %}
{%- set keys = ['activity_date', 'country_code'] %}

{{ daily_mart('activity_date') }}

with

events as (
    select * from {{ ref('int_events__modelled') }}
    where
        channel = 'whatsapp'
        and contact_key is not null
        and {{ on_changed_days(local_date('occurred_at'), 'occurred_at') }}
),

contacts as (
    select * from {{ ref('dim_whatsapp_contacts') }}
),

messages as (
    select * from {{ ref('fct_whatsapp_messages') }}
    where {{ on_changed_days('sent_date') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    where {{ on_changed_days('started_date') }}
),

activity as (
    select
        {{ local_date('events.occurred_at') }} as activity_date,
        contacts.country_code,
        count(distinct events.contact_key) as active_contacts
    from events
    inner join contacts on events.contact_key = contacts.contact_key
    group by {{ local_date('events.occurred_at') }}, contacts.country_code
),

new_contacts as (
    select
        first_seen_date as activity_date,
        country_code,
        count(*) as new_contacts
    from contacts
    where {{ on_changed_days('first_seen_date') }}
    group by first_seen_date, country_code
),

message_counts as (
    select
        messages.sent_date as activity_date,
        coalesce(contacts.country_code, 'unknown') as country_code,
        count(*) filter (where messages.direction = 'inbound') as messages_received,
        count(*) filter (where messages.direction = 'outbound') as messages_sent
    from messages
    -- a message without a (valid) contact counts under `unknown`
    left join contacts on messages.contact_key = contacts.contact_key
    group by messages.sent_date, coalesce(contacts.country_code, 'unknown')
),

conversation_counts as (
    select
        started_date as activity_date,
        country_code,
        count(*) as conversations_started
    from conversations
    group by started_date, country_code
),

country_days as (
    {{ keys_of(parts, keys) }}
),

final as (
    select
        country_days.activity_date,
        country_days.country_code,
        coalesce(activity.active_contacts, 0) as active_contacts,
        coalesce(new_contacts.new_contacts, 0) as new_contacts,
        coalesce(message_counts.messages_received, 0) as messages_received,
        coalesce(message_counts.messages_sent, 0) as messages_sent,
        coalesce(conversation_counts.conversations_started, 0) as conversations_started,
        {{ run_stamp() }} as refreshed_load_id
    from country_days
    {{ left_join_on_keys('country_days', parts, keys) }}
)

select * from final
