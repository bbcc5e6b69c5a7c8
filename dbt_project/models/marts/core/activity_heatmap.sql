-- Events per channel by day of week and hour (METRICS.md, Activity heatmap): web counts
-- page views, whatsapp counts messages in both directions, ai counts classifications.
with

events as (
    select * from {{ ref('int_events__modelled') }}
),

counted as (
    select
        channel,
        {{ local_isodow('occurred_at') }} as day_of_week,
        {{ local_hour('occurred_at') }} as hour_of_day
    from events
    where
        (channel = 'web' and event_name = 'page_view')
        or (channel = 'whatsapp' and event_name in ('message.received', 'message.sent'))
        or (channel = 'ai' and event_name = 'ai.classification')
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
        count(counted.channel) as events
    from grid
    left join counted
        on
            grid.channel = counted.channel
            and grid.day_of_week = counted.day_of_week
            and grid.hour_of_day = counted.hour_of_day
    group by grid.channel, grid.day_of_week, grid.hour_of_day
)

select * from final
