-- One row per day and session duration rounded to the whole second: the sessions of that
-- length and their exact total duration. A range's average is exact and its median (or any
-- percentile) is the one of its sessions' rounded durations, read from a few thousand rows
-- instead of sorting every session of the range (docs/marts.md).
{{ daily_mart('activity_date') }}

with

sessions as (
    select * from {{ ref('int_web_sessions') }}
    where duration_seconds is not null and {{ on_changed_days('started_date') }}
),

final as (
    select
        started_date as activity_date,
        round(duration_seconds)::integer as duration_seconds,
        count(*) as sessions,
        sum(duration_seconds) as total_duration_seconds,
        {{ run_stamp() }} as refreshed_load_id
    from sessions
    group by started_date, round(duration_seconds)::integer
)

select * from final
