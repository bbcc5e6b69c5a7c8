with

session_events as (
    select * from {{ ref('int_web_events__sessionised') }}
),

page_views as (
    select
        event_id,
        session_id,
        user_key,
        page_path as path,
        page_title as title,
        referrer,
        device_type,
        occurred_at as viewed_at,
        row_number() over by_session as view_number,
        lead(page_path) over by_session as next_path,
        lead(occurred_at) over by_session as next_viewed_at,
        count(*) over (partition by session_id) as views_in_session
    from session_events
    where event_name = 'page_view'
    window by_session as (partition by session_id order by occurred_at, event_id)
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
        next_path,
        view_number,
        {{ seconds_between('next_viewed_at', 'viewed_at') }} as seconds_to_next_view,
        view_number = 1 as is_entry,
        view_number = views_in_session as is_exit,
        viewed_at,
        {{ local_date('viewed_at') }} as viewed_date
    from page_views
)

select * from final
