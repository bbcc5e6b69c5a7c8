-- One row per day (reporting time zone) with waits: response-time figures overall and by
-- responder (METRICS.md: median and p90 beside the mean). Percentiles do not add up across
-- days: for a range, compute them from fct_whatsapp_response_times.
{{ daily_mart('activity_date') }}

with

waits as (
    select * from {{ ref('fct_whatsapp_response_times') }}
    where {{ on_changed_days('wait_date') }}
),

final as (
    select
        count(*) as waits,
        count(*) filter (where is_answered) as answered_waits,
        count(*) filter (where not is_answered) as unanswered_waits,
        avg(response_seconds) as avg_response_seconds,
        percentile_cont(0.5) within group (order by response_seconds) as median_response_seconds,
        percentile_cont(0.9) within group (order by response_seconds) as p90_response_seconds,
        {%- for responder in ['bot', 'agent', 'campaign'] %}
            count(*) filter (where responder = '{{ responder }}') as {{ responder }}_waits,
            avg(response_seconds) filter (
                where responder = '{{ responder }}'
            ) as {{ responder }}_avg_response_seconds,
            percentile_cont(0.5) within group (order by response_seconds) filter (
                where responder = '{{ responder }}'
            ) as {{ responder }}_median_response_seconds,
            percentile_cont(0.9) within group (order by response_seconds) filter (
                where responder = '{{ responder }}'
            ) as {{ responder }}_p90_response_seconds,
        {%- endfor %}
        wait_date as activity_date,
        {{ run_stamp() }} as refreshed_load_id
    from waits
    group by wait_date
)

select * from final
