with

events as (
    select * from {{ ref('int_events__modelled') }}
),

web_sessions as (
    select
        event_id,
        session_id
    from {{ ref('int_web_events__sessionised') }}
),

final as (
    select
        events.event_id,
        web_sessions.session_id,
        events.user_key,
        events.contact_key,
        events.event_name,
        events.channel,
        events.page_path,
        events.device_type,
        events.browser,
        events.os,
        events.country_code,
        events.properties,
        events.is_identified,
        events.occurred_at,
        {{ local_date('events.occurred_at') }} as occurred_date
    from events
    left join web_sessions on events.event_id = web_sessions.event_id
)

select * from final
