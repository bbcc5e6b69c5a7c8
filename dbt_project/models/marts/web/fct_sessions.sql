-- Incremental: the sessions rewritten since this mart's last run, and every id their events
-- had before, are deleted (pre-hook) and copied again from int_web_sessions.
-- (an index alone answers a range's median duration: docs/benchmarks.md)
{{ session_mart([
    {'columns': ['session_id'], 'unique': true},
    {'columns': ['started_date', 'started_at']},
    {'columns': ['started_date', 'duration_seconds']},
]) }}
{{ depends_on_changes() }}

with

sessions as (
    select sessions.* from {{ ref('int_web_sessions') }} as sessions
    {% if is_incremental() -%}
        where sessions.session_id in ({{ touched_web_sessions() }})
    {%- endif %}
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
        started_date,
        {{ run_stamp() }} as refreshed_load_id
    from sessions
)

select * from final
{{ in_day_order('started_date') }}
