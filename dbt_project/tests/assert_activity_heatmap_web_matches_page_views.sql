-- The web cells of activity_heatmap add up to the page views of fct_page_views (METRICS.md,
-- Activity heatmap: web counts page_views). Fails with both totals when they differ.
{{ config(meta={"dagster": {"ref": {"name": "activity_heatmap"}}}) }}
with

activity_heatmap as (
    select * from {{ ref('activity_heatmap') }}
),

fct_page_views as (
    select * from {{ ref('fct_page_views') }}
),

heatmap_total as (
    select sum(events) as events
    from activity_heatmap
    where channel = 'web'
),

page_view_total as (
    select count(*) as page_views
    from fct_page_views
),

final as (
    select
        heatmap_total.events as heatmap_web_events,
        page_view_total.page_views as fct_page_views
    from heatmap_total
    cross join page_view_total
    where heatmap_total.events <> page_view_total.page_views
)

select * from final
