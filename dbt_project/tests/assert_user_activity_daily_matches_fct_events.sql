-- user_activity_daily has one row per day, channel and person of fct_events, with its
-- events, whether any of them was identified, and its first and last event. Fails with
-- the rows that differ. Reconciles the days of people either model wrote in the last
-- build (all of them after a full build: macro last_written).
{{ config(meta={"dagster": {"ref": {"name": "user_activity_daily"}}}) }}
with

-- not materialized: read twice, a CTE would be copied whole; inlined, each read keeps
-- its own filters
user_activity_daily as not materialized (
    select * from {{ ref('user_activity_daily') }}
),

fct_events as not materialized (
    select * from {{ ref('fct_events') }}
),

-- the days of people either model wrote
tested_days as (
    select
        user_activity_daily.activity_date,
        user_activity_daily.user_key
    from user_activity_daily
    where {{ last_written(ref('user_activity_daily'), 'user_activity_daily') }}
    union
    select
        fct_events.occurred_date as activity_date,
        fct_events.user_key
    from fct_events
    where {{ last_written(ref('fct_events'), 'fct_events') }} and fct_events.user_key is not null
),

tested_rows as (
    select user_activity_daily.*
    from user_activity_daily
    inner join tested_days
        on
            user_activity_daily.activity_date = tested_days.activity_date
            and user_activity_daily.user_key = tested_days.user_key
),

-- each tested day of a person looks its events up (index on user_key, occurred_date)
from_events as (
    select
        tested_days.activity_date,
        per_channel.channel,
        tested_days.user_key,
        per_channel.is_identified,
        per_channel.events,
        per_channel.first_event_at,
        per_channel.last_event_at
    from tested_days
    cross join lateral (
        select
            fct_events.channel,
            bool_or(fct_events.is_identified) as is_identified,
            count(*) as events,
            min(fct_events.occurred_at) as first_event_at,
            max(fct_events.occurred_at) as last_event_at
        from fct_events
        where
            fct_events.user_key = tested_days.user_key
            and fct_events.occurred_date = tested_days.activity_date
        group by fct_events.channel
    ) as per_channel
),

final as (
    select
        coalesce(from_events.activity_date, user_activity_daily.activity_date) as activity_date,
        coalesce(from_events.channel, user_activity_daily.channel) as channel,
        coalesce(from_events.user_key, user_activity_daily.user_key) as user_key,
        from_events.events as fct_events_events,
        user_activity_daily.events as user_activity_daily_events
    from from_events
    full outer join tested_rows as user_activity_daily
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
