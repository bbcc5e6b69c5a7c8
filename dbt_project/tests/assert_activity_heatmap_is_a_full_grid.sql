-- activity_heatmap has every channel x day-of-week x hour cell (3 x 7 x 24 = 504), so BI
-- tools never have to fill holes. Fails with the row count when it is not 504.
with

activity_heatmap as (
    select * from {{ ref('activity_heatmap') }}
),

final as (
    select count(*) as cells
    from activity_heatmap
    having count(*) <> 3 * 7 * 24
)

select * from final
