-- One row per day and hour of day (reporting time zone) of each day with WhatsApp
-- messages, all 24 hours present: message volume in both directions.
{{ daily_mart('activity_date') }}

with

messages as (
    select * from {{ ref('fct_whatsapp_messages') }}
    where {{ on_changed_days('sent_date') }}
),

grid as (
    select
        days.sent_date,
        hours.hour_of_day
    from (select distinct sent_date from messages) as days
    cross join generate_series(0, 23) as hours (hour_of_day)
),

counts as (
    select
        sent_date,
        {{ local_hour('sent_at') }} as hour_of_day,
        count(*) filter (where direction = 'inbound') as messages_received,
        count(*) filter (where direction = 'outbound') as messages_sent
    from messages
    group by sent_date, {{ local_hour('sent_at') }}
),

final as (
    select
        grid.sent_date as activity_date,
        grid.hour_of_day,
        coalesce(counts.messages_received, 0) as messages_received,
        coalesce(counts.messages_sent, 0) as messages_sent,
        coalesce(counts.messages_received + counts.messages_sent, 0) as messages,
        {{ run_stamp() }} as refreshed_load_id
    from grid
    left join counts
        on grid.sent_date = counts.sent_date and grid.hour_of_day = counts.hour_of_day
)

select * from final
