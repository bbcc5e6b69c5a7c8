-- A session reaches step k of a journey only when it reached step k-1, no earlier than that
-- step (METRICS.md, Funnels). Fails with the steps reached out of sequence, among the
-- sessions the last build wrote (macro last_written).
with

-- not materialized: read twice, a CTE would be copied whole; inlined, the previous step
-- of each tested row is an index look-up
steps_reached as not materialized (
    select * from {{ ref('int_funnel_sessions__steps') }}
),

final as (
    select
        steps_reached.session_id,
        steps_reached.journey,
        steps_reached.step_number,
        steps_reached.reached_at,
        previous_steps.reached_at as previous_step_reached_at
    from steps_reached
    left join steps_reached as previous_steps
        on
            steps_reached.session_id = previous_steps.session_id
            and steps_reached.journey = previous_steps.journey
            and steps_reached.step_number - 1 = previous_steps.step_number
    where
        {{ last_written(ref('int_funnel_sessions__steps'), 'steps_reached') }}
        and steps_reached.step_number > 1
        and (
            previous_steps.session_id is null
            or previous_steps.reached_at > steps_reached.reached_at
        )
)

select * from final
