-- One row per day (reporting time zone), channel and person with an event: the distinct
-- people of a range (Total users, active users of a week or month) are the distinct
-- `user_key`s of its rows, tens of times fewer than its events. Incremental: the changed
-- days are recounted.
--
-- Each row also carries the person's previous active day (on its channel, and on any
-- channel in (day, channel) order): the people of a range are then the range's rows whose
-- previous day is before it, a count from an index where a distinct count sorts every row
-- (docs/benchmarks.md, 10 M events). The recounted days look their previous days up in
-- the days kept; a post-hook mends the later days of the people whose events changed (a
-- late event or a new identify can add or take away one of their earlier days).
-- (indexes: the people of a range; each person's days; Total users, identified web
-- people over a range; the rows a run wrote, for active_people_daily)
{{ daily_mart('activity_date', indexes=[
    {'columns': [
        'activity_date', 'channel', 'previous_active_date', 'previous_active_date_any_channel'
    ]},
    {'columns': ['user_key', 'channel', 'activity_date']},
    {'columns': ['channel', 'is_identified', 'activity_date']},
    {'columns': ['refreshed_load_id']},
], pre_hooks=["{{ remember_touched_people('user_activity_daily__touched') }}"],
    post_hooks=["{{ mend_previous_active_days('user_activity_daily__touched') }}"]) }}

with

events as (
    select * from {{ ref('int_events__modelled') }}
    where
        user_key is not null
        and {{ on_changed_days(local_date('occurred_at'), 'occurred_at') }}
),

days as (
    select
        {{ local_date('occurred_at') }} as activity_date,
        channel,
        user_key,
        bool_or(is_identified) as is_identified,
        count(*) as events,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at
    from events
    group by {{ local_date('occurred_at') }}, channel, user_key
),

-- the previous days among the days counted here (every day in a full build)
previous_counted as (
    select
        days.*,
        {{ previous_active_days('days') }}
    from days
),

final as (
    select
        previous_counted.activity_date,
        previous_counted.channel,
        previous_counted.user_key,
        previous_counted.is_identified,
        previous_counted.events,
        previous_counted.first_event_at,
        previous_counted.last_event_at,
        {% if is_incremental() -%}
            -- or a kept earlier day, whichever is later (greatest ignores nulls)
            greatest(
                previous_counted.previous_active_date, kept_on_channel.activity_date
            ) as previous_active_date,
            case
                -- an earlier channel the same day: the day is counted here whole
                when
                    previous_counted.previous_active_date_any_channel
                    = previous_counted.activity_date
                    then previous_counted.activity_date
                else greatest(
                    previous_counted.previous_active_date_any_channel,
                    kept_any_channel.activity_date
                )
            end as previous_active_date_any_channel,
        {%- else -%}
            previous_counted.previous_active_date,
            previous_counted.previous_active_date_any_channel,
        {%- endif %}
        {{ run_stamp() }} as refreshed_load_id
    from previous_counted
    {%- if is_incremental() %}
        -- the person's latest kept day before this one (the changed days were deleted by
        -- the pre-hook; index on user_key, channel, activity_date)
        left join lateral (
            select max(kept.activity_date) as activity_date
            from {{ this }} as kept
            where
                kept.user_key = previous_counted.user_key
                and kept.channel = previous_counted.channel
                and kept.activity_date < previous_counted.activity_date
        ) as kept_on_channel on true
        left join lateral (
            select max(kept.activity_date) as activity_date
            from {{ this }} as kept
            where
                kept.user_key = previous_counted.user_key
                and kept.activity_date < previous_counted.activity_date
        ) as kept_any_channel on true
    {%- endif %}
)

select * from final
{{ in_day_order('activity_date') }}
