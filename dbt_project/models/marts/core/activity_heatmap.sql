-- Events per channel by day of week and hour (METRICS.md, Activity heatmap): web counts
-- page views, whatsapp counts messages in both directions, ai counts classifications.
-- Summed from activity_hourly (kept up to date day by day), so a refresh adds up a few rows
-- per day of history instead of counting every event again.
with

counted as (
    select
        channel,
        day_of_week,
        hour_of_day,
        sum(events) as events
    from {{ ref('activity_hourly') }}
    group by channel, day_of_week, hour_of_day
),

grid as (
    select
        channels.channel,
        days.day_of_week,
        hours.hour_of_day
    from (values ('web'), ('whatsapp'), ('ai')) as channels (channel)
    cross join generate_series(1, 7) as days (day_of_week)
    cross join generate_series(0, 23) as hours (hour_of_day)
),

final as (
    select
        grid.channel,
        grid.day_of_week,
        grid.hour_of_day,
        coalesce(sum(counted.events), 0)::bigint as events
    from grid
    left join counted
        on
            grid.channel = counted.channel
            and grid.day_of_week = counted.day_of_week
            and grid.hour_of_day = counted.hour_of_day
    group by grid.channel, grid.day_of_week, grid.hour_of_day
)

select * from final
