-- Every bounced session has exactly one row in fct_page_views (METRICS.md, Web sessions:
-- Bounce). Fails with the bounced sessions and their page view count.
with

fct_sessions as (
    select * from {{ ref('fct_sessions') }}
),

fct_page_views as (
    select * from {{ ref('fct_page_views') }}
),

page_views_by_session as (
    select
        session_id,
        count(*) as page_views
    from fct_page_views
    group by session_id
),

final as (
    select
        fct_sessions.session_id,
        coalesce(page_views_by_session.page_views, 0) as page_views
    from fct_sessions
    left join page_views_by_session
        on fct_sessions.session_id = page_views_by_session.session_id
    where
        fct_sessions.is_bounce
        and coalesce(page_views_by_session.page_views, 0) <> 1
)

select * from final
