-- One row per session and journey whose first funnel step the session reached: how far it
-- got, so BI tools can count funnels for any date range or segment.
--
-- Incremental: the sessions rewritten since this mart's last run (and every id their events
-- had before) are recomputed.
{{ session_mart([
    {'columns': ['session_id']},
    {'columns': ['journey', 'started_date']},
]) }}
{{ depends_on_changes() }}

with

{% if is_incremental() -%}
    -- the sessions to recompute, looked up in the session_id index (macro in_scope):
    -- joined by `in (...)`, a guess of millions of them read the whole table
    touched_sessions as materialized (
        {{ touched_web_sessions() }}
    ),
{%- endif %}

steps_reached as (
    select steps_reached.* from {{ ref('int_funnel_sessions__steps') }} as steps_reached
    where {{ in_scope('steps_reached.session_id', 'touched_sessions', 'session_id') }}
),

-- only the sessions of steps_reached are joined: the same look-up, so that the join does
-- not read every session
sessions as (
    select sessions.* from {{ ref('int_web_sessions') }} as sessions
    where {{ in_scope('sessions.session_id', 'touched_sessions', 'session_id') }}
),

journey_lengths as (
    select
        journey,
        max(step_number) as step_count
    from {{ ref('funnel_steps') }}
    group by journey
),

per_session as (
    select
        session_id,
        journey,
        max(step_number) as last_step_reached,
        min(reached_at) as first_step_at,
        max(reached_at) as last_step_at
    from steps_reached
    group by session_id, journey
),

final as (
    select
        per_session.session_id,
        per_session.journey,
        sessions.user_key,
        sessions.device_type,
        sessions.browser,
        sessions.os,
        sessions.country,
        per_session.last_step_reached,
        journey_lengths.step_count,
        {{ seconds_between('per_session.last_step_at', 'per_session.first_step_at') }}
            as seconds_first_to_last_step,
        per_session.last_step_reached = journey_lengths.step_count as is_completed,
        per_session.first_step_at,
        per_session.last_step_at,
        sessions.started_date,
        {{ run_stamp() }} as refreshed_load_id
    from per_session
    inner join sessions on per_session.session_id = sessions.session_id
    inner join journey_lengths on per_session.journey = journey_lengths.journey
)

select * from final
{{ in_day_order('started_date') }}
