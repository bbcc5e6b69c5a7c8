-- METRICS.md message funnel: read <= delivered <= sent for every day and sender type
-- (replied is not a subset of read: a contact may answer a message the phone never
-- reported as read). Fails with the stages that exceed the one before.
with

funnel as (
    select * from {{ ref('whatsapp_message_funnel_daily') }}
),

final as (
    select
        activity_date,
        sender_type,
        stage,
        messages,
        lag(messages) over (
            partition by activity_date, sender_type order by stage_number
        ) as previous_stage_messages
    from funnel
)

select * from final
where stage in ('delivered', 'read') and messages > previous_stage_messages
