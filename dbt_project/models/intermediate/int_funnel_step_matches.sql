-- One row per web event and funnel step it matches (dbt_project/seeds/funnel_steps.csv):
-- its event name, its page path when the step sets a pattern, and for session.converted
-- the journey the conversion names.
--
-- Incremental: the rows of the sessions rewritten since the last run (and of every id their
-- events had before) are replaced; a changed seed changes the project's fingerprint, which
-- makes the next refresh a full one.
{{ session_mart([
    {'columns': ['session_id', 'journey', 'step_number', 'occurred_at']},
]) }}
{{ depends_on_changes() }}

with

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

{% if is_incremental() -%}
    -- the sessions to recompute, looked up in the session_id index (macro in_scope):
    -- joined by `in (...)`, a guess of millions of them read the whole table
    touched_sessions as materialized (
        {{ touched_web_sessions() }}
    ),
{%- endif %}

session_events as (
    select session_events.* from {{ ref('int_web_events__sessionised') }} as session_events
    where {{ in_scope('session_events.session_id', 'touched_sessions', 'session_id') }}
),

final as (
    select
        session_events.event_id,
        session_events.session_id,
        funnel_steps.journey,
        funnel_steps.step_number,
        session_events.occurred_at,
        {{ run_stamp() }} as refreshed_load_id
    from session_events
    inner join funnel_steps
        on
            session_events.event_name = funnel_steps.event_name
            and (
                coalesce(funnel_steps.path_pattern, '') = ''
                or session_events.page_path like funnel_steps.path_pattern
            )
            -- a conversion counts for the journey it names (properties.journey), if any
            and (
                session_events.event_name <> 'session.converted'
                or coalesce(session_events.properties ->> 'journey', funnel_steps.journey)
                = funnel_steps.journey
            )
)

select * from final
