-- user_activity_daily has one row per day, channel and person of fct_events, with its
-- events, whether any of them was identified, and its first and last event. Fails with
-- the rows that differ.
with

user_activity_daily as (
    select * from {{ ref('user_activity_daily') }}
),

fct_events as (
    select * from {{ ref('fct_events') }}
),

from_events as (
    select
        occurred_date as activity_date,
        channel,
        user_key,
        bool_or(is_identified) as is_identified,
        count(*) as events,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at
    from fct_events
    where user_key is not null
    group by occurred_date, channel, user_key
),

final as (
    select
        coalesce(from_events.activity_date, user_activity_daily.activity_date) as activity_date,
        coalesce(from_events.channel, user_activity_daily.channel) as channel,
        coalesce(from_events.user_key, user_activity_daily.user_key) as user_key,
        from_events.events as fct_events_events,
        user_activity_daily.events as user_activity_daily_events
    from from_events
    full outer join user_activity_daily
        on
            from_events.activity_date = user_activity_daily.activity_date
            and from_events.channel = user_activity_daily.channel
            and from_events.user_key = user_activity_daily.user_key
    where
        from_events.user_key is null
        or user_activity_daily.user_key is null
        or from_events.events <> user_activity_daily.events
        or from_events.is_identified <> user_activity_daily.is_identified
        or from_events.first_event_at <> user_activity_daily.first_event_at
        or from_events.last_event_at <> user_activity_daily.last_event_at
)

select * from final
