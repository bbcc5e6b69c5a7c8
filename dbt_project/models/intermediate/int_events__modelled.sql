-- The events the models are built from: every event of int_events__identified except those
-- that arrived too late for an incremental refresh (METRICS.md, Events: late event). A full
-- refresh models every event, so there this is all of them.
-- Its rows carry int_events__identified's refreshed_load_id: its tests read the rows the last
-- build wrote, as an incremental model's do (macro get_where_subquery).
{{ config(materialized='view', meta={'stamped_rows': true}) }}
-- One plain select, no CTEs: PostgreSQL flattens it into the queries that read it, so their
-- ORDER BY ... LIMIT and join conditions reach int_events__identified's indexes (a view
-- written with CTEs stays a subquery: the highest stamp took a scan of every event).

select
    event_id,
    client_session_id,
    user_key,
    user_id,
    anonymous_id,
    contact_key,
    event_name,
    channel,
    page_path,
    page_title,
    referrer,
    device_type,
    browser,
    os,
    country_code,
    contact_country_code,
    city,
    properties,
    is_identified,
    occurred_at,
    load_id,
    is_too_late,
    refreshed_load_id,
    previous_user_keys
from {{ ref('int_events__identified') }}
where not is_too_late
