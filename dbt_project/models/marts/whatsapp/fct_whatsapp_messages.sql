-- Incremental: the messages rewritten since this mart's last run, and every message of a
-- contact with an event, message, conversation or wait rewritten, replace their rows.
-- (an index alone answers a range's message funnel: docs/benchmarks.md)
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['message_id'], 'unique': true},
            {'columns': ['refreshed_load_id']},
            {'columns': ['sent_date', 'direction', 'is_delivered', 'is_read', 'is_replied']},
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
        select messages.message_id
        from {{ ref('int_whatsapp_messages') }} as messages
        where messages.contact_key in (select touched.contact_key from touched)
        union
        select changed.message_id
        from {{ ref('int_whatsapp_messages') }} as changed
        where {{ changed_since_last_run('changed') }}
    ),

{% endif %}
messages as (
    select messages.* from {{ ref('int_whatsapp_messages') }} as messages
    where {{ in_scope('messages.message_id', 'changed', 'message_id') }}
),

conversations as (
    select conversations.* from {{ ref('int_conversations') }} as conversations
    where {{ in_scope('conversations.contact_key', 'touched') }}
),

final as (
    select
        messages.message_id,
        messages.contact_key,
        conversations.conversation_id,
        messages.direction,
        messages.sender_type,
        messages.agent_id,
        messages.campaign_id,
        coalesce(messages.contact_country_code, 'unknown') as country_code,
        messages.is_replied,
        messages.delivered_at is not null as is_delivered,
        messages.read_at is not null as is_read,
        messages.failed_at is not null as is_failed,
        messages.sent_at,
        messages.delivered_at,
        messages.read_at,
        messages.failed_at,
        {{ local_date('messages.sent_at') }} as sent_date,
        {{ run_stamp() }} as refreshed_load_id
    from messages
    left join conversations
        on
            messages.contact_key = conversations.contact_key
            and messages.sent_at >= conversations.started_at
            and messages.sent_at <= coalesce(conversations.ended_at, conversations.last_message_at)
)

select * from final
{{ in_day_order('sent_date') }}
