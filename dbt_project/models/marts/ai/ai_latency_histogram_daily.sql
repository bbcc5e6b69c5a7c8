-- One row per day, kind, model and latency bucket (METRICS.md, AI: latency histogram):
-- requests with a latency. Every bucket is present for each day, kind and model, zero when
-- empty.
{{ daily_mart('activity_date') }}

with

requests as (
    {{ ai_requests_on_changed_days() }}
),

bucketed as (
    select
        requests.*,
        buckets.bucket_order
    from requests
    inner join {{ bucket_relation('ai_latency_ms') }}
        on {{ bucket_join('requests.latency_ms') }}
),

grid as (
    select
        groups.activity_date,
        groups.kind,
        groups.model,
        buckets.bucket,
        buckets.bucket_order
    from (select distinct
        activity_date,
        kind,
        model
    from requests) as groups
    cross join {{ bucket_relation('ai_latency_ms') }}
),

final as (
    select
        grid.activity_date,
        grid.kind,
        grid.model,
        grid.bucket,
        grid.bucket_order,
        count(bucketed.event_id) as requests,
        {{ run_stamp() }} as refreshed_load_id
    from grid
    left join bucketed
        on
            grid.activity_date = bucketed.activity_date
            and grid.kind = bucketed.kind
            and grid.model = bucketed.model
            and grid.bucket_order = bucketed.bucket_order
    group by grid.activity_date, grid.kind, grid.model, grid.bucket, grid.bucket_order
)

select * from final
