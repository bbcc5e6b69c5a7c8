with

sessions as (
    select * from {{ ref('int_web_sessions') }}
),

final as (
    select
        session_id,
        user_key,
        user_id,
        entry_page,
        exit_page,
        device_type,
        browser,
        os,
        country,
        converted_journey,
        event_count,
        page_view_count,
        app_error_count,
        duration_seconds,
        is_converted,
        is_bounce,
        is_identified,
        started_at,
        ended_at,
        started_date
    from sessions
)

select * from final
