-- Each day's sessions in overview_daily equal the fct_sessions that started that day (so
-- the sum over any range equals the count of fct_sessions). Fails with the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "overview_daily"}}}) }}
with

overview_daily as (
    select * from {{ ref('overview_daily') }}
),

fct_sessions as (
    select * from {{ ref('fct_sessions') }}
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
        coalesce(overview_daily.activity_date, sessions_by_day.activity_date) as activity_date,
        overview_daily.sessions as overview_sessions,
        sessions_by_day.sessions as fct_sessions_sessions
    from overview_daily
    full outer join sessions_by_day
        on overview_daily.activity_date = sessions_by_day.activity_date
    where coalesce(overview_daily.sessions, 0) <> coalesce(sessions_by_day.sessions, 0)
)

select * from final
