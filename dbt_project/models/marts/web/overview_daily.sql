-- One row per day (reporting time zone): the Overview page's headline figures.
{{ daily_mart('activity_date') }}

with

sessions as (
    select * from {{ ref('int_web_sessions') }}
    where {{ on_changed_days('started_date') }}
),

events as (
    select * from {{ ref('int_events__modelled') }}
    where {{ on_changed_days(local_date('occurred_at'), 'occurred_at') }}
),

session_days as (
    select
        started_date as activity_date,
        count(*) as sessions,
        count(*) filter (where is_converted) as converted_sessions,
        count(*) filter (where is_bounce) as bounced_sessions,
        count(*) filter (where is_identified) as identified_sessions,
        count(*) filter (where not is_identified) as anonymous_sessions,
        sum(duration_seconds) as total_duration_seconds,
        avg(duration_seconds) as avg_duration_seconds,
        percentile_cont(0.5) within group (order by duration_seconds) as median_duration_seconds
    from sessions
    group by started_date
),

event_days as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        count(distinct user_key) as daily_active_users,
        count(distinct user_key) filter (where channel = 'web') as web_active_users,
        count(distinct user_id) filter (where channel = 'web') as identified_users,
        count(*) filter (where event_name = 'page_view') as page_views
    from events
    group by {{ local_date('occurred_at') }}
),

final as (
    select
        coalesce(session_days.activity_date, event_days.activity_date) as activity_date,
        coalesce(session_days.sessions, 0) as sessions,
        coalesce(session_days.converted_sessions, 0) as converted_sessions,
        coalesce(session_days.bounced_sessions, 0) as bounced_sessions,
        coalesce(session_days.identified_sessions, 0) as identified_sessions,
        coalesce(session_days.anonymous_sessions, 0) as anonymous_sessions,
        coalesce(event_days.identified_users, 0) as identified_users,
        coalesce(event_days.daily_active_users, 0) as daily_active_users,
        coalesce(event_days.web_active_users, 0) as web_active_users,
        coalesce(event_days.page_views, 0) as page_views,
        coalesce(session_days.total_duration_seconds, 0) as total_duration_seconds,
        session_days.avg_duration_seconds,
        session_days.median_duration_seconds,
        coalesce(
            session_days.converted_sessions::numeric / nullif(session_days.sessions, 0), 0
        ) as completion_rate,
        coalesce(
            session_days.bounced_sessions::numeric / nullif(session_days.sessions, 0), 0
        ) as bounce_rate,
        {{ run_stamp() }} as refreshed_load_id
    from session_days
    full outer join event_days on session_days.activity_date = event_days.activity_date
)

select * from final
