-- Each row of user_activity_daily names the person's previous active day on its channel
-- and their previous row's day in (activity_date, channel) order, looked up here among
-- all of the person's rows (index on user_key, channel, activity_date). Fails with the
-- rows that differ. Checks the rows the last build wrote or mended (all of them after a
-- full build: macro last_written).
with

-- not materialized: read three times, a CTE would be copied whole
user_activity_daily as not materialized (
    select * from {{ ref('user_activity_daily') }}
),

tested_rows as (
    select
        user_activity_daily.activity_date,
        user_activity_daily.channel,
        user_activity_daily.user_key,
        user_activity_daily.previous_active_date,
        user_activity_daily.previous_active_date_any_channel
    from user_activity_daily
    where {{ last_written(ref('user_activity_daily'), 'user_activity_daily') }}
),

final as (
    select
        tested_rows.*,
        on_channel.activity_date as expected_previous_active_date,
        any_channel.activity_date as expected_previous_active_date_any_channel
    from tested_rows
    left join lateral (
        select max(earlier.activity_date) as activity_date
        from user_activity_daily as earlier
        where
            earlier.user_key = tested_rows.user_key
            and earlier.channel = tested_rows.channel
            and earlier.activity_date < tested_rows.activity_date
    ) as on_channel on true
    left join lateral (
        select max(earlier.activity_date) as activity_date
        from user_activity_daily as earlier
        where
            earlier.user_key = tested_rows.user_key
            and (earlier.activity_date, earlier.channel)
            < (tested_rows.activity_date, tested_rows.channel)
    ) as any_channel on true
    where
        tested_rows.previous_active_date is distinct from on_channel.activity_date
        or tested_rows.previous_active_date_any_channel
        is distinct from any_channel.activity_date
)

select * from final
