-- One row per day, responder and response time rounded to the whole second: the answered
-- waits that took that long and their exact total. A range's median and p90, overall and
-- per responder, are read from these counts instead of sorting every wait of the range
-- (docs/marts.md).
{{ daily_mart('activity_date') }}

with

waits as (
    select * from {{ ref('fct_whatsapp_response_times') }}
    where is_answered and {{ on_changed_days('wait_date') }}
),

final as (
    select
        wait_date as activity_date,
        responder,
        round(response_seconds)::integer as response_seconds,
        count(*) as waits,
        sum(response_seconds) as total_response_seconds,
        {{ run_stamp() }} as refreshed_load_id
    from waits
    group by wait_date, responder, round(response_seconds)::integer
)

select * from final
