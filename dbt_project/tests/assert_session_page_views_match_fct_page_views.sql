-- A session's page_view_count, entry_page and exit_page agree with its rows in
-- fct_page_views (count, is_entry and is_exit). Fails with the sessions that disagree,
-- among those either model wrote in the last build (macro last_written).
{{ config(meta={"dagster": {"ref": {"name": "fct_sessions"}}}) }}
with

-- not materialized: read twice, a CTE would be copied whole; inlined, each read keeps
-- its own filters
fct_sessions as not materialized (
    select * from {{ ref('fct_sessions') }}
),

fct_page_views as not materialized (
    select * from {{ ref('fct_page_views') }}
),

tested_sessions as (
    select fct_sessions.session_id
    from fct_sessions
    where {{ last_written(ref('fct_sessions'), 'fct_sessions') }}
    union
    select fct_page_views.session_id
    from fct_page_views
    where {{ last_written(ref('fct_page_views'), 'fct_page_views') }}
),

page_views_by_session as (
    select
        session_id,
        count(*) as page_views,
        count(*) filter (where is_entry) as entries,
        count(*) filter (where is_exit) as exits,
        max(path) filter (where is_entry) as entry_path,
        max(path) filter (where is_exit) as exit_path
    from fct_page_views
    where session_id in (select tested_sessions.session_id from tested_sessions)
    group by session_id
),

final as (
    select
        fct_sessions.session_id,
        fct_sessions.page_view_count,
        page_views_by_session.page_views,
        fct_sessions.entry_page,
        page_views_by_session.entry_path,
        fct_sessions.exit_page,
        page_views_by_session.exit_path
    from fct_sessions
    left join page_views_by_session
        on fct_sessions.session_id = page_views_by_session.session_id
    where
        fct_sessions.session_id in (select tested_sessions.session_id from tested_sessions)
        and (
            fct_sessions.page_view_count <> coalesce(page_views_by_session.page_views, 0)
            or (
                fct_sessions.page_view_count > 0
                and (
                    page_views_by_session.entries <> 1
                    or page_views_by_session.exits <> 1
                    or fct_sessions.entry_page is distinct from page_views_by_session.entry_path
                    or fct_sessions.exit_page is distinct from page_views_by_session.exit_path
                )
            )
        )
)

select * from final
