-- One row per day (reporting time zone), channel and person with an event: the distinct
-- people of a range (Total users, active users of a week or month) are the distinct
-- `user_key`s of its rows, tens of times fewer than its events. Incremental: the changed
-- days are recounted.
-- (the indexes serve Total users, identified web people over a range, and the active
-- people of a range by channel, from the index alone: docs/benchmarks.md)
{{ daily_mart('activity_date', indexes=[
    {'columns': ['channel', 'is_identified', 'activity_date']},
    {'columns': ['activity_date', 'channel', 'user_key']},
]) }}

with

events as (
    select * from {{ ref('int_events__modelled') }}
    where
        user_key is not null
        and {{ on_changed_days(local_date('occurred_at'), 'occurred_at') }}
),

final as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        channel,
        user_key,
        bool_or(is_identified) as is_identified,
        count(*) as events,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        {{ run_stamp() }} as refreshed_load_id
    from events
    group by {{ local_date('occurred_at') }}, channel, user_key
)

select * from final
