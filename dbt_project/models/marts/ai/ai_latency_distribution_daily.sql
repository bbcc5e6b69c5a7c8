-- One row per day, kind (`classification`, `generation`), model and latency to three
-- significant digits (whole milliseconds below a second, tens of milliseconds below ten
-- seconds...): the requests that took that long and their exact total. A range's p50, p90
-- and p99 per model are read from these counts instead of sorting every request of the
-- range (docs/marts.md), within 0.5 % of the exact ones. (Whole milliseconds gave four
-- times the rows of a week, and a query twice as slow, at 10 M events.)
{{ daily_mart('activity_date') }}

with

requests as (
    {{ ai_requests_on_changed_days() }}
),

final as (
    select
        activity_date,
        kind,
        model,
        {{ three_significant_digits('latency_ms') }} as latency_ms,
        count(*) as requests,
        sum(latency_ms) as total_latency_ms,
        {{ run_stamp() }} as refreshed_load_id
    from requests
    group by activity_date, kind, model, {{ three_significant_digits('latency_ms') }}
)

select * from final
