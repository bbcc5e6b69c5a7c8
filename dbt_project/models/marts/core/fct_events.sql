-- Incremental: the events whose row or session the intermediate layer rewrote since this
-- mart's last run replace their rows (macros/incremental.sql). Indexed for the Sessions
-- timeline (session_id) and the Journey page (one person's events over a range).
--
-- The key leads with the event's day (a function of the event: raw.events' primary key
-- fixes its occurred_at), so an hour's new events touch the index's newest pages; keyed
-- by the random event_id alone, each refresh read most of a 564 MB index at 10 M events
-- (docs/benchmarks.md, "Keys that lead with the day").
{{
    config(
        materialized='incremental',
        unique_key=['occurred_date', 'event_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['occurred_date', 'event_id'], 'unique': true},
            {'columns': ['refreshed_load_id']},
            {'columns': ['session_id']},
            {'columns': ['user_key', 'occurred_date']},
        ],
    )
}}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    changed as materialized (
        {{ changed_events() }}
    ),

{% endif %}
events as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where {{ in_scope('events.event_id', 'changed', 'event_id') }}
),

web_sessions as (
    select
        sessionised.event_id,
        sessionised.session_id
    from {{ ref('int_web_events__sessionised') }} as sessionised
    where {{ in_scope('sessionised.event_id', 'changed', 'event_id') }}
),

final as (
    select
        events.event_id,
        web_sessions.session_id,
        events.user_key,
        events.contact_key,
        events.event_name,
        events.channel,
        events.page_path,
        events.device_type,
        events.browser,
        events.os,
        events.country_code,
        events.properties,
        events.is_identified,
        events.occurred_at,
        {{ local_date('events.occurred_at') }} as occurred_date,
        {{ run_stamp() }} as refreshed_load_id
    from events
    left join web_sessions on events.event_id = web_sessions.event_id
)

select * from final
{{ in_day_order('occurred_date') }}
