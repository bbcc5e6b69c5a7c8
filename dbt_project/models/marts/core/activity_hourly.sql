-- One row per day, hour (reporting time zone) and channel with activity: what the activity
-- heatmap counts (METRICS.md, Activity heatmap: web page views, WhatsApp messages in both
-- directions, AI classifications). `activity_heatmap` adds up all days; a dashboard adds up
-- a range's. Incremental: the changed days are recounted.
{{ daily_mart('activity_date') }}

with

events as (
    select * from {{ ref('int_events__modelled') }}
    where
        (
            (channel = 'web' and event_name = 'page_view')
            or (channel = 'whatsapp' and event_name in ('message.received', 'message.sent'))
            or (channel = 'ai' and event_name = 'ai.classification')
        )
        and {{ on_changed_days(local_date('occurred_at'), 'occurred_at') }}
),

final as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        {{ local_hour('occurred_at') }} as hour_of_day,
        channel,
        {{ local_isodow('occurred_at') }} as day_of_week,
        count(*) as events,
        {{ run_stamp() }} as refreshed_load_id
    from events
    group by
        {{ local_date('occurred_at') }},
        {{ local_hour('occurred_at') }},
        channel,
        {{ local_isodow('occurred_at') }}
)

select * from final
