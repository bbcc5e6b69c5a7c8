-- One row per day and duration bucket: sessions by length.
with

sessions as (
    select * from {{ ref('int_web_sessions') }}
),

buckets as (
    select *
    from (
        values
        (1, '0-10 s', 0, 10),
        (2, '10-30 s', 10, 30),
        (3, '30-60 s', 30, 60),
        (4, '1-3 min', 60, 180),
        (5, '3-10 min', 180, 600),
        (6, '10-30 min', 600, 1800),
        (7, '30+ min', 1800, null)
    ) as bucket (bucket_order, bucket, lower_seconds, upper_seconds)
),

final as (
    select
        sessions.started_date as activity_date,
        buckets.bucket,
        buckets.bucket_order,
        count(*) as sessions
    from sessions
    inner join buckets
        on
            sessions.duration_seconds >= buckets.lower_seconds
            and (buckets.upper_seconds is null or sessions.duration_seconds < buckets.upper_seconds)
    group by sessions.started_date, buckets.bucket, buckets.bucket_order
)

select * from final
