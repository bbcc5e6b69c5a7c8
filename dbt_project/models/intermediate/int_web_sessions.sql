-- One row per web session, with what happened in it (METRICS.md, Web sessions).
--
-- Incremental: the sessions int_web_events__sessionised rewrote since this model's last
-- run, and every session id those events had before, are deleted (pre-hook) and rebuilt
-- from all their events; an id no event has any more stays deleted.
{{ session_mart([
    {'columns': ['session_id'], 'unique': true},
    {'columns': ['started_date']},
]) }}

with

{% if is_incremental() -%}
    -- the sessions to recompute, looked up in the session_id index (macro in_scope):
    -- joined by `in (...)`, a guess of millions of them read the whole table
    touched_sessions as materialized (
        {{ touched_web_sessions() }}
    ),
{%- endif %}

session_events as (
    select * from {{ ref('int_web_events__sessionised') }}
    where {{ in_scope('session_id', 'touched_sessions', 'session_id') }}
),

sessions as (
    select
        session_id,
        -- Stitching gives every event of a session the same person; the latest known wins.
        (
            array_agg(user_key order by occurred_at desc, event_id desc)
            filter (where user_key is not null)
        )[1
        ] as user_key,
        (
            array_agg(user_id order by occurred_at desc, event_id desc)
            filter (where user_key is not null)
        )[1
        ] as user_id,
        (
            array_agg(page_path order by occurred_at, event_id)
            filter (where event_name = 'page_view')
        )[1
        ] as entry_page,
        (
            array_agg(page_path order by occurred_at desc, event_id desc)
            filter (where event_name = 'page_view')
        )[1
        ] as exit_page,
        (
            array_agg(device_type order by occurred_at, event_id)
            filter (where device_type <> 'unknown')
        )[1
        ] as device_type,
        (
            array_agg(browser order by occurred_at, event_id)
            filter (where browser <> 'unknown')
        )[1
        ] as browser,
        (
            array_agg(os order by occurred_at, event_id)
            filter (where os <> 'unknown')
        )[1
        ] as os,
        (
            array_agg(country_code order by occurred_at, event_id)
            filter (where country_code is not null)
        )[1
        ] as country_code,
        (
            array_agg(properties ->> 'journey' order by occurred_at, event_id)
            filter (where event_name = 'session.converted')
        )[1
        ] as converted_journey,
        count(*) as event_count,
        count(*) filter (where event_name = 'page_view') as page_view_count,
        count(*) filter (
            where event_name not in ('page_view', 'session.start')
        ) as other_event_count,
        count(*) filter (where event_name = 'app_error') as app_error_count,
        bool_or(event_name = 'session.converted') as is_converted,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        max(load_id) as last_load_id,
        max(refreshed_load_id) as refreshed_load_id
    from session_events
    group by session_id
),

final as (
    select
        session_id,
        user_key,
        user_id,
        entry_page,
        exit_page,
        coalesce(device_type, 'unknown') as device_type,
        coalesce(browser, 'unknown') as browser,
        coalesce(os, 'unknown') as os,
        coalesce(country_code, 'unknown') as country,
        converted_journey,
        event_count,
        page_view_count,
        app_error_count,
        {{ seconds_between('ended_at', 'started_at') }} as duration_seconds,
        is_converted,
        page_view_count = 1 and not is_converted and other_event_count = 0 as is_bounce,
        user_id is not null as is_identified,
        started_at,
        ended_at,
        {{ local_date('started_at') }} as started_date,
        last_load_id,
        refreshed_load_id
    from sessions
)

select * from final
