-- Incremental: every page view of a session the intermediate layer rewrote since this
-- mart's last run, and every page view event rewritten, replace their rows. The key leads
-- with the view's day, as fct_events' does (an hour's new views touch the newest pages of
-- the index, which also serves the daily marts' reads by day).
{{
    config(
        materialized='incremental',
        unique_key=['viewed_date', 'event_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['viewed_date', 'event_id'], 'unique': true},
            {'columns': ['refreshed_load_id']},
            {'columns': ['session_id']},
            {'columns': ['path', 'viewed_date', 'session_id']},
        ],
    )
}}
{{ depends_on_changes() }}

with

{% if is_incremental() %}
    touched_sessions as materialized (
        select distinct changed.session_id
        from {{ ref('int_web_events__sessionised') }} as changed
        where {{ changed_since_last_run('changed') }}
    ),

    changed as materialized (
        select changed.event_id
        from {{ ref('int_events__modelled') }} as changed
        where changed.event_name = 'page_view' and {{ changed_since_last_run('changed') }}
        union
        select session_events.event_id
        from {{ ref('int_web_events__sessionised') }} as session_events
        where
            session_events.event_name = 'page_view'
            and session_events.session_id in (
                select touched_sessions.session_id from touched_sessions
            )
    ),

{% endif %}
events as (
    select events.* from {{ ref('int_events__modelled') }} as events
    where
        events.event_name = 'page_view'
        and {{ in_scope('events.event_id', 'changed', 'event_id') }}
),

session_events as (
    select session_events.* from {{ ref('int_web_events__sessionised') }} as session_events
    where
        session_events.event_name = 'page_view'
        and {{ in_scope('session_events.event_id', 'changed', 'event_id') }}
),

-- Every page view, also one that carries no identifier and so belongs to no session.
page_views as (
    select
        events.event_id,
        session_events.session_id,
        events.user_key,
        events.page_path as path,
        events.page_title as title,
        events.referrer,
        events.device_type,
        events.occurred_at as viewed_at
    from events
    left join session_events on events.event_id = session_events.event_id
),

ordered as (
    select
        *,
        row_number() over by_session as view_number,
        lead(path) over by_session as next_path,
        lead(viewed_at) over by_session as next_viewed_at,
        count(*) over (partition by session_id) as views_in_session
    from page_views
    window by_session as (partition by session_id order by viewed_at, event_id)
),

final as (
    select
        event_id,
        session_id,
        user_key,
        path,
        title,
        referrer,
        device_type,
        case when session_id is not null then next_path end as next_path,
        case when session_id is not null then view_number end as view_number,
        case
            when session_id is not null
                then {{ seconds_between('next_viewed_at', 'viewed_at') }}
        end as seconds_to_next_view,
        session_id is not null and view_number = 1 as is_entry,
        session_id is not null and view_number = views_in_session as is_exit,
        viewed_at,
        {{ local_date('viewed_at') }} as viewed_date,
        {{ run_stamp() }} as refreshed_load_id
    from ordered
)

select * from final
{{ in_day_order('viewed_date') }}
