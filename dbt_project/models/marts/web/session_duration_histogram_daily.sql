-- One row per day and duration bucket: sessions by length.
{{ daily_mart('activity_date') }}

with

sessions as (
    select * from {{ ref('int_web_sessions') }}
    where {{ on_changed_days('started_date') }}
),

final as (
    select
        sessions.started_date as activity_date,
        buckets.bucket,
        buckets.bucket_order,
        count(*) as sessions,
        {{ run_stamp() }} as refreshed_load_id
    from sessions
    inner join {{ bucket_relation('session_duration_seconds') }}
        on {{ bucket_join('sessions.duration_seconds') }}
    group by sessions.started_date, buckets.bucket, buckets.bucket_order
)

select * from final
