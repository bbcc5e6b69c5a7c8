-- The days (reporting time zone) whose daily figures each refresh may have changed, stamped
-- with the refresh's `refreshed_load_id`: a daily mart recomputes the days logged above its
-- own stamp (macro `daily_mart`). Every date a mart reports is the date of an event, so a
-- refresh logs the dates of the events it rewrote; for web sessions (reported on the day
-- they started) every day from one session length before a rewritten event to its day,
-- which holds the start its session has now and any it had before; for WhatsApp contacts
-- whose messages, conversations or waits changed, every day with an event of the contact
-- (their conversations may have opened, closed or merged on any of them); and the day of
-- a classification a rewritten feedback names. A full build logs every day with an event.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['refreshed_load_id']}],
    )
}}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    changed as (
        select {{ local_date('changed.occurred_at') }} as activity_date
        from {{ ref('int_events__modelled') }} as changed
        where {{ changed_since_last_run('changed') }}
        union
        select
            generate_series(
                {{ local_date(
                    '(changed.occurred_at - interval \'' ~ var('session_max_hours') ~ ' hours\')'
                ) }},
                {{ local_date('changed.occurred_at') }},
                interval '1 day'
            )::date as activity_date
        from {{ ref('int_web_events__sessionised') }} as changed
        where {{ changed_since_last_run('changed') }}
        union
        select {{ local_date('events.occurred_at') }} as activity_date
        from {{ ref('int_events__modelled') }} as events
        -- `= any(array(...))`, as in macro in_scope: the contacts' events by the index
        -- (with `in`, the planner guessed many contacts and hashed every event)
        where events.contact_key = any(array({{ touched_contacts() }}))
        union
        -- a feedback changes the accuracy of its classification's day
        select {{ local_date('classifications.occurred_at') }} as activity_date
        from {{ ref('int_events__modelled') }} as classifications
        where classifications.event_id in (
            select changed.properties ->> 'classificationId'
            from {{ ref('int_events__modelled') }} as changed
            where changed.event_name = 'ai.feedback' and {{ changed_since_last_run('changed') }}
        )
    ),
{% else %}
    changed as (
        select distinct {{ local_date('events.occurred_at') }} as activity_date
        from {{ ref('int_events__modelled') }} as events
    ),
{% endif %}

final as (
    select
        activity_date,
        {{ run_stamp() }} as refreshed_load_id
    from changed
)

select * from final
