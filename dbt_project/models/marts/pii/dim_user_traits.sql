-- One row per identified user: the personal data of their latest identify call. The only
-- place names, emails and phone numbers leave raw; it reads the raw source directly so no
-- other layer ever holds them (readable by analytics_pii, not by analytics_bi).
with

identify_calls as (
    select
        event_id,
        user_id,
        payload -> 'traits' as traits,
        occurred_at
    from {{ source('raw', 'events') }}
    where event_name = 'identify' and user_id is not null and payload ? 'traits'
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
        identified_at
    from latest
)

select * from final
