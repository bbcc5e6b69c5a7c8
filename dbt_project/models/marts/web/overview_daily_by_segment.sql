-- One row per day, segment (device_type, browser, os, country) and value: the Overview
-- figures broken down, in a long format BI tools filter and pivot.
{{ daily_mart('activity_date') }}

with

sessions as (
    select * from {{ ref('int_web_sessions') }}
    where {{ on_changed_days('started_date') }}
),

segmented as (
    {% for segment in ['device_type', 'browser', 'os', 'country'] %}
        select
            started_date,
            '{{ segment }}' as segment,
            {{ segment }} as segment_value,
            user_key,
            user_id,
            duration_seconds,
            is_converted,
            is_bounce,
            is_identified
        from sessions
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        started_date as activity_date,
        segment,
        segment_value,
        count(*) as sessions,
        count(distinct user_key) as users,
        count(distinct user_id) as identified_users,
        count(*) filter (where is_converted) as converted_sessions,
        count(*) filter (where is_bounce) as bounced_sessions,
        count(*) filter (where is_identified) as identified_sessions,
        sum(duration_seconds) as total_duration_seconds,
        avg(duration_seconds) as avg_duration_seconds,
        percentile_cont(0.5) within group (order by duration_seconds) as median_duration_seconds,
        count(*) filter (where is_converted)::numeric / count(*) as completion_rate,
        count(*) filter (where is_bounce)::numeric / count(*) as bounce_rate,
        {{ run_stamp() }} as refreshed_load_id
    from segmented
    group by started_date, segment, segment_value
)

select * from final
