-- Each day's page_stats_daily adds up to fct_page_views: views, entries and exits. Fails with
-- the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "page_stats_daily"}}}) }}
with

page_stats_daily as (
    select * from {{ ref('page_stats_daily') }}
),

fct_page_views as (
    select * from {{ ref('fct_page_views') }}
),

stats_by_day as (
    select
        activity_date,
        sum(page_views) as page_views,
        sum(entries) as entries,
        sum(exits) as exits
    from page_stats_daily
    group by activity_date
),

page_views_by_day as (
    select
        viewed_date as activity_date,
        count(*) as page_views,
        count(*) filter (where is_entry) as entries,
        count(*) filter (where is_exit) as exits
    from fct_page_views
    group by viewed_date
),

final as (
    select
        coalesce(stats_by_day.activity_date, page_views_by_day.activity_date) as activity_date,
        stats_by_day.page_views as stats_page_views,
        page_views_by_day.page_views as fct_page_views,
        stats_by_day.entries as stats_entries,
        page_views_by_day.entries as fct_entries,
        stats_by_day.exits as stats_exits,
        page_views_by_day.exits as fct_exits
    from stats_by_day
    full outer join page_views_by_day
        on stats_by_day.activity_date = page_views_by_day.activity_date
    where
        stats_by_day.page_views is distinct from page_views_by_day.page_views
        or stats_by_day.entries is distinct from page_views_by_day.entries
        or stats_by_day.exits is distinct from page_views_by_day.exits
)

select * from final
