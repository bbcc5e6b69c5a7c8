-- Every journey of seeds/funnel_steps.csv numbers its steps 1, 2, 3, ... without gaps or
-- repeats: funnels follow step k-1 to step k, so a gap would silently end the journey.
-- Fails with the journeys whose numbering is broken.
with

configured_steps as (
    select * from {{ ref('funnel_steps') }}
),

journeys as (
    select
        journey,
        count(*) as steps,
        count(distinct step_number) as distinct_steps,
        min(step_number) as first_step,
        max(step_number) as last_step
    from configured_steps
    group by journey
),

final as (
    select *
    from journeys
    where
        first_step <> 1
        or last_step <> steps
        or distinct_steps <> steps
)

select * from final
