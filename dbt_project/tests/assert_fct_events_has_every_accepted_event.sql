-- fct_events has exactly one row per modelled event, and int_events__identified one per
-- accepted event of staging that the enrichment covered: none lost, none duplicated by
-- the joins. Events flagged too late are in int_events__identified but not in fct_events
-- until the next full refresh (METRICS.md, Events). Fails with the counts when they differ.
with

staged_events as (
    select * from {{ ref('stg_raw__events') }}
),

enrichment as (
    select * from {{ ref('stg_raw__event_enrichment') }}
),

identified as (
    select * from {{ ref('int_events__identified') }}
),

fct_events as (
    select * from {{ ref('fct_events') }}
),

staged_total as (
    select count(*) as events
    from staged_events
    where staged_events.load_id <= (select coalesce(max(enrichment.load_id), 0) from enrichment)
),

identified_total as (
    select
        count(*) as events,
        count(*) filter (where not identified.is_too_late) as modelled_events
    from identified
),

fct_total as (
    select count(*) as events
    from fct_events
),

final as (
    select
        staged_total.events as staged_events,
        identified_total.events as identified_events,
        identified_total.modelled_events,
        fct_total.events as fct_events
    from staged_total
    cross join identified_total
    cross join fct_total
    where
        staged_total.events <> identified_total.events
        or identified_total.modelled_events <> fct_total.events
)

select * from final
