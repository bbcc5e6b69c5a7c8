-- One row per accepted event, with the person it belongs to (METRICS.md, People).
--
-- Incremental (DESIGN.md: recompute touched entities, not new rows): a refresh takes the
-- events loaded since the last one (load_id is the commit order), plus every event whose
-- person a newly loaded identify can change: the events of its anonymousId and of the
-- WhatsApp contact with its traits.phone. The identity maps are always computed from all
-- identify calls, so the full build is the same SQL without the scope filter.
--
-- Late data (METRICS.md, Events): a newly loaded event more than `late_arrival_days` older
-- than its channel's watermark before this refresh is kept here flagged `is_too_late`;
-- `int_events__modelled` (what every model downstream reads) leaves it out until the next
-- full refresh, which models everything. `refreshed_load_id` stamps the rows each run wrote,
-- so the incremental models downstream find what changed (new rows and re-attributed ones).
-- The index on `classificationId` finds the feedback naming a classification
-- (fct_ai_classifications, int_changed_days): without it, each refresh read every event to
-- find a few (19.5 s at 10 M events). The partial index on the too-late rows serves the
-- warning check that counts them (orchestration/defs/transform/checks.py), which otherwise
-- read every event (10.6 s at 10 M events).
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['load_id']},
            {'columns': ['refreshed_load_id']},
            {'columns': ['contact_key']},
            {'columns': ['client_session_id']},
            {'columns': ['user_key']},
            {'columns': ['channel', 'occurred_at']},
            {'columns': ['occurred_at']},
            {'columns': ["(properties ->> 'classificationId')"]},
        ],
        post_hook="{{ partial_index(['occurred_at'], 'is_too_late') }}",
    )
}}

{#- An incremental run reads the events in scope and their enrichment from two small CTEs
    (below); a full build reads them all. #}
{%- set scoped_events = "events_in_scope" if is_incremental() else "events" %}
{%- set scoped_enrichment = "enrichment_in_scope" if is_incremental() else "enrichment" %}

with

-- not materialized: each use is planned with its own filters (an incremental run reads a
-- few index ranges, not the whole history)
events as not materialized (
    select * from {{ ref('stg_raw__events') }}
),

enrichment as not materialized (
    select * from {{ ref('stg_raw__event_enrichment') }}
),

-- Events are modelled once enriched: an extract running beside the refresh may commit
-- batches after the enrichment step read its input; those wait for the next refresh.
-- (From the view itself: its load_id index answers max(), which it does not through a
-- CTE, where the planner scanned 9.8 M rows.)
enriched_through as materialized (
    select coalesce(max(load_id), 0) as load_id
    from {{ ref('stg_raw__event_enrichment') }}
),

{% if is_incremental() %}
    -- each channel's watermark as the previous refresh left it
    watermarks as materialized (
        select
            channels.channel,
            (
                select max(modelled.occurred_at)
                from {{ this }} as modelled
                where modelled.channel = channels.channel and not modelled.is_too_late
            ) as watermark_at
        from (values ('web'), ('whatsapp'), ('ai')) as channels (channel)
    ),

    -- The newly loaded events, and their enrichment (same load_id), read as load_id ranges:
    -- consecutive pages of both tables. Looking each one up by event_id instead (random
    -- pages of two 10 M-row primary keys) took 15 of this model's 21 s for one busy hour
    -- at 10 M events (docs/benchmarks.md).
    new_events as materialized (
        select events.*
        from events
        where
            events.load_id > {{ last_run_stamp('load_id') }}
            and events.load_id <= (select enriched_through.load_id from enriched_through)
    ),

    new_enrichment as materialized (
        select enrichment.*
        from enrichment
        where
            enrichment.load_id > {{ last_run_stamp('load_id') }}
            and enrichment.load_id <= (select enriched_through.load_id from enriched_through)
    ),

    new_identify_calls as (
        select
            new_events.anonymous_id,
            new_enrichment.phone_key
        from new_events
        left join new_enrichment on new_events.event_id = new_enrichment.event_id
        where new_events.event_name = 'identify' and new_events.user_id is not null
    ),

    -- Events loaded before whose person a new identify can change: index look-ups
    -- (= any(array(...))) of its anonymousId and of the contact with its traits.phone.
    reattributed as (
        select events.event_id
        from events
        where
            events.anonymous_id = any(array(
                select new_identify_calls.anonymous_id from new_identify_calls
                where new_identify_calls.anonymous_id is not null
            ))
            and events.load_id <= {{ last_run_stamp('load_id') }}
        union
        select enrichment.event_id
        from enrichment
        where
            enrichment.contact_key = any(array(
                select new_identify_calls.phone_key from new_identify_calls
                where new_identify_calls.phone_key is not null
            ))
            and enrichment.load_id <= {{ last_run_stamp('load_id') }}
    ),

    events_in_scope as (
        select * from new_events
        union all
        select events.*
        from events
        where events.event_id = any(array(select reattributed.event_id from reattributed))
    ),

    enrichment_in_scope as (
        select * from new_enrichment
        union all
        select enrichment.*
        from enrichment
        where enrichment.event_id = any(array(select reattributed.event_id from reattributed))
    ),

{% else %}
    identify_calls as (
        select
            events.event_id,
            events.anonymous_id,
            events.user_id,
            enrichment.phone_key,
            events.occurred_at
        from events
        left join enrichment on events.event_id = enrichment.event_id
        where events.event_name = 'identify' and events.user_id is not null
    ),

    -- An identify links its anonymousId to its userId for past and future events; when one
    -- anonymousId was identified as several users, the first identify wins.
    stitched_anonymous_ids as (
        select distinct on (anonymous_id)
            anonymous_id,
            user_id
        from identify_calls
        where anonymous_id is not null
        order by anonymous_id asc, occurred_at asc, event_id asc
    ),

    -- A WhatsApp contact whose phone equals an identified user's traits.phone is that user.
    users_by_phone as (
        select distinct on (phone_key)
            phone_key,
            user_id
        from identify_calls
        where phone_key is not null
        order by phone_key asc, occurred_at asc, event_id asc
    ),

{% endif %}
resolved as (
    select
        events.event_id,
        events.session_id as client_session_id,
        events.anonymous_id,
        enrichment.contact_key,
        coalesce(
            events.user_id, stitched_anonymous_ids.user_id, users_by_phone.user_id
        ) as user_id,
        events.event_name,
        events.channel,
        events.page_path,
        events.page_title,
        events.referrer,
        coalesce(enrichment.device_type, 'unknown') as device_type,
        coalesce(enrichment.browser, 'unknown') as browser,
        coalesce(enrichment.os, 'unknown') as os,
        events.country_code,
        enrichment.contact_country_code,
        events.city,
        events.properties,
        events.occurred_at,
        events.load_id,
        {% if is_incremental() -%}
            coalesce(previous_rows.is_too_late, false)
            or (
                events.load_id > {{ last_run_stamp('load_id') }}
                and coalesce(
                    events.occurred_at < watermarks.watermark_at
                    - interval '{{ var("late_arrival_days") }} days',
                    false
                )
            ) as is_too_late,
            previous_rows.user_key as earlier_user_key,
            coalesce(previous_rows.previous_user_keys, '[]'::jsonb) as earlier_user_keys
        {%- else -%}
            false as is_too_late,
            null::text as earlier_user_key,
            '[]'::jsonb as earlier_user_keys
        {%- endif %}
    from {{ scoped_events }} as events
    left join {{ scoped_enrichment }} as enrichment on events.event_id = enrichment.event_id
    {% if is_incremental() -%}
        -- The scope is a few thousand events: each looks its person up in the indexes of
        -- raw (first identify of its anonymousId, of its contact's phone) rather than
        -- joining maps of every identify, which the planner, expecting a handful of rows
        -- from `= any(array(...))`, nested-looped (183 s at 10 M events). Correlated
        -- look-ups, which a CTE cannot be (hence the ST05 exemptions).
        left join lateral (  -- noqa: ST05
            select identify.user_id
            from events as identify
            where
                identify.anonymous_id = events.anonymous_id
                and identify.event_name = 'identify'
                and identify.user_id is not null
            order by identify.occurred_at asc, identify.event_id asc
            limit 1
        ) as stitched_anonymous_ids on true
        left join lateral (  -- noqa: ST05
            select identify.user_id
            from events as identify
            where
                identify.event_id = any(array(
                    select phones.event_id from enrichment as phones
                    where phones.phone_key = enrichment.contact_key
                ))
                and identify.event_name = 'identify'
                and identify.user_id is not null
            order by identify.occurred_at asc, identify.event_id asc
            limit 1
        ) as users_by_phone on true
        left join watermarks on events.channel = watermarks.channel
        -- each event's row as the previous run left it, looked up by its key: as a plain
        -- join the planner, misjudging the scope's size, merged it with the whole table
        left join lateral (  -- noqa: ST05
            select
                earlier.is_too_late,
                earlier.user_key,
                earlier.previous_user_keys
            from {{ this }} as earlier
            -- (event_id is the key: one row or none, in any order)
            where earlier.event_id = events.event_id
            limit 1  -- noqa: AM09
        ) as previous_rows on true
    {%- else -%}
        left join stitched_anonymous_ids
            on events.anonymous_id = stitched_anonymous_ids.anonymous_id
        left join users_by_phone on enrichment.contact_key = users_by_phone.phone_key
    {%- endif %}
    where events.load_id <= (select enriched_through.load_id from enriched_through)
),

final as (
    select
        event_id,
        client_session_id,
        coalesce(user_id, anonymous_id, contact_key) as user_key,
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
        user_id is not null as is_identified,
        occurred_at,
        load_id,
        is_too_late,
        (select enriched_through.load_id from enriched_through) as refreshed_load_id,
        -- every person the event belonged to before (marts recompute them too)
        case
            when earlier_user_key <> coalesce(user_id, anonymous_id, contact_key)
                then earlier_user_keys || to_jsonb(earlier_user_key)
            else earlier_user_keys
        end as previous_user_keys
    from resolved
)

select * from final
{%- if not is_incremental() %}
    -- Written in time order: the daily marts read the events of a few changed days
    -- (macro on_changed_days) through the index on occurred_at, a few thousand contiguous
    -- pages; in the order the identity joins left them, those days were spread over every
    -- page and each daily mart read the whole table (3.2 GB at 10 M events). Incremental
    -- runs append new events at the end, which keeps the order.
    order by occurred_at
{%- endif %}
