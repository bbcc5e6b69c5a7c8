-- One row per session, journey and funnel step the session reached (METRICS.md, Funnels):
-- step k is reached by an event matching it at or after the time step k-1 was reached.
--
-- Incremental: the sessions rewritten since the last run (and every id their events had
-- before) are recomputed.
{{ session_mart([
    {'columns': ['session_id']},
]) }}
{{ depends_on_changes() }}

with recursive

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

first_steps as (
    select step_matches.* from {{ ref('int_funnel_step_matches') }} as step_matches
    where
        step_matches.step_number = 1
        and {{ in_scope('step_matches.session_id', 'touched_sessions', 'session_id') }}
),

reached (session_id, journey, step_number, reached_at) as (
    select
        session_id,
        journey,
        step_number,
        min(occurred_at)
    from first_steps
    group by session_id, journey, step_number
    union all
    select
        reached.session_id,
        reached.journey,
        next_step.step_number,
        next_step.reached_at
    from reached
    -- Read the table itself, not a CTE, so each look-up uses its index.
    cross join lateral (
        select
            step_matches.step_number,
            step_matches.occurred_at as reached_at
        from {{ ref('int_funnel_step_matches') }} as step_matches
        where
            step_matches.session_id = reached.session_id
            and step_matches.journey = reached.journey
            and step_matches.step_number = reached.step_number + 1
            and step_matches.occurred_at >= reached.reached_at
        order by step_matches.occurred_at
        limit 1
    ) as next_step
),

final as (
    select
        reached.session_id,
        reached.journey,
        reached.step_number,
        funnel_steps.step_name,
        reached.reached_at,
        {{ run_stamp() }} as refreshed_load_id
    from reached
    inner join funnel_steps
        on
            reached.journey = funnel_steps.journey
            and reached.step_number = funnel_steps.step_number
)

select * from final
