-- One row per identified user: the personal data of their latest identify call. The only
-- place names, emails and phone numbers leave raw; it reads the raw source directly so no
-- other layer ever holds them (readable by analytics_pii, not by analytics_bi).
--
-- Incremental: the people with an identify call loaded since this mart's last run are
-- recomputed from all their identify calls (raw.events' index on identify calls by
-- user_id); rebuilding every person each refresh read the enrichment of each person's
-- latest call by its random event_id, 125 k look-ups at 10 M events.
{{
    config(
        materialized='incremental',
        unique_key='user_key',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['user_key'], 'unique': true},
            {'columns': ['refreshed_load_id']},
        ],
    )
}}

with

{% if is_incremental() %}
    identified_since as materialized (
        select distinct new_calls.user_id
        from {{ source('raw', 'events') }} as new_calls
        where
            new_calls.load_id > {{ last_run_stamp() }}
            and new_calls.event_name = 'identify'
            and new_calls.user_id is not null
    ),

{% endif %}
identify_calls as (
    select
        event_id,
        user_id,
        payload -> 'traits' as traits,
        occurred_at
    from {{ source('raw', 'events') }}
    where
        event_name = 'identify'
        and user_id is not null
        and payload ? 'traits'
        and {{ when_incremental(
            'user_id = any(array(select identified_since.user_id from identified_since))'
        ) }}
),

enrichment as (
    select * from {{ ref('stg_raw__event_enrichment') }}
),

latest as (
    select distinct on (identify_calls.user_id)
        identify_calls.user_id,
        nullif(identify_calls.traits ->> 'email', '') as email,
        nullif(identify_calls.traits ->> 'phone', '') as phone,
        nullif(identify_calls.traits ->> 'name', '') as full_name,
        enrichment.phone_key,
        identify_calls.occurred_at as identified_at
    from identify_calls
    left join enrichment on identify_calls.event_id = enrichment.event_id
    order by
        identify_calls.user_id asc, identify_calls.occurred_at desc, identify_calls.event_id desc
),

final as (
    select
        user_id as user_key,
        user_id,
        email,
        phone,
        full_name,
        phone_key,
        identified_at,
        {{ run_stamp() }} as refreshed_load_id
    from latest
)

select * from final
