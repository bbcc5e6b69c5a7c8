-- One select, no CTEs (unlike the layout of every other model): PostgreSQL does not
-- flatten a view that has a WITH list into the query that reads it, so a join to it
-- could never look rows up in raw's indexes; the incremental models, which join a
-- few thousand events to it, hashed the whole table instead (docs/benchmarks.md).
select
    event_id,
    contact_key,
    phone_key,
    device_type,
    browser,
    os,
    contact_country as contact_country_code,
    load_id
from {{ source('raw', 'event_enrichment') }}
