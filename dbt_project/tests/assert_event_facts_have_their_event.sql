-- Every page view and every AI generation the last build wrote is an event of fct_events:
-- dbt's `relationships` test, on the event's day and id. fct_events' unique index is on
-- that pair (the day leads, so that an hour's new events touch its newest pages); on the
-- id alone the relationship read all of fct_events for each model (over 4 minutes at
-- 10 M events, the two side by side). Fails with the rows that have no event.
{{ config(meta={"dagster": {"ref": {"name": "fct_page_views"}}}) }}
with

fct_events as (
    select * from {{ ref('fct_events') }}
),

page_views as (
    select * from {{ ref('fct_page_views') }}
),

generations as (
    select * from {{ ref('fct_ai_generations') }}
),

checked as (
    select
        'fct_page_views' as model,
        page_views.event_id,
        page_views.viewed_date as event_date
    from page_views
    where {{ last_written(ref('fct_page_views'), 'page_views') }}
    union all
    select
        'fct_ai_generations' as model,
        generations.event_id,
        generations.generated_date as event_date
    from generations
    where {{ last_written(ref('fct_ai_generations'), 'generations') }}
),

final as (
    select checked.*
    from checked
    where not exists (
        select fct_events.event_id
        from fct_events
        where
            fct_events.occurred_date = checked.event_date
            and fct_events.event_id = checked.event_id
    )
)

select * from final
