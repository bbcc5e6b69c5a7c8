-- One row per day, error type and page: app errors and the sessions they hit.
with

session_events as (
    select * from {{ ref('int_web_events__sessionised') }}
    where event_name = 'app_error'
),

final as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        coalesce(properties ->> 'errorType', 'unknown') as error_type,
        coalesce(page_path, nullif(properties ->> 'path', ''), 'unknown') as path,
        count(*) as errors,
        count(distinct session_id) as sessions
    from session_events
    group by 1, 2, 3
)

select * from final
