-- One row per day, error type and page: app errors and the sessions they hit.
{{ daily_mart('activity_date') }}

with

-- found by time in the events (indexed), then their sessions
app_errors as (
    select events.event_id
    from {{ ref('int_events__modelled') }} as events
    where
        events.channel = 'web'
        and events.event_name = 'app_error'
        and {{ on_changed_days(local_date('events.occurred_at'), 'events.occurred_at') }}
),

session_events as (
    select sessionised.*
    from {{ ref('int_web_events__sessionised') }} as sessionised
    inner join app_errors on sessionised.event_id = app_errors.event_id
),

final as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        coalesce(properties ->> 'errorType', 'unknown') as error_type,
        coalesce(page_path, nullif(properties ->> 'path', ''), 'unknown') as path,
        count(*) as errors,
        count(distinct session_id) as sessions,
        {{ run_stamp() }} as refreshed_load_id
    from session_events
    group by
        {{ local_date('occurred_at') }},
        coalesce(properties ->> 'errorType', 'unknown'),
        coalesce(page_path, nullif(properties ->> 'path', ''), 'unknown')
)

select * from final
