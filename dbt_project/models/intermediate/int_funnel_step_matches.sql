{{ config(indexes=[{'columns': ['session_id', 'journey', 'step_number', 'occurred_at']}]) }}
-- One row per web event and funnel step it matches (dbt_project/seeds/funnel_steps.csv):
-- its event name, its page path when the step sets a pattern, and for session.converted
-- the journey the conversion names.
with

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

session_events as (
    select * from {{ ref('int_web_events__sessionised') }}
),

final as (
    select
        session_events.event_id,
        session_events.session_id,
        funnel_steps.journey,
        funnel_steps.step_number,
        session_events.occurred_at
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
