-- In marts.funnel_steps a step never has more sessions than the step before it (METRICS.md,
-- Funnels: step k is reached only after step k-1). Fails with the offending steps.
with

funnel_steps as (
    select * from {{ ref('mart_funnel_steps') }}
),

with_previous as (
    select
        journey,
        step_number,
        sessions,
        lag(sessions) over (partition by journey order by step_number) as previous_sessions
    from funnel_steps
),

final as (
    select *
    from with_previous
    where sessions > previous_sessions
)

select * from final
