with

source as (
    select * from {{ source('raw', 'events') }}
),

renamed as (
    select
        event_id,
        session_id,
        user_id,
        anonymous_id,
        event_name,
        channel,
        -- Personal data stays in raw: the WhatsApp phone number and identify traits are
        -- left out here and reach marts only as pseudonymous keys.
        coalesce(payload -> 'properties', '{}'::jsonb) - 'contact' as properties,
        coalesce(payload -> 'context', '{}'::jsonb) as context,
        occurred_at,
        received_at,
        loaded_at,
        load_id
    from source
)

select * from renamed
