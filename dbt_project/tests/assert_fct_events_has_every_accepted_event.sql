-- fct_events has exactly one row per accepted event of staging: none lost, none duplicated
-- by its joins. Fails with both counts when they differ.
with

staged_events as (
    select * from {{ ref('stg_raw__events') }}
),

fct_events as (
    select * from {{ ref('fct_events') }}
),

staged_total as (
    select count(*) as events
    from staged_events
),

fct_total as (
    select count(*) as events
    from fct_events
),

final as (
    select
        staged_total.events as staged_events,
        fct_total.events as fct_events
    from staged_total
    cross join fct_total
    where staged_total.events <> fct_total.events
)

select * from final
