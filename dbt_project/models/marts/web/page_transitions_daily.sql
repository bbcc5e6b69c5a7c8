-- One row per day, page and the page viewed next in the same session: the flow chart.
{{ daily_mart('activity_date') }}

with

page_views as (
    select * from {{ ref('fct_page_views') }}
    where {{ on_changed_days('viewed_date') }}
),

final as (
    select
        viewed_date as activity_date,
        path as from_path,
        next_path as to_path,
        count(*) as transitions,
        {{ run_stamp() }} as refreshed_load_id
    from page_views
    where next_path is not null
    group by viewed_date, path, next_path
)

select * from final
