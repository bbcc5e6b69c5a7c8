with

events as (
    select * from {{ ref('int_events__modelled') }}
    where event_name = 'page_view'
),

session_events as (
    select * from {{ ref('int_web_events__sessionised') }}
    where event_name = 'page_view'
),

-- Every page view, also one that carries no identifier and so belongs to no session.
page_views as (
    select
        events.event_id,
        session_events.session_id,
        events.user_key,
        events.page_path as path,
        events.page_title as title,
        events.referrer,
        events.device_type,
        events.occurred_at as viewed_at
    from events
    left join session_events on events.event_id = session_events.event_id
),

ordered as (
    select
        *,
        row_number() over by_session as view_number,
        lead(path) over by_session as next_path,
        lead(viewed_at) over by_session as next_viewed_at,
        count(*) over (partition by session_id) as views_in_session
    from page_views
    window by_session as (partition by session_id order by viewed_at, event_id)
),

final as (
    select
        event_id,
        session_id,
        user_key,
        path,
        title,
        referrer,
        device_type,
        case when session_id is not null then next_path end as next_path,
        case when session_id is not null then view_number end as view_number,
        case
            when session_id is not null
                then {{ seconds_between('next_viewed_at', 'viewed_at') }}
        end as seconds_to_next_view,
        session_id is not null and view_number = 1 as is_entry,
        session_id is not null and view_number = views_in_session as is_exit,
        viewed_at,
        {{ local_date('viewed_at') }} as viewed_date
    from ordered
)

select * from final
