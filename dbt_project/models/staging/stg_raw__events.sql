-- One select, no CTEs (unlike the layout of every other model): PostgreSQL does not
-- flatten a view that has a WITH list into the query that reads it, so a join to it
-- could never look rows up in raw's indexes; the incremental models, which join a
-- few thousand events to it, hashed the whole table instead (docs/benchmarks.md).
select
    event_id,
    nullif(trim(session_id), '') as session_id,
    nullif(trim(user_id), '') as user_id,
    nullif(trim(anonymous_id), '') as anonymous_id,
    event_name,
    channel,
    nullif(payload -> 'properties' ->> 'path', '') as page_path,
    payload -> 'properties' ->> 'title' as page_title,
    nullif(payload -> 'properties' ->> 'referrer', '') as referrer,
    upper(nullif(payload -> 'context' ->> 'country', '')) as country_code,
    nullif(payload -> 'context' ->> 'city', '') as city,
    nullif(payload -> 'context' ->> 'locale', '') as locale,
    -- Personal data stays in raw: the WhatsApp phone number and identify traits are
    -- left out here and reach marts only as pseudonymous keys.
    coalesce(payload -> 'properties', '{}'::jsonb) - 'contact' as properties,
    occurred_at,
    received_at,
    loaded_at,
    load_id
from {{ source('raw', 'events') }}
