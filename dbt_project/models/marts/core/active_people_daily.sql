-- One row per day, channel (and `all`), identified or not, and previous active day: how
-- many people were active that day whose previous active day (on the channel; on any
-- channel for `all`) was that one, or who had none. `is_identified` belongs to the person
-- (their `user_key` is a `userId`), so a filter on it keeps one row per person. The
-- people active in a range are the range's rows whose previous day is before it: a sum
-- over a few hundred rows a week, where user_activity_daily holds a row per person and
-- day (docs/benchmarks.md).
-- Incremental: the changed days are recounted, and the days whose previous active days
-- user_activity_daily's post-hook mended in the same refresh.
{{ daily_mart('activity_date', restamped_in='user_activity_daily') }}

with

person_days as (
    select * from {{ ref('user_activity_daily') }}
    where {{ on_changed_days('activity_date', restamped_in='user_activity_daily') }}
),

by_channel as (
    select
        activity_date,
        channel,
        is_identified,
        previous_active_date,
        count(*) as people
    from person_days
    group by activity_date, channel, is_identified, previous_active_date
),

-- a person active on two channels in a day has one row whose previous day on any channel
-- is before the day (or none): counted once
any_channel as (
    select
        activity_date,
        'all' as channel,
        is_identified,
        previous_active_date_any_channel as previous_active_date,
        count(*) as people
    from person_days
    group by activity_date, is_identified, previous_active_date_any_channel
),

final as (
    select
        counted.*,
        {{ run_stamp() }} as refreshed_load_id
    from (
        select * from by_channel
        union all
        select * from any_channel
    ) as counted
)

select * from final
