with

events as (
    select * from {{ ref('int_events__modelled') }}
    where user_key is not null
),

people as (
    select
        user_key,
        max(user_id) as user_id,
        count(*) as event_count,
        count(*) filter (where channel = 'web') as web_event_count,
        count(*) filter (where channel = 'whatsapp') as whatsapp_event_count,
        bool_or(channel = 'web') as has_web,
        bool_or(channel = 'whatsapp') as has_whatsapp,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from events
    group by user_key
),

final as (
    select
        user_key,
        user_id,
        event_count,
        web_event_count,
        whatsapp_event_count,
        user_id is not null as is_identified,
        has_web,
        has_whatsapp,
        has_web and has_whatsapp as is_cross_channel,
        first_seen_at,
        last_seen_at,
        {{ local_date('first_seen_at') }} as first_seen_date
    from people
)

select * from final
