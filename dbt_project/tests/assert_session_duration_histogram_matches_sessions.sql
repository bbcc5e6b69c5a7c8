-- Each day's buckets in session_duration_histogram_daily add up to the fct_sessions that
-- started that day: the buckets cover every duration exactly once. Fails with the days that
-- differ.
{{ config(meta={"dagster": {"ref": {"name": "session_duration_histogram_daily"}}}) }}
with

histogram as (
    select * from {{ ref('session_duration_histogram_daily') }}
),

fct_sessions as (
    select * from {{ ref('fct_sessions') }}
),

histogram_by_day as (
    select
        activity_date,
        sum(sessions) as sessions
    from histogram
    group by activity_date
),

sessions_by_day as (
    select
        started_date as activity_date,
        count(*) as sessions
    from fct_sessions
    group by started_date
),

final as (
    select
        coalesce(histogram_by_day.activity_date, sessions_by_day.activity_date)
            as activity_date,
        histogram_by_day.sessions as histogram_sessions,
        sessions_by_day.sessions as fct_sessions_sessions
    from histogram_by_day
    full outer join sessions_by_day
        on histogram_by_day.activity_date = sessions_by_day.activity_date
    where histogram_by_day.sessions is distinct from sessions_by_day.sessions
)

select * from final
