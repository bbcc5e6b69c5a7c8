-- One row per day and page path: views, sessions, entries and exits (top pages, entry and
-- exit pages).
{{ daily_mart('activity_date') }}

with

page_views as (
    select * from {{ ref('fct_page_views') }}
    where {{ on_changed_days('viewed_date') }}
),

final as (
    select
        viewed_date as activity_date,
        path,
        count(*) as page_views,
        count(distinct session_id) as sessions,
        count(*) filter (where is_entry) as entries,
        count(*) filter (where is_exit) as exits,
        avg(seconds_to_next_view) as avg_seconds_to_next_view,
        {{ run_stamp() }} as refreshed_load_id
    from page_views
    group by viewed_date, path
)

select * from final
