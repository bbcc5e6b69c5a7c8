-- One row per day (a conversation counts on its start day) and service channel (the
-- `serviceName` of the conversation's chat.resolved): how the channel's resolved chats went.
{{ daily_mart('activity_date') }}

with

resolved as (
    select * from {{ ref('fct_conversations') }}
    where status = 'resolved' and {{ on_changed_days('started_date') }}
),

final as (
    select
        started_date as activity_date,
        coalesce(service_name, 'unknown') as service_name,
        count(*) as chats_resolved,
        count(*) filter (where is_escalated) as chats_escalated,
        avg(first_response_seconds) as avg_first_response_seconds,
        avg(resolution_seconds) as avg_resolution_seconds,
        percentile_cont(0.5) within group (order by resolution_seconds)
            as median_resolution_seconds,
        count(csat_score) as csat_responses,
        avg(csat_score) as csat_avg,
        avg(case when csat_score >= 4 then 1.0 when csat_score is not null then 0.0 end)
            as csat_pct,
        {{ run_stamp() }} as refreshed_load_id
    from resolved
    group by started_date, coalesce(service_name, 'unknown')
)

select * from final
