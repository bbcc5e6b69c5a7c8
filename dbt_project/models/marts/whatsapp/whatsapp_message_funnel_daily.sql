-- One row per day, sender type and funnel stage (METRICS.md: the message funnel sent ->
-- delivered -> read -> replied): sent messages of that day that reached the stage, and
-- their share of the sent. Counts add up across days and sender types; recompute the
-- share from the sums.
{{ daily_mart('activity_date') }}

with

sent as (
    select * from {{ ref('fct_whatsapp_messages') }}
    where direction = 'outbound' and {{ on_changed_days('sent_date') }}
),

stages as (
    select *
    from (
        values
        (1, 'sent'),
        (2, 'delivered'),
        (3, 'read'),
        (4, 'replied')
    ) as stage (stage_number, stage)
),

counts as (
    select
        sent_date,
        sender_type,
        count(*) as sent,
        count(*) filter (where is_delivered) as delivered,
        count(*) filter (where is_read) as read,
        count(*) filter (where is_replied) as replied
    from sent
    group by sent_date, sender_type
),

final as (
    select
        counts.sent_date as activity_date,
        counts.sender_type,
        stages.stage_number,
        stages.stage,
        case stages.stage
            when 'sent' then counts.sent
            when 'delivered' then counts.delivered
            when 'read' then counts.read
            when 'replied' then counts.replied
        end as messages,
        case stages.stage
            when 'sent' then 1.0
            when 'delivered' then counts.delivered::numeric / counts.sent
            when 'read' then counts.read::numeric / counts.sent
            when 'replied' then counts.replied::numeric / counts.sent
        end as pct_of_sent,
        {{ run_stamp() }} as refreshed_load_id
    from counts
    cross join stages
)

select * from final
