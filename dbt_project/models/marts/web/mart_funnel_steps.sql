{{ config(alias='funnel_steps') }}
-- One row per journey and step of dbt_project/seeds/funnel_steps.csv, over all sessions
-- (METRICS.md, Funnels). A journey no session entered still shows its steps, with zero.
with

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

funnel_sessions as (
    select * from {{ ref('fct_funnel_sessions') }}
),

step_counts as (
    select
        funnel_steps.journey,
        funnel_steps.step_number,
        funnel_steps.step_name,
        funnel_steps.event_name,
        funnel_steps.path_pattern,
        count(funnel_sessions.session_id) as sessions
    from funnel_steps
    left join funnel_sessions
        on
            funnel_steps.journey = funnel_sessions.journey
            and funnel_steps.step_number <= funnel_sessions.last_step_reached
    group by
        funnel_steps.journey,
        funnel_steps.step_number,
        funnel_steps.step_name,
        funnel_steps.event_name,
        funnel_steps.path_pattern
),

journey_timing as (
    select
        journey,
        percentile_cont(0.5) within group (
            order by seconds_first_to_last_step
        ) as median_seconds_first_to_last_step
    from funnel_sessions
    where last_step_reached > 1
    group by journey
),

final as (
    select
        step_counts.journey,
        step_counts.step_number,
        step_counts.step_name,
        step_counts.event_name,
        step_counts.path_pattern,
        step_counts.sessions,
        coalesce(
            step_counts.sessions::numeric
            / nullif(first_value(step_counts.sessions) over by_journey, 0),
            0
        ) as pct_of_first,
        case
            when step_counts.step_number = 1 then 1.0
            else coalesce(
                step_counts.sessions::numeric
                / nullif(lag(step_counts.sessions) over by_journey, 0),
                0
            )
        end as pct_of_previous,
        journey_timing.median_seconds_first_to_last_step
    from step_counts
    left join journey_timing on step_counts.journey = journey_timing.journey
    window by_journey as (partition by step_counts.journey order by step_counts.step_number)
)

select * from final
