with

messages as (
    select * from {{ ref('int_whatsapp_messages') }}
),

conversations as (
    select * from {{ ref('int_conversations') }}
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
        {{ local_date('messages.sent_at') }} as sent_date
    from messages
    left join conversations
        on
            messages.contact_key = conversations.contact_key
            and messages.sent_at >= conversations.started_at
            and messages.sent_at <= coalesce(conversations.ended_at, conversations.last_message_at)
)

select * from final
