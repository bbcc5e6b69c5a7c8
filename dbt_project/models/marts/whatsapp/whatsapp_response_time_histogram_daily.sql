-- One row per day, responder and bucket (METRICS.md response-time buckets): answered waits.
-- Every bucket is present for each day and responder with waits, zero when empty.
{{ daily_mart('activity_date') }}

with

waits as (
    select * from {{ ref('fct_whatsapp_response_times') }}
    where is_answered and {{ on_changed_days('wait_date') }}
),

grid as (
    select
        days.wait_date,
        days.responder,
        buckets.bucket,
        buckets.bucket_order
    from (select distinct
        wait_date,
        responder
    from waits) as days
    cross join {{ bucket_relation('response_time_seconds') }}
),

final as (
    select
        grid.wait_date as activity_date,
        grid.responder,
        grid.bucket,
        grid.bucket_order,
        count(waits.wait_id) as waits,
        {{ run_stamp() }} as refreshed_load_id
    from grid
    left join waits
        on
            grid.wait_date = waits.wait_date
            and grid.responder = waits.responder
            and grid.bucket_order = waits.response_bucket_order
    group by grid.wait_date, grid.responder, grid.bucket, grid.bucket_order
)

select * from final
