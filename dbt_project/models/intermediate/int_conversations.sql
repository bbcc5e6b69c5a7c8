-- One row per WhatsApp conversation (METRICS.md, Conversations). Per contact, a
-- conversation opens with an inbound message when none is open and closes at the first of:
-- a chat.resolved (resolved, ended then) or 30 minutes or more with no message in either
-- direction (dropped, ended at its last message). One within 30 minutes of the WhatsApp
-- watermark with no resolution is open. Outbound messages while none is open belong to none.
--
-- Incremental: the conversations of every contact with a WhatsApp event rewritten since the
-- last run, and of every contact with an open conversation (the watermark moved), are
-- recomputed from all that contact's messages and replace the contact's rows.
{{
    config(
        materialized='incremental',
        unique_key='contact_key',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['conversation_id'], 'unique': true},
            {'columns': ['contact_key']},
            {'columns': ['refreshed_load_id']},
        ],
    )
}}

with

{% if is_incremental() %}
    touched_contacts as materialized (
        select changed.contact_key
        from {{ ref('int_events__modelled') }} as changed
        where
            changed.channel = 'whatsapp'
            and changed.contact_key is not null
            and {{ changed_since_last_run('changed') }}
        union
        select previous.contact_key
        from {{ this }} as previous
        where previous.status = 'open'
    ),

{% endif %}
events as (
    select * from {{ ref('int_events__modelled') }}
    where
        channel = 'whatsapp' and contact_key is not null
        and {{ in_scope('contact_key') }}
),

messages as (
    select * from {{ ref('int_whatsapp_messages') }}
    where
        contact_key is not null
        and {{ in_scope('contact_key') }}
),

run_stamp as materialized (
    select {{ run_stamp() }} as refreshed_load_id
),

-- materialized: computed once, not once per conversation
watermark as materialized (
    select max(occurred_at) as watermark_at
    from {{ ref('int_events__modelled') }}
    where channel = 'whatsapp'
),

resolutions as (
    select
        event_id,
        contact_key,
        occurred_at
    from events
    where event_name = 'chat.resolved'
),

timeline as (
    select
        contact_key,
        'message' as kind,
        message_id as item_id,
        direction,
        sent_at as occurred_at
    from messages
    union all
    select
        contact_key,
        'resolution' as kind,
        event_id as item_id,
        null as direction,
        occurred_at
    from resolutions
),

with_last_message as (
    select
        *,
        max(case when kind = 'message' then occurred_at end) over (
            partition by contact_key
            order by occurred_at, kind, item_id
            rows between unbounded preceding and 1 preceding
        ) as last_message_at
    from timeline
),

-- A resolution closes what is open only when it comes before the 30 minutes of silence.
effective as (
    select *
    from with_last_message
    where
        kind = 'message'
        or (
            last_message_at is not null
            and occurred_at - last_message_at
            < interval '{{ var("conversation_timeout_minutes") }} minutes'
        )
),

boundaries as (
    select
        *,
        case
            when lag(kind) over by_contact = 'resolution' then 1
            when
                kind = 'message'
                and (
                    last_message_at is null
                    or occurred_at - last_message_at
                    >= interval '{{ var("conversation_timeout_minutes") }} minutes'
                )
                then 1
            else 0
        end as starts_segment
    from effective
    window by_contact as (partition by contact_key order by occurred_at, kind, item_id)
),

segmented as (
    select
        *,
        sum(starts_segment) over (
            partition by contact_key
            order by occurred_at, kind, item_id
            rows between unbounded preceding and current row
        ) as segment_number
    from boundaries
),

segment_bounds as (
    select
        contact_key,
        segment_number,
        min(occurred_at) filter (
            where kind = 'message' and direction = 'inbound'
        ) as started_at,
        max(occurred_at) filter (where kind = 'resolution') as resolved_at,
        (array_agg(item_id order by occurred_at) filter (where kind = 'resolution'))[1]
            as resolution_event_id
    from segmented
    group by contact_key, segment_number
),

conversation_messages as (
    select
        segmented.contact_key,
        segmented.segment_number,
        segment_bounds.started_at,
        messages.message_id,
        messages.event_id as message_event_id,
        messages.direction,
        messages.sender_type,
        messages.sent_at
    from segmented
    inner join segment_bounds
        on
            segmented.contact_key = segment_bounds.contact_key
            and segmented.segment_number = segment_bounds.segment_number
    inner join messages on segmented.item_id = messages.message_id
    where
        segmented.kind = 'message'
        and segment_bounds.started_at is not null
        and segmented.occurred_at >= segment_bounds.started_at
),

conversations as (
    select
        conversation_messages.contact_key,
        conversation_messages.segment_number,
        conversation_messages.started_at,
        (
            array_agg(conversation_messages.message_event_id order by conversation_messages.sent_at)
            filter (where conversation_messages.direction = 'inbound')
        )[1
        ] as first_event_id,
        max(conversation_messages.sent_at) as last_message_at,
        count(*) as message_count,
        count(*) filter (where conversation_messages.direction = 'inbound') as inbound_count,
        count(*) filter (where conversation_messages.direction = 'outbound') as outbound_count,
        min(conversation_messages.sent_at) filter (
            where
            conversation_messages.direction = 'outbound'
            and conversation_messages.sent_at > conversation_messages.started_at
        ) as first_response_at
    from conversation_messages
    group by
        conversation_messages.contact_key,
        conversation_messages.segment_number,
        conversation_messages.started_at
),

final as (
    select
        'conv_' || md5(conversations.first_event_id) as conversation_id,
        conversations.contact_key,
        segment_bounds.resolution_event_id,
        case
            when segment_bounds.resolved_at is not null then 'resolved'
            when
                watermark.watermark_at - conversations.last_message_at
                < interval '{{ var("conversation_timeout_minutes") }} minutes'
                then 'open'
            else 'dropped'
        end as status,
        conversations.message_count,
        conversations.inbound_count,
        conversations.outbound_count,
        conversations.started_at,
        conversations.first_response_at,
        conversations.last_message_at,
        case
            when segment_bounds.resolved_at is not null then segment_bounds.resolved_at
            when
                watermark.watermark_at - conversations.last_message_at
                < interval '{{ var("conversation_timeout_minutes") }} minutes'
                then null
            else conversations.last_message_at
        end as ended_at,
        (select run_stamp.refreshed_load_id from run_stamp) as refreshed_load_id
    from conversations
    inner join segment_bounds
        on
            conversations.contact_key = segment_bounds.contact_key
            and conversations.segment_number = segment_bounds.segment_number
    cross join watermark
)

select * from final
