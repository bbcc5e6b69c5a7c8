-- One row per day, kind (`classification`, `generation`), model and latency to three
-- significant digits (whole milliseconds below a second, tens of milliseconds below ten
-- seconds...): the requests that took that long and their exact total. A range's p50, p90
-- and p99 per model are read from these counts instead of sorting every request of the
-- range (docs/marts.md), within 0.5 % of the exact ones. (Whole milliseconds gave four
-- times the rows of a week, and a query twice as slow, at 10 M events.)
{{ daily_mart('activity_date') }}

with

requests as (
    select
        'classification' as kind,
        model,
        latency_ms,
        classified_date as activity_date
    from {{ ref('fct_ai_classifications') }}
    where latency_ms is not null and {{ on_changed_days('classified_date') }}
    union all
    select
        'generation' as kind,
        model,
        latency_ms,
        generated_date as activity_date
    from {{ ref('fct_ai_generations') }}
    where latency_ms is not null and {{ on_changed_days('generated_date') }}
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
