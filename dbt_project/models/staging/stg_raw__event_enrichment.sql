with

source as (
    select * from {{ source('raw', 'event_enrichment') }}
),

renamed as (
    select
        event_id,
        contact_key,
        phone_key,
        device_type,
        browser,
        os,
        contact_country as contact_country_code,
        load_id
    from source
)

select * from renamed
