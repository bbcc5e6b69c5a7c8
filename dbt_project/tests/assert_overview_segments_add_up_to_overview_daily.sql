-- For every day and segment of overview_daily_by_segment, sessions and converted and bounced
-- sessions add up to overview_daily's. Fails with the day, segment and the differing counts.
{{ config(meta={"dagster": {"ref": {"name": "overview_daily_by_segment"}}}) }}
with

overview_daily as (
    select * from {{ ref('overview_daily') }}
),

overview_daily_by_segment as (
    select * from {{ ref('overview_daily_by_segment') }}
),

segment_totals as (
    select
        activity_date,
        segment,
        sum(sessions) as sessions,
        sum(converted_sessions) as converted_sessions,
        sum(bounced_sessions) as bounced_sessions
    from overview_daily_by_segment
    group by activity_date, segment
),

expected_segments as (
    select
        overview_daily.activity_date,
        segments.segment,
        overview_daily.sessions,
        overview_daily.converted_sessions,
        overview_daily.bounced_sessions
    from overview_daily
    cross join (
        values ('device_type'), ('browser'), ('os'), ('country')
    ) as segments (segment)
    where overview_daily.sessions > 0
),

final as (
    select
        coalesce(expected_segments.activity_date, segment_totals.activity_date)
            as activity_date,
        coalesce(expected_segments.segment, segment_totals.segment) as segment,
        expected_segments.sessions as overview_sessions,
        segment_totals.sessions as segment_sessions,
        expected_segments.converted_sessions as overview_converted_sessions,
        segment_totals.converted_sessions as segment_converted_sessions,
        expected_segments.bounced_sessions as overview_bounced_sessions,
        segment_totals.bounced_sessions as segment_bounced_sessions
    from expected_segments
    full outer join segment_totals
        on
            expected_segments.activity_date = segment_totals.activity_date
            and expected_segments.segment = segment_totals.segment
    where
        expected_segments.sessions is distinct from segment_totals.sessions
        or expected_segments.converted_sessions
        is distinct from segment_totals.converted_sessions
        or expected_segments.bounced_sessions
        is distinct from segment_totals.bounced_sessions
)

select * from final
