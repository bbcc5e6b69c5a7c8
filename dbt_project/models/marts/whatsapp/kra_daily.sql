-- One row per day, journey and support type (CONTRACT.md: kra_daily; METRICS.md,
-- Conversations): the daily self-serve / assisted report. A conversation counts on its
-- start day; its journey is the one its chat.resolved names, `unknown` otherwise.
{{ daily_mart('activity_date') }}

with

conversations as (
    select * from {{ ref('fct_conversations') }}
    where {{ on_changed_days('started_date') }}
),

classified as (
    select
        *,
        coalesce(journey, 'unknown') as report_journey,
        case when is_escalated then 'assisted' else 'self_serve' end as support_type
    from conversations
),

final as (
    select
        started_date as activity_date,
        report_journey as journey,
        support_type,
        count(*) as chats_started,
        count(*) filter (where status = 'resolved') as chats_resolved,
        count(*) filter (where status = 'dropped') as chats_dropped,
        count(*) filter (where status = 'open') as chats_open,
        count(*) filter (where is_escalated) as chats_escalated,
        count(first_response_seconds) as first_responses,
        sum(first_response_seconds) as total_first_response_seconds,
        avg(first_response_seconds) as avg_first_response_seconds,
        percentile_cont(0.5) within group (order by first_response_seconds)
            as median_first_response_seconds,
        sum(resolution_seconds) as total_resolution_seconds,
        avg(resolution_seconds) as avg_resolution_seconds,
        percentile_cont(0.5) within group (order by resolution_seconds)
            as median_resolution_seconds,
        count(csat_score) as csat_responses,
        sum(csat_score) as csat_score_sum,
        avg(csat_score) as csat_avg,
        avg(case when csat_score >= 4 then 1.0 when csat_score is not null then 0.0 end)
            as csat_pct,
        count(csat_score) filter (where status = 'resolved')::numeric
        / nullif(count(*) filter (where status = 'resolved'), 0) as csat_response_rate,
        count(*) filter (where is_escalated)::numeric / count(*) as escalation_rate,
        {{ run_stamp() }} as refreshed_load_id
    from classified
    group by started_date, report_journey, support_type
)

select * from final
